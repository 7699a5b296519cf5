package commands

import (
	"context"

	"yorozu/domain/contract"
	"yorozu/domain/event"
)

// RecordContractView records that a staff member read a contract's personal data (SPEC 9).
type RecordContractView struct {
	Meta
	CustomerNumber string
	What           string
}

// RecordContractViewHandler handles RecordContractView.
type RecordContractViewHandler struct{ deps Deps }

// NewRecordContractViewHandler builds the handler.
func NewRecordContractViewHandler(d Deps) RecordContractViewHandler {
	return RecordContractViewHandler{deps: d}
}

// Handle implements the use case. Reads never conflict: they append whatever the stream holds.
func (h RecordContractViewHandler) Handle(ctx context.Context, cmd RecordContractView) (Outcome, error) {
	stream := contract.ViewStream(cmd.CustomerNumber)
	drafts, err := toDrafts(h.deps, cmd.Meta, stream, []any{&contract.ContractViewed{
		CustomerNumber: cmd.CustomerNumber, Viewer: cmd.Actor, What: cmd.What, At: h.deps.Clock().UTC(),
	}})
	if err != nil {
		return Outcome{}, err
	}
	res, err := h.deps.Events.Append(ctx, stream, event.Any(), drafts)
	if err != nil {
		return Outcome{}, err
	}
	return Outcome{Stream: stream, Version: res.LastVersion, Position: res.LastPosition}, nil
}
