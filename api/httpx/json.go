package httpx

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// DecodeError is a request body that is not the JSON the endpoint takes: 400 (malformed, empty,
// trailing data, unknown field, wrong type) or 415 (not JSON at all). It says which field where
// it can.
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

// DecodeJSON reads the request body as exactly one JSON value into v, strictly: unknown fields
// and a second value are refused. The body is read as JSON whatever it is labelled when the label
// is JSON, none, or one of the defaults of command-line clients (curl -d sends
// application/x-www-form-urlencoded, some send text/plain); any other media type is 415. It
// returns a *DecodeError, or the *http.MaxBytesError of BodyLimit (413); hand either to
// WriteError.
func DecodeJSON(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		switch {
		case err != nil:
			return &DecodeError{Status: http.StatusUnsupportedMediaType, Message: "send the body as application/json"}
		case mt == "application/json", strings.HasSuffix(mt, "+json"),
			mt == "application/x-www-form-urlencoded", mt == "text/plain":
		default:
			return &DecodeError{Status: http.StatusUnsupportedMediaType, Message: "send the body as application/json"}
		}
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeFailure(err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return err
		}
		return malformed("the body holds more than one JSON value")
	}
	return nil
}

func decodeFailure(err error) error {
	var (
		syntax   *json.SyntaxError
		typ      *json.UnmarshalTypeError
		tooLarge *http.MaxBytesError
	)
	switch {
	case errors.As(err, &tooLarge):
		return err
	case errors.Is(err, io.EOF):
		return malformed("the body is empty; send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return malformed("the JSON body ends too early")
	case errors.As(err, &syntax):
		return malformed(fmt.Sprintf("invalid JSON at byte %d", syntax.Offset))
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "$"
		}
		return malformed("a field has the wrong type", FieldError{
			Field: field, Code: "type", Message: fmt.Sprintf("must be %s, not %s", jsonKind(typ.Type.Kind().String()), typ.Value),
		})
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		if unq, uerr := strconv.Unquote(name); uerr == nil {
			name = unq
		}
		return malformed("the body has a field this endpoint does not take",
			FieldError{Field: name, Code: "unknown", Message: "unknown field"})
	}
	return malformed("the body is not valid JSON for this endpoint")
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
