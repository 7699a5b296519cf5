package esdb

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"

	esdbclient "github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"yorozu/domain/event"
)

// codeOf returns the client's error code carried by err.
//
// esdbclient.FromError cannot answer this: it reports ok=false for every non-nil error (ok means
// "no error"), and it only type-asserts, while the client wraps many of its errors with %w
// (TombstoneStream, the send errors of AppendToStream, GetStreamMetadata). errors.As sees through
// both.
func codeOf(err error) (esdbclient.ErrorCode, bool) {
	var e *esdbclient.Error
	if errors.As(err, &e) {
		return e.Code(), true
	}
	return 0, false
}

func hasCode(err error, code esdbclient.ErrorCode) bool {
	c, ok := codeOf(err)
	return ok && c == code
}

func isWrongExpectedVersion(err error) bool {
	return hasCode(err, esdbclient.ErrorCodeWrongExpectedVersion)
}

func isStreamDeleted(err error) bool { return hasCode(err, esdbclient.ErrorCodeStreamDeleted) }

func isNotFound(err error) bool { return hasCode(err, esdbclient.ErrorCodeResourceNotFound) }

// failure turns an error of the client into the error the port promises: ctx's own error when ctx
// ended (gRPC reports a cancelled call as an unclassified error), ErrClosed after Close,
// ErrStreamDeleted for a tombstoned stream, and otherwise the error itself, wrapped with op.
func (s *Store) failure(ctx context.Context, op string, err error) error {
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	case s.closed.Load() || hasCode(err, esdbclient.ErrorCodeConnectionClosed):
		return event.ErrClosed
	case isStreamDeleted(err):
		return event.ErrStreamDeleted
	}
	return fmt.Errorf("eventstoredb: %s: %w", op, err)
}

// The client keeps the server's answer to a refused append only in the message of its error:
// "wrong expected version: expecting '3' but got '7'" (v4.2.0, client.go), with no_stream for a
// stream without events.
var currentRevisionPattern = regexp.MustCompile(`but got '(no_stream|\d+)'`)

// currentVersion reads the stream's actual last version (our 1-based numbering; 0 for no stream)
// from a WrongExpectedVersion error. ok is false when the message has another form.
func currentVersion(err error) (version uint64, ok bool) {
	if !isWrongExpectedVersion(err) {
		return 0, false
	}
	return parseCurrentVersion(err.Error())
}

func parseCurrentVersion(msg string) (uint64, bool) {
	m := currentRevisionPattern.FindStringSubmatch(msg)
	if m == nil {
		return 0, false
	}
	if m[1] == "no_stream" {
		return 0, true
	}
	rev, err := strconv.ParseUint(m[1], 10, 64)
	if err != nil {
		return 0, false
	}
	return versionOf(rev), true
}
