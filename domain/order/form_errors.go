package order

import (
	"fmt"
	"strings"
)

// Machine codes of a FieldError. They are part of the HTTP API (problem+json `errors[].code`, SPEC
// section 12): add new ones, never rename one.
//
// Decoding (DecodeForm only):
//   - invalidJSON: the body is not one JSON value in UTF-8 (field "").
//   - invalidType: a value has the wrong JSON type (a number where a string belongs, a fraction
//     where an integer belongs, a body that is not an object, ...).
//   - unknownField: a field the form does not have (the path names it).
//   - duplicateField: the same field twice in one object; the first one counts.
//   - tooManyErrors: the list was cut; more problems exist (field "").
//
// Presence (R, O, -, C of the SPEC table):
//   - required: missing, null, or blank (empty or only spaces).
//   - mustBeAbsent: present where this order type or the related choice does not allow it
//     (for a numeric field whose paper-form default is 0, any value but 0).
//
// Values:
//   - tooLong, tooShort: length in characters (runes) out of bounds.
//   - notFullWidth: a character whose East Asian Width is not W, F or A.
//   - notKana: a character outside full-width katakana (U+30A1..U+30FE) and U+3000.
//   - notDigits: a postal code with something other than [0-9].
//   - invalidFormat: customerNumber or commonCustomerId not in its pattern.
//   - invalidDate: not YYYY/M/D, or not a real date.
//   - invalidPhone: not digits in hyphen-separated groups, or not 10 or 11 digits.
//   - invalidEmail: not an ASCII addr-spec (or, for one-address fields, more than one).
//   - invalidEncoding: text with invalid UTF-8 or U+FFFD (the text was damaged on its way).
//   - controlCharacter: text with a control character (U+0000 to U+001F, U+007F to U+009F)
//     other than tab and newline, in any text field, free text included.
//   - invalidChoice: not one of the field's values (type, plan, use/notUse, add/remove/end, yes/no).
//   - outOfRange: a number outside its range, or a date outside the years 2000 to 2100.
//   - passwordRules: a password with a character outside [A-Za-z0-9] or lacking a lower-case
//     letter, an upper-case letter or a digit.
//
// Between fields:
//   - beforeAppliedOn: desiredDate is before appliedOn.
//   - nothingSelected: a change order whose `changes` are all false.
//   - tooFewIds: web filtering on with fewer than 15 IDs (5 included + additional).
//
// Acceptance (Order.Accept, field "acceptedAt"):
//   - beforeAppliedOn: the acceptance time is before the form's appliedOn day (JST).
//   - inFuture: the acceptance time is later than the present plus the allowed clock skew.
//
// Against the contract (CheckAgainstContract only):
//   - notFound: no contract has this customerNumber.
//   - notActive: the contract is terminated.
//   - mismatch: commonCustomerId or contractor.name differs from the contract's.
//   - notIncreased, notDecreased: idsAfterChange does not add to / remove from the current count.
//   - alreadyZero: healthCheckIdChange end on a contract without additional IDs.
//   - unchanged: a web-filtering change to the state the contract already has.
const (
	CodeInvalidJSON     = "invalidJSON"
	CodeInvalidType     = "invalidType"
	CodeUnknownField    = "unknownField"
	CodeDuplicateField  = "duplicateField"
	CodeTooManyErrors   = "tooManyErrors"
	CodeRequired        = "required"
	CodeMustBeAbsent    = "mustBeAbsent"
	CodeTooLong         = "tooLong"
	CodeTooShort        = "tooShort"
	CodeNotFullWidth    = "notFullWidth"
	CodeNotKana         = "notKana"
	CodeNotDigits       = "notDigits"
	CodeInvalidFormat   = "invalidFormat"
	CodeInvalidDate     = "invalidDate"
	CodeInvalidPhone    = "invalidPhone"
	CodeInvalidEmail    = "invalidEmail"
	CodeInvalidEncoding = "invalidEncoding"
	CodeControlChar     = "controlCharacter"
	CodeInvalidChoice   = "invalidChoice"
	CodeOutOfRange      = "outOfRange"
	CodePasswordRules   = "passwordRules"
	CodeBeforeAppliedOn = "beforeAppliedOn"
	CodeNothingSelected = "nothingSelected"
	CodeInFuture        = "inFuture"
	CodeTooFewIDs       = "tooFewIds"
	CodeNotFound        = "notFound"
	CodeNotActive       = "notActive"
	CodeMismatch        = "mismatch"
	CodeNotIncreased    = "notIncreased"
	CodeNotDecreased    = "notDecreased"
	CodeAlreadyZero     = "alreadyZero"
	CodeUnchanged       = "unchanged"
)

// FieldError is one problem with one field of a form.
type FieldError struct {
	// Field is the JSON path of the field, such as `contractor.nameKana` or `changes`; "" is the
	// form as a whole.
	Field string `json:"field"`
	// Code is one of the Code constants: stable, for machines.
	Code string `json:"code"`
	// Message explains the problem to a person, in English.
	Message string `json:"message"`
}

func (e FieldError) Error() string {
	if e.Field == "" {
		return e.Code + ": " + e.Message
	}
	return e.Field + ": " + e.Code + ": " + e.Message
}

// FieldErrors is every problem found in one form, in a stable order. Functions of this package
// return FieldErrors, not error, so that a nil result stays nil: use Err to get an error value.
type FieldErrors []FieldError

func (es FieldErrors) Error() string {
	switch len(es) {
	case 0:
		return "order form: no errors"
	case 1:
		return "order form: " + es[0].Error()
	}
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return fmt.Sprintf("order form: %d problems: %s", len(es), strings.Join(parts, "; "))
}

// Err returns es as an error, or nil when es is empty.
func (es FieldErrors) Err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}

// Has reports whether es holds a problem with this field and code.
func (es FieldErrors) Has(field, code string) bool {
	for _, e := range es {
		if e.Field == field && e.Code == code {
			return true
		}
	}
	return false
}
