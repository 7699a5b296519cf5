package event

import (
	"errors"
	"fmt"
)

var (
	// ErrConcurrency: the stream was not at the expected version. Retry by reloading and deciding again.
	ErrConcurrency = errors.New("event store: concurrency conflict")
	// ErrDuplicateEvent: an event ID of the batch is already stored, but not as this same batch on
	// this same stream (a re-append of the identical batch succeeds instead).
	ErrDuplicateEvent = errors.New("event store: event id already used")
	// ErrStreamDeleted: the stream was deleted and cannot be appended to again.
	ErrStreamDeleted = errors.New("event store: stream deleted")
	// ErrInvalidDraft: a draft lacks an ID, a type or data, or a batch is empty.
	ErrInvalidDraft = errors.New("event store: invalid event")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("event store: closed")
)

// ConcurrencyError says which stream conflicted and at what version. It matches ErrConcurrency.
type ConcurrencyError struct {
	Stream   string
	Expected ExpectedVersion
	Actual   uint64
}

func (e *ConcurrencyError) Error() string {
	return fmt.Sprintf("event store: stream %q expected %s, is at version %d", e.Stream, e.Expected, e.Actual)
}

func (e *ConcurrencyError) Unwrap() error { return ErrConcurrency }
