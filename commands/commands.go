// Package commands is the application layer: the use cases, one file each (a command struct, its
// handler and the handler's constructor), gathered in one Application with the read-model
// queries. The HTTP layer and the schedulers call the handlers directly, as plain methods with
// typed results.
//
// Handlers load an aggregate from its stream, let the pure domain decide, and append the
// resulting events with the expected version, deciding again on a version conflict (safe because
// deciding is pure). Event IDs derive from the command ID, so a retried command (the same
// Idempotency-Key) appends nothing new: the store recognises the re-append.
package commands

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"yorozu/domain/event"
)

// Meta says who sent a command and ties its events together.
type Meta struct {
	// CommandID identifies this command; re-sending the same ID (an Idempotency-Key retry)
	// produces the same event IDs, which the store de-duplicates.
	CommandID     string
	CorrelationID string
	CausationID   string
	// Actor is the staff ID, API key name, terminal ID or "system".
	Actor string
}

// Outcome is where a command's events landed.
type Outcome struct {
	Stream string
	// Version is the stream version after the command (the aggregate version for If-Match).
	Version uint64
	// Position is the global position of the command's last event; read models that reached it
	// reflect the command. 0 when the command appended nothing.
	Position event.Position
}

// Clock tells the time; injected so that the domain and tests control it.
type Clock func() time.Time

// Deps are what every use case needs from the outside.
type Deps struct {
	Events event.Streams
	// Codec names, encodes and decodes the domain events (domain/schema).
	Codec *event.Registry
	Clock Clock
}

// maxConflictRetries bounds how often a command is decided again after losing a race.
const maxConflictRetries = 8

// ErrTooManyConflicts: a command lost the race for its stream maxConflictRetries+1 times in a
// row. It matches event.ErrConcurrency (409: reload and retry).
var ErrTooManyConflicts = fmt.Errorf("commands: gave up after %d concurrent changes: %w", maxConflictRetries+1, event.ErrConcurrency)

// execute is the load–decide–append loop of an event-sourced aggregate. fold applies one stored
// event (decoded by the codec) to the state; decide returns the new domain events (pointers) or a
// domain error, given the state and its version.
func execute[S any](ctx context.Context, d Deps, m Meta, stream string, initial S,
	fold func(*S, event.Record, any) error, decide func(S, uint64) ([]any, error)) (Outcome, error) {
	for attempt := 0; ; attempt++ {
		state := initial
		version, err := load(ctx, d, stream, &state, fold)
		if err != nil {
			return Outcome{}, err
		}
		changes, err := decide(state, version)
		if err != nil {
			return Outcome{Stream: stream, Version: version}, err
		}
		if len(changes) == 0 {
			return Outcome{Stream: stream, Version: version}, nil
		}
		drafts, err := toDrafts(d, m, stream, changes)
		if err != nil {
			return Outcome{}, err
		}
		res, err := d.Events.Append(ctx, stream, event.Exactly(version), drafts)
		if errors.Is(err, event.ErrConcurrency) {
			if attempt < maxConflictRetries {
				continue
			}
			return Outcome{}, fmt.Errorf("%w (stream %s)", ErrTooManyConflicts, stream)
		}
		if err != nil {
			return Outcome{}, err
		}
		return Outcome{Stream: stream, Version: res.LastVersion, Position: res.LastPosition}, nil
	}
}

// load folds a whole stream into state and returns its version.
func load[S any](ctx context.Context, d Deps, stream string, state *S, fold func(*S, event.Record, any) error) (uint64, error) {
	const page = 1000
	var version uint64
	for {
		recs, err := d.Events.ReadStream(ctx, stream, version+1, page)
		if err != nil {
			return 0, err
		}
		for _, r := range recs {
			e, err := d.Codec.Decode(r)
			if err != nil {
				return 0, err
			}
			if err := fold(state, r, e); err != nil {
				return 0, err
			}
			version = r.StreamVersion
		}
		if len(recs) < page {
			return version, nil
		}
	}
}

// eventIDNamespace makes event IDs of a command deterministic (UUID v5 of the command ID), so a
// retried command appends the same IDs and the store recognises the re-append.
var eventIDNamespace = uuid.MustParse("6f1c1d1e-5b8a-4c55-9b0e-59a1f0a7c001")

// toDrafts puts domain events into envelopes: the codec's type and data, deterministic IDs, the
// business time of events that carry one, the command's metadata.
func toDrafts(d Deps, m Meta, stream string, changes []any) ([]event.Draft, error) {
	now := d.Clock()
	out := make([]event.Draft, len(changes))
	for i, c := range changes {
		typ, data, err := d.Codec.Encode(c)
		if err != nil {
			return nil, fmt.Errorf("commands: %w", err)
		}
		id := uuid.Must(uuid.NewV7())
		if m.CommandID != "" {
			id = uuid.NewSHA1(eventIDNamespace, fmt.Appendf(nil, "%s|%s|%d", m.CommandID, stream, i))
		}
		effective := now
		if bt, ok := c.(event.BusinessTimed); ok && !bt.EffectiveTime().IsZero() {
			effective = bt.EffectiveTime()
		}
		actor := m.Actor
		if actor == "" {
			actor = event.SystemActor
		}
		out[i] = event.Draft{
			ID:            id,
			Type:          typ,
			SchemaVersion: 1,
			EffectiveAt:   effective,
			RecordedAt:    now,
			Actor:         actor,
			CommandID:     m.CommandID,
			CorrelationID: m.CorrelationID,
			CausationID:   m.CausationID,
			Data:          data,
		}
	}
	return out, nil
}

// one turns a domain decision of at most one event into the events to append.
func one[E any](e *E, err error) ([]any, error) {
	if err != nil || e == nil {
		return nil, err
	}
	return []any{e}, nil
}
