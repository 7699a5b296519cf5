package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The contract of every JSON request body, in the order it is checked:
//
//   - 415 when the body is declared as another media type (application/xml, text/plain, ...)
//     or charset than JSON's;
//   - 413 when it is larger than BodyLimit allows;
//   - 400 when it is not one JSON object in UTF-8: a syntax error, an empty body, a second
//     value, a wrong type at the top level, or the same key twice in one object at any depth
//     (a body whose meaning depends on which duplicate a parser keeps is not one request);
//   - 422 when it is an object that breaks the endpoint's rules: a field the endpoint does not
//     take, a value of the wrong type, or text with a control character other than tab and
//     newline (every such field at once).
//
// JSON is read whatever the body is labelled when the label is JSON (application/json or
// anything +json), none, or application/x-www-form-urlencoded, the label `curl -d` puts on
// whatever it sends: staff scripts send JSON that way and mean JSON. A urlencoded form that is
// not JSON fails as any other non-JSON body does (400).

// Codes of the FieldErrors this file reports.
const (
	CodeDuplicateKey     = "duplicateKey"
	CodeUnknownField     = "unknown"
	CodeWrongType        = "type"
	CodeInvalidValue     = "invalidFormat"
	CodeControlCharacter = "controlCharacter"
)

// maxBodyFieldErrors bounds the field errors of one body: an answer must not grow with a body
// full of duplicates or control characters.
const maxBodyFieldErrors = 100

// DecodeError is a request body that is not the JSON the endpoint takes: 400 (malformed, empty,
// trailing data, not an object, duplicate keys) or 415 (declared as another media type). It says
// which field where it can.
type DecodeError struct {
	Status  int
	Message string
	Errors  []FieldError
}

func (e *DecodeError) Error() string { return "decode request body: " + e.Message }

func (e *DecodeError) slug() string {
	if e.Status == http.StatusUnsupportedMediaType {
		return "unsupported-media-type"
	}
	return "malformed-body"
}

func (e *DecodeError) title() string {
	if e.Status == http.StatusUnsupportedMediaType {
		return "Unsupported media type"
	}
	return "Malformed request body"
}

func malformed(msg string, fields ...FieldError) *DecodeError {
	return &DecodeError{Status: http.StatusBadRequest, Message: msg, Errors: fields}
}

// DecodeJSON reads the request body as one JSON object into v (a pointer to a struct), strictly:
// every rule of the contract above. It returns a *DecodeError (400, 415), a *ValidationError
// (422, every field at once), or the *http.MaxBytesError of BodyLimit (413); hand any of them to
// WriteError or an ErrorMapper.
func DecodeJSON(r *http.Request, v any) error {
	raw, err := ReadJSON(r)
	if err != nil {
		return err
	}
	return UnmarshalObject(raw, v)
}

// DecodeOptionalJSON is DecodeJSON for an endpoint whose body may be left out: an empty body (or
// one of only white space) leaves v as it is.
func DecodeOptionalJSON(r *http.Request, v any) error {
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	r.Body = io.NopCloser(bytes.NewReader(raw))
	return DecodeJSON(r, v)
}

// ReadJSON reads the request body and checks that it is one JSON object (415, 413, 400 of the
// contract above), without looking at its fields: for endpoints with a decoder of their own,
// such as the order form's.
func ReadJSON(r *http.Request) ([]byte, error) {
	if err := checkMediaType(r.Header.Get("Content-Type")); err != nil {
		return nil, err
	}
	if r.Body == nil {
		return nil, malformed("the body is empty; send a JSON object")
	}
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err // the *http.MaxBytesError of BodyLimit, or the connection failed
	}
	if err := CheckJSON(raw); err != nil {
		return nil, err
	}
	return raw, nil
}

func checkMediaType(ct string) error {
	if ct == "" {
		return nil
	}
	refuse := &DecodeError{Status: http.StatusUnsupportedMediaType, Message: "send the body as application/json"}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return refuse
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return &DecodeError{Status: http.StatusUnsupportedMediaType, Message: "send the body as application/json in UTF-8"}
	}
	switch {
	case mt == "application/json", strings.HasSuffix(mt, "+json"), mt == "application/x-www-form-urlencoded":
		return nil
	}
	return refuse
}

// CheckJSON reports, as a 400 *DecodeError, why raw is not one JSON object in UTF-8 without
// duplicate keys; nil if it is one.
func CheckJSON(raw []byte) error {
	switch {
	case len(bytes.TrimSpace(raw)) == 0:
		return malformed("the body is empty; send a JSON object")
	case !utf8.Valid(raw):
		return malformed("the body is not UTF-8")
	}
	if err := syntaxError(raw); err != nil {
		return err
	}
	if t := bytes.TrimSpace(raw); t[0] != '{' {
		return malformed("the body must be a JSON object, not "+jsonValueKind(t[0]),
			FieldError{Field: "$", Code: CodeWrongType, Message: "must be an object"})
	}
	w := walk(raw)
	if len(w.duplicates) > 0 {
		return malformed("the body has the same key twice in one object", w.duplicates...)
	}
	return nil
}

// syntaxError reports a body that is not exactly one JSON value.
func syntaxError(raw []byte) error {
	if json.Valid(raw) {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	var v json.RawMessage
	err := dec.Decode(&v)
	var syntax *json.SyntaxError
	switch {
	case err == nil:
		return malformed("the body holds more than one JSON value")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return malformed("the JSON body ends too early")
	case errors.As(err, &syntax):
		return malformed(fmt.Sprintf("invalid JSON at byte %d", syntax.Offset))
	}
	return malformed("the body is not valid JSON")
}

func jsonValueKind(first byte) string {
	switch first {
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// ControlCharacters returns a FieldError for every string of raw (a value or a key) that holds a
// control character other than tab and newline; raw must have passed CheckJSON.
func ControlCharacters(raw []byte) []FieldError { return walk(raw).controls }

// HasControlCharacter reports a control character other than tab and newline: the C0 controls
// (NUL included, which no PostgreSQL text or jsonb value can hold), DEL and the C1 controls.
func HasControlCharacter(s string) bool {
	for _, r := range s {
		if r != '\t' && r != '\n' && unicode.IsControl(r) {
			return true
		}
	}
	return false
}

// walked is what one pass over a JSON body finds.
type walked struct {
	duplicates, controls []FieldError
}

// walk reads a syntactically valid JSON value token by token, tracking the path of every value
// ("contractor.name", "lines[2].amount"), and collects duplicate keys and control characters.
func walk(raw []byte) walked {
	type frame struct {
		object  bool
		path    string
		keys    map[string]bool
		key     string
		wantKey bool
		index   int
	}
	var (
		out   walked
		stack []*frame
	)
	add := func(list *[]FieldError, fe FieldError) {
		if len(*list) < maxBodyFieldErrors {
			*list = append(*list, fe)
		}
	}
	valuePath := func() string {
		if len(stack) == 0 {
			return ""
		}
		top := stack[len(stack)-1]
		if top.object {
			return joinPath(top.path, top.key)
		}
		return fmt.Sprintf("%s[%d]", top.path, top.index)
	}
	valueDone := func() {
		if len(stack) == 0 {
			return
		}
		if top := stack[len(stack)-1]; top.object {
			top.wantKey = true
		} else {
			top.index++
		}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	for {
		tok, err := dec.Token()
		if err != nil {
			return out // io.EOF: raw was checked to be valid JSON
		}
		if n := len(stack); n > 0 && stack[n-1].object && stack[n-1].wantKey {
			top := stack[n-1]
			if key, ok := tok.(string); ok {
				path := joinPath(top.path, shortKey(key))
				if top.keys[key] {
					add(&out.duplicates, FieldError{Field: path, Code: CodeDuplicateKey, Message: "appears more than once in its object"})
				}
				top.keys[key] = true
				if HasControlCharacter(key) {
					add(&out.controls, FieldError{Field: path, Code: CodeControlCharacter, Message: "the key holds a control character"})
				}
				top.key, top.wantKey = shortKey(key), false
				continue
			}
			// '}' closes the object.
			stack = stack[:n-1]
			valueDone()
			continue
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				stack = append(stack, &frame{object: true, path: valuePath(), keys: map[string]bool{}, wantKey: true})
			case '[':
				stack = append(stack, &frame{path: valuePath()})
			default: // ']'
				stack = stack[:len(stack)-1]
				valueDone()
			}
		case string:
			if HasControlCharacter(t) {
				add(&out.controls, FieldError{Field: valuePath(), Code: CodeControlCharacter,
					Message: "holds a control character; only tab and newline are allowed"})
			}
			valueDone()
		default:
			valueDone()
		}
	}
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// shortKey keeps a long key from making an error list as large as the body.
func shortKey(key string) string {
	const maxRunes = 64
	if utf8.RuneCountInString(key) <= maxRunes {
		return key
	}
	return string([]rune(key)[:maxRunes]) + "…"
}

// UnmarshalObject decodes raw, a body that passed CheckJSON, into v (a pointer to a struct) with
// every 422 rule of the contract: each top-level field is decoded on its own, so that every
// unknown field, wrongly typed value and control character is reported at once. Field names
// match exactly, case included. Inside a field the first problem is reported.
func UnmarshalObject(raw []byte, v any) error {
	var verr ValidationError
	for _, fe := range ControlCharacters(raw) {
		verr.Add(fe.Field, fe.Code, fe.Message)
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Struct {
		if err := decodeValue("", raw, v); err != nil {
			verr.Errors = append(verr.Errors, *err)
		}
		return verr.Err()
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil {
		return malformed("the body must be a JSON object")
	}
	fields := structFields(rv.Elem().Type())
	keys := make([]string, 0, len(top))
	for k := range top {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		i, known := fields[k]
		if !known {
			verr.Add(shortKey(k), CodeUnknownField, "is not a field this endpoint takes")
			continue
		}
		if err := decodeValue(k, top[k], rv.Elem().Field(i).Addr().Interface()); err != nil && !verr.has(err.Field) {
			verr.Errors = append(verr.Errors, *err)
		}
	}
	if len(verr.Errors) > maxBodyFieldErrors {
		verr.Errors = verr.Errors[:maxBodyFieldErrors]
	}
	return verr.Err()
}

func (e *ValidationError) has(field string) bool {
	return slices.ContainsFunc(e.Errors, func(fe FieldError) bool { return fe.Field == field })
}

// structFields maps the JSON names of a struct's exported fields to their index.
func structFields(t reflect.Type) map[string]int {
	index := make(map[string]int, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = f.Name
		}
		index[name] = i
	}
	return index
}

// decodeValue decodes one value strictly into dst and says what is wrong with it, at path.
func decodeValue(path string, raw []byte, dst any) *FieldError {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	err := dec.Decode(dst)
	if err == nil {
		return nil
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		field := path
		if typ.Field != "" {
			field = joinPath(path, typ.Field)
		}
		if field == "" {
			field = "$"
		}
		return &FieldError{Field: field, Code: CodeWrongType,
			Message: fmt.Sprintf("must be %s, not %s", jsonKind(typ.Type.Kind().String()), typ.Value)}
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		if unq, uerr := strconv.Unquote(name); uerr == nil {
			name = unq
		}
		return &FieldError{Field: joinPath(path, shortKey(name)), Code: CodeUnknownField, Message: "is not a field this endpoint takes"}
	}
	if path == "" {
		path = "$"
	}
	// A value of the right JSON type that its Go type refuses (a time that is not RFC 3339, a
	// decimal that is not a number); its message names the value, never anything internal.
	return &FieldError{Field: path, Code: CodeInvalidValue, Message: "is not a valid value: " + err.Error()}
}

// jsonKind names a Go kind the way a JSON client thinks of it.
func jsonKind(kind string) string {
	switch {
	case kind == "string":
		return "a string"
	case kind == "bool":
		return "a boolean"
	case strings.HasPrefix(kind, "int"), strings.HasPrefix(kind, "uint"), strings.HasPrefix(kind, "float"):
		return "a number"
	case kind == "slice", kind == "array":
		return "an array"
	case kind == "struct", kind == "map":
		return "an object"
	}
	return "of another type"
}

// WriteJSON sends v as JSON with status. If v cannot be encoded the client gets a 500 problem
// instead (nothing has been written yet at that point).
func WriteJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		slog.Error("encode JSON response", "type", fmt.Sprintf("%T", v), "error", err)
		WriteProblem(w, nil, NewProblem(http.StatusInternalServerError, "internal", "Internal Server Error", ""))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}
