package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"time"

	"yorozu/api/httpx"
	"yorozu/domain/calendar"
	"yorozu/domain/validation"
)

// fields reads a JSON object body one field at a time, so that every problem of the body is
// reported at once: a value of the wrong JSON type or format is a field error (422) like the
// domain's rules, not a malformed body. A body that is not a JSON object at all stays 400 and a
// body of another media type 415 (httpx.DecodeJSON).
//
// Use: readFields, one getter per field the endpoint takes, the domain's checks, then done with
// the domain's errors.
type fields struct {
	raw   map[string]json.RawMessage
	taken map[string]bool
	errs  validation.Errors
}

// readFields reads the body. With optional, an empty body reads as an empty object (commands
// whose fields all have defaults).
func readFields(r *http.Request, optional bool) (*fields, error) {
	f := &fields{raw: map[string]json.RawMessage{}, taken: map[string]bool{}}
	if optional && r.ContentLength == 0 {
		return f, nil
	}
	raw, err := httpx.ReadJSON(r)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(raw, &f.raw); err != nil {
		return nil, err
	}
	// Control characters are field errors like the others: one answer lists them all.
	for _, e := range httpx.ControlCharacters(raw) {
		f.wrong(e.Field, e.Code, e.Message)
	}
	return f, nil
}

// value returns a field's JSON, nil when it is absent or null.
func (f *fields) value(name string) json.RawMessage {
	f.taken[name] = true
	v, ok := f.raw[name]
	if !ok || bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
		return nil
	}
	return v
}

func (f *fields) wrong(name, code, message string) { f.errs.Add(name, code, "%s", message) }

// str reads a JSON string.
func (f *fields) str(name string) *string {
	v := f.value(name)
	if v == nil {
		return nil
	}
	var s string
	if v[0] != '"' || json.Unmarshal(v, &s) != nil {
		f.wrong(name, validation.CodeInvalidType, "must be a JSON string")
		return nil
	}
	return &s
}

// integer reads a JSON integer (no fraction, no exponent).
func (f *fields) integer(name string) *int64 {
	v := f.value(name)
	if v == nil {
		return nil
	}
	n, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil {
		f.wrong(name, validation.CodeInvalidType, "must be a JSON integer")
		return nil
	}
	return &n
}

// small reads a JSON integer that fits an int of 32 bits (counts, minutes).
func (f *fields) small(name string) *int {
	n := f.integer(name)
	if n == nil {
		return nil
	}
	if *n < -1<<31 || *n > 1<<31-1 {
		f.wrong(name, validation.CodeOutOfRange, "is out of range")
		return nil
	}
	i := int(*n)
	return &i
}

// instant reads an RFC 3339 instant.
func (f *fields) instant(name string) *time.Time {
	s := f.str(name)
	if s == nil {
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, *s)
	if err != nil {
		f.wrong(name, validation.CodeInvalidInstant, "must be an RFC 3339 instant, like 2025-07-01T10:00:00+09:00")
		return nil
	}
	return &t
}

// date reads a calendar date YYYY-MM-DD.
func (f *fields) date(name string) *calendar.Date {
	s := f.str(name)
	if s == nil {
		return nil
	}
	d, err := calendar.ParseDate(*s)
	if err != nil {
		f.wrong(name, validation.CodeInvalidDate, "must be a real date written YYYY-MM-DD")
		return nil
	}
	return &d
}

// done reports every problem: the decoding problems, the fields the endpoint does not take, and
// the domain's errors except those about a field that could not be decoded (the domain saw it as
// absent). It returns nil when there is none.
func (f *fields) done(domain validation.Errors) error {
	errs := f.errs
	var unknown []string
	for name := range f.raw {
		if !f.taken[name] {
			unknown = append(unknown, name)
		}
	}
	sort.Strings(unknown)
	// A body of a megabyte can hold many thousand unknown fields: the answer names the first ones.
	const maxUnknown = 20
	for i, name := range unknown {
		if i == maxUnknown {
			errs.Add("", validation.CodeUnknownField, "%d more fields this request does not take", len(unknown)-maxUnknown)
			break
		}
		if r := []rune(name); len(r) > 64 {
			name = string(r[:64]) + "…"
		}
		errs.Add(name, validation.CodeUnknownField, "is not a field of this request")
	}
	for _, e := range domain {
		if !f.errs.Has(e.Field) {
			errs = append(errs, e)
		}
	}
	return errs.Err()
}
