package event

import (
	"bytes"
	"encoding"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
)

// Secrets in events. Some facts must keep a secret to be useful (a password's argon2id hash, a
// TOTP secret sealed with the deployment key, the SHA-256 of a session token): the service reads
// them back, but nothing outside it ever needs them. Such a field is declared where the event is
// defined, with the struct tag `secret:"KIND"` (KIND says what it holds: hash, sealed, password,
// token), at any depth of the event struct:
//
//	PasswordHash string `json:"passwordHash" secret:"hash"`
//
// Registry.Redact removes every declared secret from an event's data; every outlet of event data
// (the audit trail, a contract's history, logs, error bodies, integration messages) passes the
// data through it. A field whose name looks like a secret (LooksSecret) but is not one says so
// with `secret:"-"`; Registry.UndeclaredSecrets lists the fields that look like secrets and say
// neither, so a test over the registry fails for an event that forgot the tag.
const secretTag = "secret"

// secretWords are the parts of a field name that make it look like a secret.
var secretWords = []string{"password", "passwd", "passphrase", "secret", "token", "hash", "sealed", "credential", "privatekey"}

// LooksSecret reports whether a field name (Go or JSON) looks like it holds a secret:
// *Hash, *Sealed*, *Password*, *Token*, *Secret* and the like, in any case.
func LooksSecret(name string) bool {
	n := strings.ToLower(name)
	for _, w := range secretWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// fieldVisit is one exported field reached while walking an event struct: its JSON path (object
// keys, "*" for every element of an array or value of an object) and its declaration.
type fieldVisit struct {
	path  []string
	field reflect.StructField
}

var (
	jsonMarshaler = reflect.TypeFor[json.Marshaler]()
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
)

// encodesItself reports whether t chooses its own JSON form (time.Time, a Role, a decimal): its
// fields are not JSON keys, so the walk does not descend into it.
func encodesItself(t reflect.Type) bool {
	return t.Implements(jsonMarshaler) || t.Implements(textMarshaler) ||
		reflect.PointerTo(t).Implements(jsonMarshaler) || reflect.PointerTo(t).Implements(textMarshaler)
}

// walkFields calls visit for every exported field of t that encoding/json writes, depth first.
// visit returns false to skip the field's own fields.
func walkFields(t reflect.Type, prefix []string, onPath map[reflect.Type]bool, visit func(fieldVisit) bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return // []byte is a base64 string
		}
		walkFields(t.Elem(), append(slices.Clip(prefix), "*"), onPath, visit)
		return
	case reflect.Map:
		walkFields(t.Elem(), append(slices.Clip(prefix), "*"), onPath, visit)
		return
	case reflect.Struct:
	default:
		return
	}
	if encodesItself(t) || onPath[t] {
		return
	}
	onPath[t] = true
	defer delete(onPath, t)
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if f.Anonymous && name == "" && ft.Kind() == reflect.Struct && !encodesItself(ft) {
			walkFields(ft, prefix, onPath, visit) // promoted fields
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		path := append(slices.Clip(prefix), name)
		if visit(fieldVisit{path: path, field: f}) {
			walkFields(f.Type, path, onPath, visit)
		}
	}
}

// secretKind is the kind a field declares with its secret tag: "" for none, "-" for a field that
// is declared not to be a secret.
func secretKind(f reflect.StructField) string { return f.Tag.Get(secretTag) }

// secretPathsOf lists the JSON paths of the fields of event struct t declared secret.
func secretPathsOf(t reflect.Type) [][]string {
	var out [][]string
	walkFields(t, nil, map[reflect.Type]bool{}, func(v fieldVisit) bool {
		if k := secretKind(v.field); k != "" && k != "-" {
			out = append(out, v.path)
			return false // the whole value goes
		}
		return true
	})
	return out
}

// undeclaredSecretsOf lists the paths of t's fields that look like secrets (LooksSecret) but
// declare neither a secret kind nor "-".
func undeclaredSecretsOf(t reflect.Type) []string {
	var out []string
	walkFields(t, nil, map[reflect.Type]bool{}, func(v fieldVisit) bool {
		switch k := secretKind(v.field); {
		case k == "-":
			return true
		case k != "":
			return false
		case LooksSecret(v.field.Name) || LooksSecret(v.path[len(v.path)-1]):
			out = append(out, strings.Join(v.path, "."))
		}
		return true
	})
	return out
}

// Names lists the stored names of every registered event type, sorted.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]string, 0, len(r.types))
	for n := range r.types {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// New returns a pointer to a new zero value of a registered event type (what Decode fills).
func (r *Registry) New(storedType string) (any, bool) {
	r.mu.RLock()
	t, ok := r.types[storedType]
	r.mu.RUnlock()
	if !ok {
		return nil, false
	}
	return reflect.New(t).Interface(), true
}

// SecretFields lists the JSON paths (dotted, "*" for every element) of the fields a registered
// event type declares secret; Redact removes them.
func (r *Registry) SecretFields(storedType string) []string {
	r.mu.RLock()
	paths := r.secrets[storedType]
	r.mu.RUnlock()
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = strings.Join(p, ".")
	}
	return out
}

// UndeclaredSecrets lists, as "Type.path", every field of a registered event type that looks
// like a secret (LooksSecret) but declares neither `secret:"KIND"` nor `secret:"-"`. A new event
// that stores a token hash without declaring it shows up here, and the registry's test fails.
func (r *Registry) UndeclaredSecrets() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []string
	for name, t := range r.types {
		for _, p := range undeclaredSecretsOf(t) {
			out = append(out, name+"."+p)
		}
	}
	slices.Sort(out)
	return out
}

// Redact returns an event's data without the fields its type declares secret: what the audit
// trail, a contract's history, logs and any other outlet may show. Data of a type without
// secrets is returned as it is. It fails closed: data of a type the registry does not know, or
// that is not JSON, is withheld entirely (nil, which encodes as null), since nobody has said
// which of its fields are secret.
func (r *Registry) Redact(storedType string, data json.RawMessage) json.RawMessage {
	r.mu.RLock()
	_, known := r.types[storedType]
	paths := r.secrets[storedType]
	r.mu.RUnlock()
	switch {
	case !known:
		return nil
	case len(paths) == 0:
		return data
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // numbers come out exactly as they went in
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil
	}
	for _, p := range paths {
		removePath(v, p)
	}
	out, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return out
}

// removePath deletes the key at the end of path from the JSON value v, wherever path reaches.
func removePath(v any, path []string) {
	if len(path) == 0 {
		return
	}
	key, rest := path[0], path[1:]
	switch x := v.(type) {
	case map[string]any:
		if key == "*" {
			for _, child := range x {
				removePath(child, rest)
			}
			return
		}
		if len(rest) == 0 {
			delete(x, key)
			return
		}
		removePath(x[key], rest)
	case []any:
		if key != "*" {
			return
		}
		for _, child := range x {
			removePath(child, rest)
		}
	}
}
