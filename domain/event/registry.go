package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"time"
)

// ErrUnknownType: a record's type, or an event value's Go type, is not registered.
var ErrUnknownType = errors.New("event: unknown event type")

// DecodeError says which stored event could not be decoded. It matches ErrUndecodable.
type DecodeError struct {
	Type          string
	Stream        string
	StreamVersion uint64
	Position      Position
	Err           error
}

// ErrUndecodable: a stored event's data does not decode into its registered type.
var ErrUndecodable = errors.New("event: undecodable event")

func (e *DecodeError) Error() string {
	return fmt.Sprintf("event: decode %s at %s@%d (position %d): %v", e.Type, e.Stream, e.StreamVersion, e.Position, e.Err)
}

func (e *DecodeError) Unwrap() []error { return []error{ErrUndecodable, e.Err} }

// Registry is the one codec of the event log: it names the domain's event types, encodes them
// into drafts' data and decodes stored records back into them. Every domain package registers
// its own events with its RegisterEvents function; domain/schema registers them all.
//
// Events are always pointers to structs: decoding returns *E, and aggregates and projections
// switch on *E. A struct with an EventType() string method is stored under that name, any other
// under its Go struct name, so renaming an event struct is a schema change.
type Registry struct {
	mu    sync.RWMutex
	types map[string]reflect.Type // stored name → struct type
	names map[reflect.Type]string // struct type → stored name
	// owners: stream category → the prefix before the customer number in its stream names.
	owners map[string]string
	// secrets: stored name → the JSON paths of the fields the type declares secret (secrets.go).
	secrets map[string][][]string
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{types: make(map[string]reflect.Type), names: make(map[reflect.Type]string),
		owners: make(map[string]string), secrets: make(map[string][][]string)}
}

// RegisterCustomerStreams declares that the streams of a category are named
// "<category>-<customer number>" and hold one customer's events only (contract-N000000001):
// readers learn the customer of such an event from its envelope, without decoding it.
func (r *Registry) RegisterCustomerStreams(categories ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range categories {
		r.owners[c] = c + "-"
	}
}

// CustomerOfStream returns the customer number a stream belongs to by its name (see
// RegisterCustomerStreams); ok is false for a stream of any other category.
func (r *Registry) CustomerOfStream(stream string) (string, bool) {
	r.mu.RLock()
	prefix, ok := r.owners[Category(stream)]
	r.mu.RUnlock()
	if !ok || len(stream) <= len(prefix) {
		return "", false
	}
	return stream[len(prefix):], true
}

// Register adds event types, each given as a nil pointer of the type ((*OrderAccepted)(nil)).
// A value instead of a pointer, or two types under one name, panics: both are programming
// errors that would make stored events ambiguous.
func (r *Registry) Register(samples ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range samples {
		t := reflect.TypeOf(s)
		if t == nil || t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
			panic(fmt.Sprintf("event: register %T: events are registered as pointers to structs", s))
		}
		t = t.Elem()
		name := nameOfType(t)
		if old, ok := r.types[name]; ok && old != t {
			panic(fmt.Sprintf("event: type name %q registered for %v and %v", name, old, t))
		}
		r.types[name] = t
		r.names[t] = name
		r.secrets[name] = secretPathsOf(t)
	}
}

// Name is the stored type of a registered event value (a pointer to its struct).
func (r *Registry) Name(e any) (string, error) {
	t := reflect.TypeOf(e)
	if t == nil || t.Kind() != reflect.Pointer {
		return "", fmt.Errorf("%w: %T is not a pointer to an event struct", ErrUnknownType, e)
	}
	r.mu.RLock()
	name, ok := r.names[t.Elem()]
	r.mu.RUnlock()
	if !ok {
		return "", fmt.Errorf("%w: %T", ErrUnknownType, e)
	}
	return name, nil
}

// ErrUnstorableText: an event's data holds a NUL character (U+0000). JSON can carry it, but
// PostgreSQL's jsonb, where read models keep their documents, cannot: an event with one would
// stop every projection that copies the text. Commands refuse such input before it gets here;
// this is the last line, for whatever path forgets to.
var ErrUnstorableText = errors.New("event: text with a NUL character cannot be stored")

// Encode returns the stored type and data of a registered event value. Refusing unregistered
// types here means that whatever is appended can be decoded again; refusing data with a NUL
// (ErrUnstorableText) means that every read model can hold it.
func (r *Registry) Encode(e any) (string, []byte, error) {
	name, err := r.Name(e)
	if err != nil {
		return "", nil, err
	}
	data, err := json.Marshal(e)
	if err != nil {
		return "", nil, fmt.Errorf("event: encode %s: %w", name, err)
	}
	if containsEscapedNUL(data) {
		return "", nil, fmt.Errorf("%w (%s)", ErrUnstorableText, name)
	}
	return name, data, nil
}

// containsEscapedNUL reports whether JSON text holds the escape \u0000 (encoding/json writes a
// NUL no other way): a backslash that starts it must not itself be escaped, so the backslashes
// before "u0000" are counted.
func containsEscapedNUL(data []byte) bool {
	const esc = `u0000`
	for i := 0; ; {
		j := bytes.Index(data[i:], []byte(esc))
		if j < 0 {
			return false
		}
		at := i + j
		slashes := 0
		for k := at - 1; k >= 0 && data[k] == '\\'; k-- {
			slashes++
		}
		if slashes%2 == 1 {
			return true
		}
		i = at + len(esc)
	}
}

// Knows reports whether records of the stored type decode to a domain event.
func (r *Registry) Knows(storedType string) bool {
	r.mu.RLock()
	_, ok := r.types[storedType]
	r.mu.RUnlock()
	return ok
}

// Implements reports whether the events of a stored type are a T (an interface such as
// ForCustomer), without decoding one. False for an unknown type.
func Implements[T any](r *Registry, storedType string) bool {
	r.mu.RLock()
	t, ok := r.types[storedType]
	r.mu.RUnlock()
	return ok && reflect.PointerTo(t).Implements(reflect.TypeFor[T]())
}

// Decode returns a pointer to a new value of the record's registered type, filled from its data.
// A type the registry does not know fails with ErrUnknownType; data that does not decode fails
// with a *DecodeError.
func (r *Registry) Decode(rec Record) (any, error) {
	r.mu.RLock()
	t, found := r.types[rec.Type]
	r.mu.RUnlock()
	if !found {
		return nil, fmt.Errorf("%w: %q at %s@%d", ErrUnknownType, rec.Type, rec.Stream, rec.StreamVersion)
	}
	p := reflect.New(t)
	if err := json.Unmarshal(rec.Data, p.Interface()); err != nil {
		return nil, &DecodeError{Type: rec.Type, Stream: rec.Stream, StreamVersion: rec.StreamVersion, Position: rec.Position, Err: err}
	}
	return p.Interface(), nil
}

// nameOfType is the stored name of an event struct type: EventType() if it has one, else its
// Go name.
func nameOfType(t reflect.Type) string {
	if n, ok := reflect.New(t).Interface().(interface{ EventType() string }); ok {
		return n.EventType()
	}
	return t.Name()
}

// ForCustomer is implemented by events that concern one customer (お客様番号). The audit trail
// files them, and the other events of their stream, under that customer number.
type ForCustomer interface {
	CustomerNumberOf() string
}

// BusinessTimed is implemented by events whose business time is not the moment they are recorded
// (an order completes on its scheduled date, a back-dated acceptance): their envelope's
// effectiveAt.
type BusinessTimed interface {
	EffectiveTime() time.Time
}
