package commands

import (
	"context"

	"yorozu/domain/event"
	"yorozu/domain/privacy"
)

// RecordPersonalDataRead records that a staff member read personal data: one contract, its
// history or as-of state, one order, an order list or a contract list or search. The reader is
// the command's actor.
type RecordPersonalDataRead struct {
	Meta
	Read privacy.PersonalDataRead
}

// RecordPersonalDataReadHandler handles RecordPersonalDataRead.
type RecordPersonalDataReadHandler struct{ deps Deps }

// NewRecordPersonalDataReadHandler builds the handler.
func NewRecordPersonalDataReadHandler(d Deps) RecordPersonalDataReadHandler {
	return RecordPersonalDataReadHandler{deps: d}
}

// Handle implements the use case. Reads are stored apart from what they read, and appended to
// whatever their stream holds: recording one never conflicts with a change or another read.
func (h RecordPersonalDataReadHandler) Handle(ctx context.Context, cmd RecordPersonalDataRead) (Outcome, error) {
	e := cmd.Read
	e.Reader = cmd.Actor
	e.At = h.deps.Clock().UTC()
	stream := privacy.StreamOf(&e)
	drafts, err := toDrafts(h.deps, cmd.Meta, stream, []any{&e})
	if err != nil {
		return Outcome{}, err
	}
	res, err := h.deps.Events.Append(ctx, stream, event.Any(), drafts)
	if err != nil {
		return Outcome{}, err
	}
	return Outcome{Stream: stream, Version: res.LastVersion, Position: res.LastPosition}, nil
}
