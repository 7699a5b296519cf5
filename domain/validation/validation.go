// Package validation is how the help desk and insurance inputs report broken rules: every field
// error of one input at once, each with a JSON path, a machine code and a message for people. It
// also holds the value rules those inputs share (free text, e-mail addresses, phone numbers,
// customer numbers). It is pure.
//
// The order form keeps its own, richer rules (domain/order); the codes below mean the same where
// the names are the same.
package validation

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Machine codes of an Error. They are part of the HTTP API (problem+json `errors[].code`): add new
// ones, never rename one.
const (
	// Decoding (the HTTP layer): a value of the wrong JSON type, a field the input does not have.
	CodeInvalidType  = "invalidType"
	CodeUnknownField = "unknownField"
	// Presence.
	CodeRequired     = "required"
	CodeMustBeAbsent = "mustBeAbsent"
	// Values.
	CodeTooLong          = "tooLong"
	CodeControlCharacter = "controlCharacter"
	CodeInvalidEncoding  = "invalidEncoding"
	CodeInvalidChoice    = "invalidChoice"
	CodeInvalidFormat    = "invalidFormat"
	CodeInvalidEmail     = "invalidEmail"
	CodeInvalidPhone     = "invalidPhone"
	CodeInvalidInstant   = "invalidInstant"
	CodeInvalidDate      = "invalidDate"
	CodeOutOfRange       = "outOfRange"
	// Against the state: a time before the last change of what it changes (a reply before the
	// consultation was received, a resolution before the report).
	CodeTooEarly = "tooEarly"
)

// Error is one broken rule of one field. Field is a JSON path ("tickets", "contractor.name").
type Error struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Errors is every broken rule of one input. As an error it maps to 422 (api/errors.go).
type Errors []Error

func (e Errors) Error() string {
	parts := make([]string, len(e))
	for i, f := range e {
		parts[i] = f.Field + ": " + f.Message
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// Add records a broken rule.
func (e *Errors) Add(field, code, format string, args ...any) {
	*e = append(*e, Error{Field: field, Code: code, Message: fmt.Sprintf(format, args...)})
}

// Has reports whether field already has an error: a field gets one, the first found.
func (e Errors) Has(field string) bool {
	for _, f := range e {
		if f.Field == field {
			return true
		}
	}
	return false
}

// Err returns e as an error, or nil when it holds nothing.
func (e Errors) Err() error {
	if len(e) == 0 {
		return nil
	}
	return e
}

// Text checks one string field and returns its value trimmed of surrounding white space; ok is
// false when it is missing or broken (and reported). Blank counts as missing. A one-line text
// refuses every control character; a multi-line one (a body) allows line feeds, carriage returns
// and tabs, which mail and call notes are made of.
func (e *Errors) Text(field string, v *string, required bool, maxLen int, multiline bool) (string, bool) {
	if v == nil || strings.TrimFunc(*v, unicode.IsSpace) == "" {
		if required {
			e.Add(field, CodeRequired, "is required")
		}
		return "", false
	}
	s := *v
	if !multiline {
		s = strings.TrimFunc(s, unicode.IsSpace)
	}
	switch {
	case !utf8.ValidString(s) || strings.ContainsRune(s, utf8.RuneError):
		e.Add(field, CodeInvalidEncoding, "contains invalid UTF-8 or U+FFFD (a character lost on the way)")
		return "", false
	case utf8.RuneCountInString(s) > maxLen:
		e.Add(field, CodeTooLong, "must be at most %d characters, is %d", maxLen, utf8.RuneCountInString(s))
		return "", false
	}
	for _, r := range s {
		if isControl(r, multiline) {
			e.Add(field, CodeControlCharacter, "must not contain control characters (found U+%04X)", r)
			return "", false
		}
	}
	return s, true
}

// isControl: C0 and C1 controls, DEL, and the Unicode format characters that hide or reorder text
// (bidirectional overrides, zero-width characters), which have no place in a name or a subject and
// are a known way to disguise text shown to staff.
func isControl(r rune, multiline bool) bool {
	if multiline && (r == '\n' || r == '\r' || r == '\t') {
		return false
	}
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029'
}

// Email checks one e-mail address: an ASCII addr-spec with a dot-atom local part and a host name
// of at least two labels.
func (e *Errors) Email(field string, v *string, required bool) (string, bool) {
	s, ok := e.Text(field, v, required, 254, false)
	if !ok {
		return "", false
	}
	if !IsEmailAddress(s) {
		e.Add(field, CodeInvalidEmail, "is not a valid e-mail address")
		return "", false
	}
	return s, true
}

// Phone checks a phone number as people write it: digits in groups separated by single hyphens,
// optionally starting with + (an international number), 10 to 15 digits in all.
func (e *Errors) Phone(field string, v *string, required bool) (string, bool) {
	s, ok := e.Text(field, v, required, 20, false)
	if !ok {
		return "", false
	}
	digits := 0
	for _, group := range strings.Split(strings.TrimPrefix(s, "+"), "-") {
		if group == "" || !isDigits(group) {
			e.Add(field, CodeInvalidPhone, "must be digits in groups separated by single hyphens, like 03-1234-5678")
			return "", false
		}
		digits += len(group)
	}
	if digits < 10 || digits > 15 {
		e.Add(field, CodeInvalidPhone, "must have 10 to 15 digits, has %d", digits)
		return "", false
	}
	return s, true
}

// CustomerNumber checks an お客様番号: N and 9 digits.
func (e *Errors) CustomerNumber(field string, v *string) (string, bool) {
	s, ok := e.Text(field, v, true, 10, false)
	if !ok {
		return "", false
	}
	if !IsCustomerNumber(s) {
		e.Add(field, CodeInvalidFormat, "must be N followed by 9 digits, like N000000001")
		return "", false
	}
	return s, true
}

// IsCustomerNumber reports whether s is N and 9 digits.
func IsCustomerNumber(s string) bool {
	return len(s) == 10 && s[0] == 'N' && isDigits(s[1:])
}

// Choice checks a field whose value must be one of values, exactly (case matters).
func Choice[T ~string](e *Errors, field string, v *string, required bool, values ...T) (T, bool) {
	if v == nil {
		if required {
			e.Add(field, CodeRequired, "is required: one of %s", joinChoices(values))
		}
		return "", false
	}
	for _, c := range values {
		if *v == string(c) {
			return c, true
		}
	}
	e.Add(field, CodeInvalidChoice, "must be one of %s", joinChoices(values))
	return "", false
}

func joinChoices[T ~string](values []T) string {
	names := make([]string, len(values))
	for i, v := range values {
		names[i] = string(v)
	}
	return strings.Join(names, ", ")
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// IsEmailAddress accepts the addr-spec of RFC 5322 restricted to what mail systems deliver in
// practice: a dot-atom local part (no quoted strings, no comments, at most 64 characters) and a
// host name of at least two dot-separated labels of letters, digits and inner hyphens, the last
// label not all digits (no domain literals). ASCII only.
func IsEmailAddress(s string) bool {
	at := strings.LastIndexByte(s, '@')
	if at < 1 || at > 64 {
		return false
	}
	local, domain := s[:at], s[at+1:]
	for _, atom := range strings.Split(local, ".") {
		if atom == "" {
			return false
		}
		for i := 0; i < len(atom); i++ {
			if !isAtext(atom[i]) {
				return false
			}
		}
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 || len(domain) > 253 {
		return false
	}
	for _, label := range labels {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			if c := label[i]; !isASCIIAlnum(c) && c != '-' {
				return false
			}
		}
	}
	return !isDigits(labels[len(labels)-1])
}

func isASCIIAlnum(c byte) bool {
	return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
}

func isAtext(c byte) bool {
	return isASCIIAlnum(c) || strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}
