package commands

import (
	"context"
	"errors"
	"fmt"
	"time"

	"yorozu/domain/event"
	"yorozu/domain/telemetry"
)

// IngestTelemetry stores one batch an authenticated agent uploaded.
type IngestTelemetry struct {
	Meta
	Terminal telemetry.Terminal
	Batch    telemetry.Batch
	// ReceivedAt is when the upload arrived: the records were sorted against it.
	ReceivedAt time.Time
}

// TelemetryIngested tells the agent what became of its batch.
type TelemetryIngested struct {
	Outcome
	// Duplicate: the batch was stored before (a re-send); nothing was stored now.
	Duplicate bool
}

// IngestTelemetryHandler handles IngestTelemetry.
type IngestTelemetryHandler struct{ deps TelemetryDeps }

// NewIngestTelemetryHandler builds the handler.
func NewIngestTelemetryHandler(d TelemetryDeps) IngestTelemetryHandler {
	return IngestTelemetryHandler{deps: d}
}

// Handle implements the use case: one batch is one BatchReceived event, whose ID derives from the
// terminal and the batch ID, appended to the terminal's stream of the day. The store refuses a
// second copy of an ID, so a re-sent batch is stored once whichever replica receives it, and
// whenever: the same day it is the same append (the store answers with the original's place,
// which lies before the log's head as it was before the append), another day the store refuses
// the ID (event.ErrDuplicateEvent). Either way the answer is Duplicate.
func (h IngestTelemetryHandler) Handle(ctx context.Context, cmd IngestTelemetry) (TelemetryIngested, error) {
	t, b := cmd.Terminal, cmd.Batch
	key, err := h.deps.Keys.DataKey(ctx, t.CustomerNumber)
	if errors.Is(err, telemetry.ErrKeyDestroyed) {
		return TelemetryIngested{}, telemetry.ErrContractTerminated
	}
	if err != nil {
		return TelemetryIngested{}, err
	}
	sealed, err := telemetry.SealPayload(key, h.deps.Random, telemetry.PayloadAD(t.CustomerNumber, t.ID, b.BatchID),
		&telemetry.Payload{Inventory: b.Inventory, Records: b.Accepted})
	if err != nil {
		return TelemetryIngested{}, err
	}
	e := &telemetry.BatchReceived{CustomerNumber: t.CustomerNumber, TerminalID: t.ID, BatchID: b.BatchID, Sequence: b.Sequence,
		CollectedFrom: b.CollectedFrom, CollectedTo: b.CollectedTo, ReceivedAt: cmd.ReceivedAt.UTC(), Accepted: len(b.Accepted),
		Dropped: b.Dropped, HasInventory: b.Inventory != nil, PayloadSealed: sealed}
	typ, data, err := h.deps.Codec.Encode(e)
	if err != nil {
		return TelemetryIngested{}, fmt.Errorf("commands: %w", err)
	}
	stream := telemetry.TelemetryStream(t.CustomerNumber, t.ID, cmd.ReceivedAt)
	draft := event.Draft{
		ID: telemetry.BatchEventID(t.ID, b.BatchID), Type: typ, SchemaVersion: 1,
		EffectiveAt: b.CollectedTo, RecordedAt: cmd.ReceivedAt, Actor: t.ID.String(),
		CommandID: cmd.CommandID, CorrelationID: cmd.CorrelationID, CausationID: cmd.CausationID, Data: data,
	}
	if draft.EffectiveAt.IsZero() {
		draft.EffectiveAt = cmd.ReceivedAt
	}
	head, err := h.deps.Log.Head(ctx)
	if err != nil {
		return TelemetryIngested{}, err
	}
	res, err := h.deps.Events.Append(ctx, stream, event.Any(), []event.Draft{draft})
	if errors.Is(err, event.ErrDuplicateEvent) {
		return TelemetryIngested{Outcome: Outcome{Stream: stream}, Duplicate: true}, nil
	}
	if err != nil {
		return TelemetryIngested{}, err
	}
	out := Outcome{Stream: stream, Version: res.LastVersion, Position: res.LastPosition}
	return TelemetryIngested{Outcome: out, Duplicate: res.LastPosition <= head}, nil
}
