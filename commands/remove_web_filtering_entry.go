package commands

import (
	"context"

	"github.com/google/uuid"

	"yorozu/domain/webfiltering"
)

// RemoveWebFilteringEntry takes an entry off its list.
type RemoveWebFilteringEntry struct {
	Meta
	CustomerNumber string
	// IfMatch, when set, is the policy version the request was made against.
	IfMatch *uint64
	EntryID uuid.UUID
}

// RemoveWebFilteringEntryHandler handles RemoveWebFilteringEntry.
type RemoveWebFilteringEntryHandler struct{ deps Deps }

// NewRemoveWebFilteringEntryHandler builds the handler.
func NewRemoveWebFilteringEntryHandler(d Deps) RemoveWebFilteringEntryHandler {
	return RemoveWebFilteringEntryHandler{deps: d}
}

// Handle implements the use case.
func (h RemoveWebFilteringEntryHandler) Handle(ctx context.Context, cmd RemoveWebFilteringEntry) (WebFilteringState, error) {
	return decidePolicy(ctx, h.deps, cmd.Meta, cmd.CustomerNumber, cmd.IfMatch,
		func(p webfiltering.Policy, opt webfiltering.OptionState) ([]any, error) {
			return one(p.RemoveEntry(cmd.CustomerNumber, cmd.EntryID, opt))
		})
}
