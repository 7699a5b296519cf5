package billing

import (
	"errors"
	"fmt"
	"strings"
)

var (
	// ErrInvalidMonth: a usage month is not a real YYYY-MM month.
	ErrInvalidMonth = errors.New("billing: invalid month")
	// ErrInvalidPriceList: a price list breaks a rule; the ValidationError lists every field.
	ErrInvalidPriceList = errors.New("billing: invalid price list")
	// ErrNoPriceList: something is charged in a month no price list covers yet.
	ErrNoPriceList = errors.New("billing: no price list for the month")
	// ErrInvalidTimeline: a contract timeline is inconsistent (a projection bug, not user input).
	ErrInvalidTimeline = errors.New("billing: invalid contract timeline")
	// ErrInvalidAdjustment: an adjustment has no month, is for the invoice's own month, or repeats one.
	ErrInvalidAdjustment = errors.New("billing: invalid adjustment")
	// ErrInvalidIssuer: the issuer's name is empty or its registration number is not T + 13 digits.
	ErrInvalidIssuer = errors.New("billing: invalid issuer")
	// ErrAlreadyFinal: a final invoice is immutable and cannot be finalized again.
	ErrAlreadyFinal = errors.New("billing: invoice is already final")
	// ErrUnknownEncoding: a CSV encoding other than utf8 or sjis was asked for.
	ErrUnknownEncoding = errors.New("billing: unknown CSV encoding")
	// ErrUnencodable: a character of the CSV has no Shift_JIS (CP932) form.
	ErrUnencodable = errors.New("billing: character cannot be encoded in Shift_JIS (CP932)")
)

// Field error codes (the `code` of the docs/api.md's `errors: [{field, code, message}]`).
const (
	CodeRequired      = "required"
	CodeOutOfRange    = "outOfRange"
	CodeInvalidFormat = "invalidFormat"
	CodeDuplicate     = "duplicate"
)

// FieldError is one broken rule, with the field as a JSON path (e.g. `options[2].additionalIds`).
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// ValidationError carries every field error of one input at once. It matches the sentinel of the
// kind of input (ErrInvalidPriceList, ErrInvalidTimeline, ErrInvalidAdjustment, ErrInvalidIssuer).
type ValidationError struct {
	Kind   error
	Errors []FieldError
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString(e.Kind.Error())
	for i, f := range e.Errors {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s: %s", f.Field, f.Message)
	}
	return b.String()
}

func (e *ValidationError) Unwrap() error { return e.Kind }

// fieldErrors collects field errors and turns them into a *ValidationError only if there are any.
type fieldErrors struct {
	kind error
	list []FieldError
}

func (f *fieldErrors) add(field, code, format string, args ...any) {
	f.list = append(f.list, FieldError{Field: field, Code: code, Message: fmt.Sprintf(format, args...)})
}

func (f *fieldErrors) err() error {
	if len(f.list) == 0 {
		return nil
	}
	return &ValidationError{Kind: f.kind, Errors: f.list}
}

// NoPriceListError says which month has charges but no price list. It matches ErrNoPriceList.
type NoPriceListError struct {
	Month Month
}

func (e *NoPriceListError) Error() string {
	return fmt.Sprintf("billing: no price list is effective in %s", e.Month)
}

func (e *NoPriceListError) Unwrap() error { return ErrNoPriceList }
