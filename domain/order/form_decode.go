package order

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxFormErrors bounds the list DecodeForm returns: a form has about 60 fields, so anything longer
// comes from a body full of unknown fields, and the answer must not grow with it.
const maxFormErrors = 200

// DecodeForm reads an order form from JSON and validates it, reporting every problem at once:
// unknown and duplicate fields (by path), values of the wrong JSON type, then every rule of
// Validate. A field with a decoding problem gets no further problem reported. It never panics.
//
// Decoding is strict: field names match exactly (case matters), strings must be JSON strings,
// counts JSON integers (no fraction, no exponent), flags JSON booleans; null is the same as an
// absent field. The returned Form holds every field that decoded, even when there are errors.
func DecodeForm(raw []byte) (Form, FieldErrors) {
	var f Form
	d := &formDecoder{}
	if body, ok := d.body(raw); ok {
		d.object("", body, reflect.ValueOf(&f).Elem())
	}
	errs := d.errs
	for _, e := range f.Validate() {
		if !d.failedAt(e.Field) {
			errs = append(errs, e)
		}
	}
	if len(errs) > maxFormErrors {
		errs = append(errs[:maxFormErrors:maxFormErrors], FieldError{
			Code:    CodeTooManyErrors,
			Message: "more problems were found than are listed",
		})
	}
	return f, errs
}

// formDecoder turns JSON into a Form, one level at a time: every value is first read whole as
// json.RawMessage (the standard decoder checks the syntax and bounds the nesting), then looked
// at, so a bad value in one field never stops the reading of the others.
type formDecoder struct {
	errs   FieldErrors
	failed []string // paths of fields with a decoding problem
}

// fail reports a value that could not be decoded: the rules do not look at that field again.
func (d *formDecoder) fail(field, code, message string) {
	d.report(field, code, message)
	d.failed = append(d.failed, field)
}

// report reports a problem that leaves the decoded value to the rules (an unknown field has none,
// a duplicate keeps its first value).
func (d *formDecoder) report(field, code, message string) {
	d.errs = append(d.errs, FieldError{Field: field, Code: code, Message: message})
}

// failedAt reports whether field, or an object holding it, had a decoding problem; the form as a
// whole ("") counts when the body itself could not be read.
func (d *formDecoder) failedAt(field string) bool {
	for _, p := range d.failed {
		if p == field || p == "" || strings.HasPrefix(field, p+".") {
			return true
		}
	}
	return false
}

// body checks that raw is one JSON value in UTF-8 and returns it.
func (d *formDecoder) body(raw []byte) (json.RawMessage, bool) {
	if !utf8.Valid(raw) {
		d.fail("", CodeInvalidJSON, "the body is not UTF-8")
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	var body json.RawMessage
	if err := dec.Decode(&body); err != nil {
		if errors.Is(err, io.EOF) {
			d.fail("", CodeInvalidJSON, "the body is empty")
		} else {
			d.fail("", CodeInvalidJSON, "the body is not valid JSON: "+err.Error())
		}
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		d.fail("", CodeInvalidJSON, "the body has more after the form's JSON object")
		return nil, false
	}
	return body, true
}

// object decodes a JSON object into the struct dst, field by field through the json tags.
func (d *formDecoder) object(path string, raw json.RawMessage, dst reflect.Value) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		d.fail(path, CodeInvalidType, "must be a JSON object")
		return
	}
	fields := jsonFieldIndex(dst.Type())
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		key, isKey := tok.(string)
		var value json.RawMessage
		if err != nil || !isKey || dec.Decode(&value) != nil {
			// Unreachable: raw is a complete JSON value the standard decoder already accepted.
			d.fail(path, CodeInvalidJSON, "cannot be read")
			return
		}
		field := joinPath(path, shortKey(key))
		i, known := fields[key]
		switch {
		case !known:
			d.report(field, CodeUnknownField, "is not a field of the order form")
		case seen[key]:
			d.report(field, CodeDuplicateField, "appears more than once; the first one counts")
		default:
			seen[key] = true
			d.value(field, value, dst.Field(i))
		}
	}
}

// value decodes one JSON value into dst: a string-kinded type, int, bool, a struct, or a pointer
// to one of those (nil stays nil for JSON null).
func (d *formDecoder) value(path string, raw json.RawMessage, dst reflect.Value) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return
	}
	t := dst.Type()
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	target := reflect.New(t).Elem()
	switch t.Kind() {
	case reflect.Struct:
		if raw[0] != '{' {
			d.fail(path, CodeInvalidType, "must be a JSON object")
			return
		}
		d.object(path, raw, target)
	case reflect.String:
		var s string
		if raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
			d.fail(path, CodeInvalidType, "must be a JSON string")
			return
		}
		target.SetString(s)
	case reflect.Int:
		if raw[0] != '-' && (raw[0] < '0' || raw[0] > '9') || bytes.ContainsAny(raw, ".eE") {
			d.fail(path, CodeInvalidType, "must be a JSON integer")
			return
		}
		n, err := strconv.ParseInt(string(raw), 10, strconv.IntSize)
		if err != nil {
			d.fail(path, CodeOutOfRange, "is out of range")
			return
		}
		target.SetInt(n)
	case reflect.Bool:
		if string(raw) != "true" && string(raw) != "false" {
			d.fail(path, CodeInvalidType, "must be true or false")
			return
		}
		target.SetBool(string(raw) == "true")
	default:
		// Unreachable: Form holds no other kind. Refuse rather than guess.
		d.fail(path, CodeInvalidType, "cannot be decoded")
		return
	}
	if dst.Kind() == reflect.Pointer {
		p := reflect.New(t)
		p.Elem().Set(target)
		dst.Set(p)
		return
	}
	dst.Set(target)
}

// jsonFieldIndex maps the JSON names of a struct's fields to their index.
func jsonFieldIndex(t reflect.Type) map[string]int {
	index := make(map[string]int, t.NumField())
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			index[name] = i
		}
	}
	return index
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// shortKey keeps an unknown key from making the error list as large as the body.
func shortKey(key string) string {
	const maxRunes = 64
	if utf8.RuneCountInString(key) <= maxRunes {
		return key
	}
	return string([]rune(key)[:maxRunes]) + "…"
}
