package esdb

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	esdbclient "github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"yorozu/domain/event"
)

// envelopeFormat marks the metadata of events written by this package. Events of user streams
// without it (written by another program into the same database) are not ours and are skipped.
const envelopeFormat = 1

// envelope is the event metadata: every field of event.Record that is not the event ID, type,
// stream, data or position, which the server keeps itself.
type envelope struct {
	Format        int       `json:"yorozu"`
	Version       uint64    `json:"version"`
	SchemaVersion int       `json:"schemaVersion"`
	EffectiveAt   time.Time `json:"effectiveAt"`
	RecordedAt    time.Time `json:"recordedAt"`
	Actor         string    `json:"actor,omitempty"`
	CommandID     string    `json:"commandId,omitempty"`
	// The server's own keys, which its $by_correlation_id projection reads.
	CorrelationID string `json:"$correlationId,omitempty"`
	CausationID   string `json:"$causationId,omitempty"`
	PrevHash      string `json:"prevHash"`
	Hash          string `json:"hash"`
}

// versionOf is our 1-based stream version of the server's 0-based revision.
func versionOf(revision uint64) uint64 { return revision + 1 }

// revisionOf is the server's revision of our stream version v (v >= 1).
func revisionOf(v uint64) uint64 { return v - 1 }

// expectedRevision is the server's condition for "the stream's last version is last".
func expectedRevision(last uint64) esdbclient.ExpectedRevision {
	if last == 0 {
		return esdbclient.NoStream{}
	}
	return esdbclient.StreamRevision{Value: revisionOf(last)}
}

// isSystem reports whether an event of $all belongs to the server ($-prefixed stream: metadata,
// projections, stats, our claims) or is a server event in a user stream ($streamDeleted).
func isSystem(stream, eventType string) bool {
	return strings.HasPrefix(stream, "$") || strings.HasPrefix(eventType, "$")
}

// eventData is what the server stores for a sealed record.
func eventData(r event.Record) (esdbclient.EventData, error) {
	meta, err := json.Marshal(envelope{
		Format:        envelopeFormat,
		Version:       r.StreamVersion,
		SchemaVersion: r.SchemaVersion,
		EffectiveAt:   r.EffectiveAt,
		RecordedAt:    r.RecordedAt,
		Actor:         r.Actor,
		CommandID:     r.CommandID,
		CorrelationID: r.CorrelationID,
		CausationID:   r.CausationID,
		PrevHash:      r.PrevHash.String(),
		Hash:          r.Hash.String(),
	})
	if err != nil {
		return esdbclient.EventData{}, err
	}
	return esdbclient.EventData{
		EventID:     r.ID,
		EventType:   r.Type,
		ContentType: esdbclient.ContentTypeJson,
		Data:        r.Data,
		Metadata:    meta,
	}, nil
}

// decode turns an event read from the server into a record. ours is false for server events and
// for events another program wrote; err is set when an event of ours does not decode, which
// means the database was changed behind the store's back.
func decode(ev *esdbclient.RecordedEvent) (r event.Record, ours bool, err error) {
	if ev == nil || isSystem(ev.StreamID, ev.EventType) {
		return r, false, nil
	}
	var probe struct {
		Format int `json:"yorozu"`
	}
	if json.Unmarshal(ev.UserMetadata, &probe) != nil || probe.Format == 0 {
		return r, false, nil
	}
	corrupt := func(why string, args ...any) error {
		return fmt.Errorf("eventstoredb: event %s (%s@%d) is not a valid record: %s",
			ev.EventID, ev.StreamID, ev.EventNumber, fmt.Sprintf(why, args...))
	}
	if probe.Format != envelopeFormat {
		return r, false, corrupt("envelope format %d is not known to this version", probe.Format)
	}
	var env envelope
	if err := json.Unmarshal(ev.UserMetadata, &env); err != nil {
		return r, false, corrupt("metadata: %v", err)
	}
	if env.Version != versionOf(ev.EventNumber) {
		return r, false, corrupt("envelope says version %d", env.Version)
	}
	prev, err := event.ParseHash(env.PrevHash)
	if err != nil {
		return r, false, corrupt("prevHash %q", env.PrevHash)
	}
	hash, err := event.ParseHash(env.Hash)
	if err != nil {
		return r, false, corrupt("hash %q", env.Hash)
	}
	return event.Record{
		ID:            ev.EventID,
		Type:          ev.EventType,
		SchemaVersion: env.SchemaVersion,
		Stream:        ev.StreamID,
		StreamVersion: env.Version,
		Position:      event.Position(ev.Position.Commit),
		EffectiveAt:   env.EffectiveAt.UTC(),
		RecordedAt:    env.RecordedAt.UTC(),
		Actor:         env.Actor,
		CommandID:     env.CommandID,
		CorrelationID: env.CorrelationID,
		CausationID:   env.CausationID,
		Data:          json.RawMessage(ev.Data),
		PrevHash:      prev,
		Hash:          hash,
	}, true, nil
}
