package event

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
)

// TypeName is the stored type of a domain event value: its Go struct name ("OrderAccepted").
// It matches watermill's cqrs.StructName, so the typed projection handlers find their events by
// the same name. Renaming an event struct is therefore a schema change: keep the old name.
func TypeName(v any) string {
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Name()
}

// Registry decodes stored records back into the domain event structs registered with it. A
// struct that has an EventType() string method is registered under that name, else under
// TypeName.
type Registry struct {
	mu    sync.RWMutex
	types map[string]reflect.Type
}

// NewRegistry returns a registry holding the given sample events (values or pointers).
func NewRegistry(samples ...any) *Registry {
	r := &Registry{types: make(map[string]reflect.Type)}
	r.Register(samples...)
	return r
}

// Register adds sample events. Registering two different types under one name panics: it would
// make stored events ambiguous.
func (r *Registry) Register(samples ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range samples {
		t := reflect.TypeOf(s)
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		name := t.Name()
		if n, ok := reflect.New(t).Elem().Interface().(interface{ EventType() string }); ok {
			name = n.EventType()
		}
		if old, ok := r.types[name]; ok && old != t {
			panic(fmt.Sprintf("event: type name %q registered for %v and %v", name, old, t))
		}
		r.types[name] = t
	}
}

// Decode returns a pointer to a new value of the record's registered type, filled from its data.
// ok is false for a type the registry does not know (an event of another context).
func (r *Registry) Decode(rec Record) (v any, ok bool, err error) {
	r.mu.RLock()
	t, found := r.types[rec.Type]
	r.mu.RUnlock()
	if !found {
		return nil, false, nil
	}
	p := reflect.New(t)
	if err := json.Unmarshal(rec.Data, p.Interface()); err != nil {
		return nil, true, fmt.Errorf("event: decode %s %s@%d: %w", rec.Type, rec.Stream, rec.StreamVersion, err)
	}
	return p.Interface(), true, nil
}
