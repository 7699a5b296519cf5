package commands

import (
	"context"

	"yorozu/domain/webfiltering"
)

// SetWebFiltering turns a contract's web filtering on or off at the customer's request. On needs
// the option in effect.
type SetWebFiltering struct {
	Meta
	CustomerNumber string
	// IfMatch, when set, is the policy version the request was made against.
	IfMatch *uint64
	Enabled bool
}

// SetWebFilteringHandler handles SetWebFiltering.
type SetWebFilteringHandler struct {
	deps Deps
	end  EndWebFilteringOptionHandler
}

// NewSetWebFilteringHandler builds the handler.
func NewSetWebFilteringHandler(d Deps) SetWebFilteringHandler {
	return SetWebFilteringHandler{deps: d, end: NewEndWebFilteringOptionHandler(d)}
}

// Handle implements the use case.
//
// Turning filtering on races with the option ending (an order completing at the same moment):
// the option state was read before the append. So, once on, it reads the contract again: if the
// option ended in between, filtering goes off at once. Either this re-read sees the end, or the
// end was recorded after it, and then the reaction to that end sees filtering on.
func (h SetWebFilteringHandler) Handle(ctx context.Context, cmd SetWebFiltering) (WebFilteringState, error) {
	out, err := decidePolicy(ctx, h.deps, cmd.Meta, cmd.CustomerNumber, cmd.IfMatch,
		func(p webfiltering.Policy, opt webfiltering.OptionState) ([]any, error) {
			e, err := p.SetEnabled(cmd.CustomerNumber, cmd.Enabled, opt)
			if err != nil || e == nil {
				return nil, err
			}
			return []any{e}, nil
		})
	if err != nil || !out.Policy.Enabled {
		return out, err
	}
	ended, err := h.end.Handle(ctx, EndWebFilteringOption{Meta: Meta{Actor: cmd.Actor, CorrelationID: cmd.CorrelationID,
		CausationID: cmd.CommandID}, CustomerNumber: cmd.CustomerNumber})
	if err != nil {
		return out, err
	}
	if ended.Position > 0 {
		return ended, nil
	}
	return out, nil
}
