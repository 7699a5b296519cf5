// Package eventtest builds sample events for tests that must cover every registered event
// type: each sample has every field filled, and every field declared secret (`secret:"KIND"`)
// filled with a value unique to it, so a test can look for those values in whatever the
// service lets out.
package eventtest

import (
	"encoding"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"

	"yorozu/domain/event"
)

// Sample is one filled event.
type Sample struct {
	Type  string
	Event any
	// Secrets are the strings the secret fields' values become in the event's JSON data (a
	// []byte as its base64); none may appear in anything the service lets out.
	Secrets []string
	// Visible are the strings the other string fields hold, which redaction keeps.
	Visible []string
}

// At is the instant every time field of a sample holds.
var At = time.Date(2025, 7, 1, 1, 2, 3, 0, time.UTC)

// Samples fills one event of every type the registry knows. Fields of a type that encodes
// itself (time.Time, a role, a date, a decimal) get a value parsed from the first of
// textCandidates it accepts, or stay zero; overrides give such types a value outright.
func Samples(r *event.Registry, overrides map[reflect.Type]any) ([]Sample, error) {
	var out []Sample
	for _, name := range r.Names() {
		e, _ := r.New(name)
		f := &filler{overrides: overrides, prefix: name}
		f.fill(reflect.ValueOf(e).Elem(), false)
		if _, err := json.Marshal(e); err != nil {
			return nil, fmt.Errorf("eventtest: sample %s does not encode (give its field types an override): %w", name, err)
		}
		out = append(out, Sample{Type: name, Event: e, Secrets: f.secrets, Visible: f.visible})
	}
	return out, nil
}

// textCandidates are tried, in order, on types that parse themselves from text.
var textCandidates = []string{"operator", "2025-07-01", "2025-07", "2025-07-01T10:00:00Z", "0.10", "1",
	"0199a0e4-1f6b-7c2e-9d34-6c1b0a7e8f21", "N000000001", "2025", "x"}

type filler struct {
	overrides map[reflect.Type]any
	prefix    string
	n         int
	secrets   []string
	visible   []string
}

var (
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	timeType        = reflect.TypeFor[time.Time]()
)

// fill sets v (settable) to a sample value; secret says v is (inside) a field declared secret.
func (f *filler) fill(v reflect.Value, secret bool) {
	t := v.Type()
	if o, ok := f.overrides[t]; ok {
		v.Set(reflect.ValueOf(o))
		return
	}
	if t == timeType {
		v.Set(reflect.ValueOf(At))
		return
	}
	if selfParsing(t) {
		f.parse(v)
		return
	}
	switch t.Kind() {
	case reflect.String:
		f.n++
		if secret {
			s := fmt.Sprintf("SECRET%03d%s", f.n, strings.ToUpper(f.prefix))
			f.secrets = append(f.secrets, s)
			v.SetString(s)
			return
		}
		s := fmt.Sprintf("visible%03d", f.n)
		f.visible = append(f.visible, s)
		v.SetString(s)
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			f.n++
			raw := fmt.Appendf(nil, "sealed-%03d-%s", f.n, f.prefix)
			if secret {
				f.secrets = append(f.secrets, base64.StdEncoding.EncodeToString(raw))
			}
			v.SetBytes(raw)
			return
		}
		s := reflect.MakeSlice(t, 1, 1)
		f.fill(s.Index(0), secret)
		v.Set(s)
	case reflect.Array:
		for i := range v.Len() {
			f.fill(v.Index(i), secret)
		}
	case reflect.Map:
		m := reflect.MakeMap(t)
		k, e := reflect.New(t.Key()).Elem(), reflect.New(t.Elem()).Elem()
		f.fill(k, false)
		f.fill(e, secret)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Pointer:
		p := reflect.New(t.Elem())
		f.fill(p.Elem(), secret)
		v.Set(p)
	case reflect.Struct:
		for i := range t.NumField() {
			sf := t.Field(i)
			if !sf.IsExported() {
				continue
			}
			kind := sf.Tag.Get("secret")
			f.fill(v.Field(i), secret || kind != "" && kind != "-")
		}
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(1)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(1)
	}
}

// selfParsing reports whether t reads itself from text (a role, a date, a decimal, a UUID)
// rather than from JSON fields the filler can fill one by one.
func selfParsing(t reflect.Type) bool {
	if t.Kind() == reflect.Pointer || t.Kind() == reflect.String {
		return false
	}
	pt := reflect.PointerTo(t)
	if pt.Implements(textUnmarshaler) {
		return true
	}
	if !pt.Implements(jsonUnmarshaler) {
		return false
	}
	if t.Kind() == reflect.Struct {
		for i := range t.NumField() {
			if t.Field(i).IsExported() {
				return false // a struct with its own decoder, but fields to fill
			}
		}
	}
	return true
}

// parse gives a self-parsing value the first candidate text it accepts.
func (f *filler) parse(v reflect.Value) {
	for _, c := range textCandidates {
		p := reflect.New(v.Type())
		var err error
		if u, ok := p.Interface().(encoding.TextUnmarshaler); ok {
			err = u.UnmarshalText([]byte(c))
		} else {
			quoted, _ := json.Marshal(c)
			err = p.Interface().(json.Unmarshaler).UnmarshalJSON(quoted)
		}
		if err == nil {
			v.Set(p.Elem())
			return
		}
	}
}
