package diagnosis

import (
	"errors"
	"fmt"
	"strings"

	"yorozu/domain/calendar"
)

var (
	// ErrInvalidQuestionnaire: a questionnaire breaks a rule; the ValidationError lists every field.
	ErrInvalidQuestionnaire = errors.New("diagnosis: invalid questionnaire")
	// ErrInvalidDiagnosis: a submission breaks a rule; the ValidationError lists every field,
	// one `answers.<questionId>` for each question answered wrongly or not at all.
	ErrInvalidDiagnosis = errors.New("diagnosis: invalid submission")
	// ErrContractNotActive: the contract was not active when the questionnaire was answered (and
	// nothing else is wrong with the submission).
	ErrContractNotActive = errors.New("diagnosis: the contract was not active at answeredAt")
	// ErrNoQuestionnaire: no questionnaire has been published yet.
	ErrNoQuestionnaire = errors.New("diagnosis: no questionnaire has been published")
	// ErrTooSoon: the customer's previous diagnosis was answered less than six months before.
	ErrTooSoon = errors.New("diagnosis: one diagnosis per customer per six months")
	// ErrNotFound: no diagnosis has that ID.
	ErrNotFound = errors.New("diagnosis: not found")
	// ErrInvalidReport: a report-sent record breaks a rule (its time).
	ErrInvalidReport = errors.New("diagnosis: invalid report record")
)

// Machine codes of a FieldError; part of the HTTP API (problem+json errors[].code).
const (
	CodeRequired          = "required"
	CodeTooLong           = "tooLong"
	CodeDuplicate         = "duplicate"
	CodeInvalidFormat     = "invalidFormat"
	CodeInvalidChoice     = "invalidChoice"
	CodeUnknownQuestion   = "unknownQuestion"
	CodeOutOfRange        = "outOfRange"
	CodeControlCharacter  = "controlCharacter"
	CodeInFuture          = "inFuture"
	CodeBeforeAnswer      = "beforeAnswer"
	CodeContractNotActive = "contractNotActive"
)

// FieldError is one broken rule of one field, named by its JSON path ("questions[2].choices[0].score",
// "answers.q3").
type FieldError struct {
	Field   string
	Code    string
	Message string
}

// ValidationError carries every field error of one input at once. It matches its Kind
// (ErrInvalidQuestionnaire, ErrInvalidDiagnosis, ErrContractNotActive or ErrInvalidReport).
type ValidationError struct {
	Kind   error
	Errors []FieldError
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Errors))
	for i, f := range e.Errors {
		parts[i] = f.Field + ": " + f.Message
	}
	return fmt.Sprintf("%v: %s", e.Kind, strings.Join(parts, "; "))
}

func (e *ValidationError) Unwrap() error { return e.Kind }

// fieldErrors collects field errors.
type fieldErrors struct {
	kind error
	list []FieldError
}

// add records an error, unless the field has one already (the first error of a field says
// what is wrong with it).
func (f *fieldErrors) add(field, code, format string, args ...any) {
	if f.has(field) {
		return
	}
	f.list = append(f.list, FieldError{Field: field, Code: code, Message: fmt.Sprintf(format, args...)})
}

func (f *fieldErrors) has(field string) bool {
	for _, e := range f.list {
		if e.Field == field {
			return true
		}
	}
	return false
}

func (f *fieldErrors) err() error {
	if len(f.list) == 0 {
		return nil
	}
	return &ValidationError{Kind: f.kind, Errors: f.list}
}

// TooSoonError says when the customer may answer again. It matches ErrTooSoon.
type TooSoonError struct {
	Previous      calendar.Date
	NextAllowedOn calendar.Date
}

func (e *TooSoonError) Error() string {
	return fmt.Sprintf("%v: the previous diagnosis was answered on %s; the next may be answered from %s", ErrTooSoon, e.Previous, e.NextAllowedOn)
}

func (e *TooSoonError) Unwrap() error { return ErrTooSoon }
