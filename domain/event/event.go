// Package event defines the envelope every stored fact travels in, the per-stream hash chain that
// makes tampering visible, and the Store port that every event-store adapter implements.
//
// It is pure: no I/O and no clock. Adapters live under adapters/eventstore and all pass the
// conformance suite in adapters/eventstore/storetest.
package event

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Position is a place in the global log. Positions grow in commit order; 0 means "before the first
// event". They are not dense: retention and failed batches leave gaps.
type Position uint64

// SystemActor is the actor of events the service decides on its own (process manager, scheduler).
const SystemActor = "system"

// Draft is an event a caller wants to append. The store assigns the stream version, the global
// position and the hash chain; everything else is the caller's.
type Draft struct {
	ID            uuid.UUID
	Type          string
	SchemaVersion int
	// EffectiveAt is business time: when it happened in the world (may be back-dated).
	EffectiveAt time.Time
	// RecordedAt is when the system learnt it; callers set it from their injected clock.
	RecordedAt    time.Time
	Actor         string
	CommandID     string
	CorrelationID string
	CausationID   string
	Data          json.RawMessage
}

// Record is a stored event with its full envelope (docs/product.md).
type Record struct {
	ID            uuid.UUID
	Type          string
	SchemaVersion int
	Stream        string
	// StreamVersion starts at 1 for the first event of a stream.
	StreamVersion uint64
	Position      Position
	EffectiveAt   time.Time
	RecordedAt    time.Time
	Actor         string
	CommandID     string
	CorrelationID string
	CausationID   string
	Data          json.RawMessage
	// PrevHash is the Hash of the previous event of the same stream (all zero for version 1).
	PrevHash Hash
	// Hash is SHA-256 over the canonical encoding of this record chained to PrevHash.
	Hash Hash
}

// Category is the part of a stream name before the first '-' ("order-<uuid>" → "order"), the
// convention EventStoreDB's $ce- projections use too.
func Category(stream string) string {
	if i := strings.IndexByte(stream, '-'); i >= 0 {
		return stream[:i]
	}
	return stream
}

// TimePartitioned reports whether a stream's events are kept in time partitions that retention
// removes whole (a partition drop, a bucket delete or $maxAge), instead of row by row. Only
// high-volume, short-lived data belongs here: agent telemetry is kept three months (docs/telemetry.md).
func TimePartitioned(stream string) bool {
	return Category(stream) == "telemetry"
}
