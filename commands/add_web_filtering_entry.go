package commands

import (
	"context"

	"github.com/google/uuid"

	"yorozu/domain/webfiltering"
)

// AddWebFilteringEntry puts an item or a URL on a contract's allow-list or block-list. The same
// entry again answers the entry already there.
type AddWebFilteringEntry struct {
	Meta
	CustomerNumber string
	// IfMatch, when set, is the policy version the request was made against.
	IfMatch *uint64
	List    webfiltering.List
	Target  webfiltering.Target
}

// WebFilteringEntryAdded is the policy after the command and the entry it names.
type WebFilteringEntryAdded struct {
	WebFilteringState
	Entry webfiltering.Entry
}

// AddWebFilteringEntryHandler handles AddWebFilteringEntry.
type AddWebFilteringEntryHandler struct{ deps Deps }

// NewAddWebFilteringEntryHandler builds the handler.
func NewAddWebFilteringEntryHandler(d Deps) AddWebFilteringEntryHandler {
	return AddWebFilteringEntryHandler{deps: d}
}

// Handle implements the use case. A new entry's ID derives from the command ID, so a retried
// command names the same entry.
func (h AddWebFilteringEntryHandler) Handle(ctx context.Context, cmd AddWebFilteringEntry) (WebFilteringEntryAdded, error) {
	seed := cmd.CommandID
	if seed == "" {
		seed = uuid.NewString()
	}
	newID := uuid.NewSHA1(entryIDNamespace, []byte(seed))
	var entry webfiltering.Entry
	st, err := decidePolicy(ctx, h.deps, cmd.Meta, cmd.CustomerNumber, cmd.IfMatch,
		func(p webfiltering.Policy, opt webfiltering.OptionState) ([]any, error) {
			var e *webfiltering.WebFilteringEntryAdded
			var err error
			entry, e, err = p.AddEntry(cmd.CustomerNumber, cmd.List, cmd.Target, newID, opt)
			return one(e, err)
		})
	return WebFilteringEntryAdded{WebFilteringState: st, Entry: entry}, err
}
