// Package commands holds the application's use cases, one file each: a command struct, its
// handler and the handler's constructor. Handlers load an aggregate from its stream, let the
// pure domain decide, and append the resulting events with the expected version, retrying on a
// version conflict (safe because deciding again on the reloaded state is pure).
//
// Commands travel through watermill's CQRS command bus and processor (bus.go); the caller gets
// the handler's Outcome back through watermill's requestreply component.
package commands

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"yorozu/domain/event"
)

// Meta says who sent a command and ties its events together. It travels inside every command.
type Meta struct {
	// CommandID identifies this command; re-sending the same ID (an Idempotency-Key retry)
	// produces the same event IDs, which the store de-duplicates.
	CommandID     string `json:"commandId"`
	CorrelationID string `json:"correlationId,omitempty"`
	CausationID   string `json:"causationId,omitempty"`
	// Actor is the staff ID, API key name, terminal ID or "system".
	Actor string `json:"actor"`
}

// Meta returns itself, so that any command embedding Meta satisfies Command.
func (m Meta) CommandMeta() Meta { return m }

// Command is what every command struct is: it carries Meta.
type Command interface{ CommandMeta() Meta }

// Outcome is what a handled command tells its sender.
type Outcome struct {
	Stream string
	// Version is the stream version after the command (the aggregate version for If-Match).
	Version uint64
	// Position is the global position of the command's last event; read models that reached it
	// reflect the command. 0 when the command appended nothing.
	Position event.Position
	// Result is the use case's own answer (an order ID, a token), or nil.
	Result any
}

// Clock tells the time; injected so that the domain and tests control it.
type Clock func() time.Time

// Deps are what the use cases need from the outside.
type Deps struct {
	Events   event.Store
	Registry *event.Registry
	Clock    Clock
}

// BusinessTimed is implemented by domain events whose business time is not the moment they are
// recorded (an order completes on its scheduled date, a back-dated correction).
type BusinessTimed interface{ EffectiveTime() time.Time }

// maxConflictRetries bounds how often a command is decided again after losing a race.
const maxConflictRetries = 8

// execute is the load–decide–append loop of an event-sourced aggregate. fold applies one stored
// event (decoded, or nil for a type the registry does not know) to the state; decide returns the
// new domain events (or a domain error) given the state and its version.
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
		if errors.Is(err, event.ErrConcurrency) && attempt < maxConflictRetries {
			continue
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
			e, _, err := d.Registry.Decode(r)
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

func toDrafts(d Deps, m Meta, stream string, changes []any) ([]event.Draft, error) {
	now := d.Clock()
	out := make([]event.Draft, len(changes))
	for i, c := range changes {
		data, err := json.Marshal(c)
		if err != nil {
			return nil, fmt.Errorf("commands: encode %T: %w", c, err)
		}
		id := uuid.Must(uuid.NewV7())
		if m.CommandID != "" {
			id = uuid.NewSHA1(eventIDNamespace, fmt.Appendf(nil, "%s|%s|%d", m.CommandID, stream, i))
		}
		effective := now
		if bt, ok := c.(BusinessTimed); ok && !bt.EffectiveTime().IsZero() {
			effective = bt.EffectiveTime()
		}
		actor := m.Actor
		if actor == "" {
			actor = event.SystemActor
		}
		out[i] = event.Draft{
			ID:            id,
			Type:          typeOf(c),
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

// typeOf is the stored type of a domain event: its EventType() when it names itself, else its
// struct name.
func typeOf(e any) string {
	if t, ok := e.(interface{ EventType() string }); ok {
		return t.EventType()
	}
	return event.TypeName(e)
}
