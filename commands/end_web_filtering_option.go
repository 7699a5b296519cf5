package commands

import (
	"context"

	"yorozu/domain/webfiltering"
)

// EndWebFilteringOption turns a contract's filtering off if its web-filtering option is no longer
// in effect (a change order ended it, or the contract was terminated). The reaction to those
// contract events sends it; it may be sent any number of times, for any contract: it decides from
// the contract's current state and changes nothing when there is nothing to end.
type EndWebFilteringOption struct {
	Meta
	CustomerNumber string
}

// EndWebFilteringOptionHandler handles EndWebFilteringOption.
type EndWebFilteringOptionHandler struct{ deps Deps }

// NewEndWebFilteringOptionHandler builds the handler.
func NewEndWebFilteringOptionHandler(d Deps) EndWebFilteringOptionHandler {
	return EndWebFilteringOptionHandler{deps: d}
}

// Handle implements the use case.
func (h EndWebFilteringOptionHandler) Handle(ctx context.Context, cmd EndWebFilteringOption) (WebFilteringState, error) {
	return decidePolicy(ctx, h.deps, cmd.Meta, cmd.CustomerNumber, nil,
		func(p webfiltering.Policy, opt webfiltering.OptionState) ([]any, error) {
			return one(p.EndOption(cmd.CustomerNumber, opt), nil)
		})
}
