package esdb

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	esdbclient "github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"yorozu/domain/event"
)

func errorsIs(err, target error) bool { return errors.Is(err, target) }

// The trap STYLE.md warns about: FromError's ok is false for every error, so "ok" cannot mean
// "this is an EventStoreDB error".
func TestFromErrorCannotClassify(t *testing.T) {
	plain := errors.New("connection reset")
	e, ok := esdbclient.FromError(plain)
	if ok || e.Code() != esdbclient.ErrorCodeUnknown {
		t.Fatalf("FromError(plain) = %v, %v; the client changed and codeOf may be simplified", e.Code(), ok)
	}
	if _, ok := codeOf(plain); ok {
		t.Error("codeOf found a client code in a plain error")
	}
	// Errors the client wraps with %w (TombstoneStream, AppendToStream's send errors) keep their code.
	wrapped := fmt.Errorf("failed to perform delete, details: %w", e)
	if code, ok := codeOf(wrapped); !ok || code != esdbclient.ErrorCodeUnknown {
		t.Errorf("codeOf(wrapped client error) = %v, %v", code, ok)
	}
	if _, ok := esdbclient.FromError(wrapped); ok {
		t.Error("FromError saw through the wrap")
	}
	if isWrongExpectedVersion(wrapped) || isStreamDeleted(wrapped) || isNotFound(wrapped) {
		t.Error("an unknown error is classified")
	}
}

func TestCurrentVersionFromTheRefusal(t *testing.T) {
	// The message format of the client, v4.2.0 client.go.
	msg := func(expected, current string) string {
		return fmt.Sprintf("wrong expected version: expecting '%s' but got '%s'", expected, current)
	}
	cases := []struct {
		msg  string
		want uint64
		ok   bool
	}{
		{msg("3", "7"), 8, true},
		{msg("no_stream", "0"), 1, true},
		{msg("any", "no_stream"), 0, true},
		{msg("stream_exists", "18446744073709551614"), 18446744073709551615, true},
		{"[ErrorCodeWrongExpectedVersion] an append request failed", 0, false},
		{msg("3", "-1"), 0, false},
	}
	for _, c := range cases {
		got, ok := parseCurrentVersion(c.msg)
		if got != c.want || ok != c.ok {
			t.Errorf("parseCurrentVersion(%q) = %d, %v; want %d, %v", c.msg, got, ok, c.want, c.ok)
		}
	}
	if _, ok := currentVersion(errors.New(msg("1", "2"))); ok {
		t.Error("a message alone, without the WrongExpectedVersion code, was read as a refusal")
	}
}

func TestFailureKeepsThePortsErrors(t *testing.T) {
	s := &Store{}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	boom := errors.New("boom")
	if err := s.failure(cancelled, "read", boom); !errors.Is(err, context.Canceled) {
		t.Errorf("with ctx cancelled: %v, want context.Canceled", err)
	}
	if err := s.failure(context.Background(), "append to order-1", boom); !errors.Is(err, boom) ||
		!strings.Contains(err.Error(), "append to order-1") {
		t.Errorf("plain failure: %v", err)
	}
	if err := s.failure(context.Background(), "read", nil); err != nil {
		t.Errorf("no error became %v", err)
	}
	s.closed.Store(true)
	if err := s.failure(context.Background(), "read", boom); !errors.Is(err, event.ErrClosed) {
		t.Errorf("after Close: %v, want ErrClosed", err)
	}
}
