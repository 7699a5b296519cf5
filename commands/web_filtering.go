package commands

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"yorozu/domain/contract"
	"yorozu/domain/event"
	"yorozu/domain/webfiltering"
)

// The web-filtering use cases (set_web_filtering.go, add_web_filtering_entry.go, ...) decide on the
// contract's policy stream with the option state read from the contract's own stream: the log,
// not a read model, so that a decision never rests on a view that lags.

// WebFilteringState is what the web-filtering commands answer: the policy after the command.
type WebFilteringState struct {
	Outcome
	Policy webfiltering.Policy
}

// contractState folds a contract's stream. known is true also for a customer number issued to an
// accepted new order whose contract has not opened yet.
func contractState(ctx context.Context, d Deps, customerNumber string) (c contract.Contract, known bool, err error) {
	if _, err := load(ctx, d, contract.Stream(customerNumber), &c, func(c *contract.Contract, _ event.Record, e any) error {
		*c = c.Evolve(e)
		return nil
	}); err != nil {
		return c, false, err
	}
	if c.Exists() {
		return c, true, nil
	}
	v, ok := contract.NumberVersion(customerNumber)
	if !ok {
		return c, false, nil
	}
	recs, err := d.Events.ReadStream(ctx, contract.NumberingStream, v, 1)
	return c, err == nil && len(recs) == 1 && recs[0].StreamVersion == v, err
}

// optionState is the contract's web-filtering option as a policy decision needs it.
func optionState(c contract.Contract) webfiltering.OptionState {
	return webfiltering.OptionState{
		InEffect:   c.Status == contract.StatusActive && c.WebFiltering,
		Terminated: c.Status == contract.StatusTerminated,
	}
}

func foldPolicy(p *webfiltering.Policy, _ event.Record, e any) error {
	*p = p.Evolve(e)
	return nil
}

// decidePolicy runs the load–decide–append loop on a contract's policy stream; decide gets the
// option state read again on every attempt. Unknown customer numbers are contract.ErrNotFound.
func decidePolicy(ctx context.Context, d Deps, m Meta, customerNumber string, ifMatch *uint64,
	decide func(webfiltering.Policy, webfiltering.OptionState) ([]any, error)) (WebFilteringState, error) {
	var final webfiltering.Policy
	out, err := execute(ctx, d, m, webfiltering.Stream(customerNumber), webfiltering.Policy{}, foldPolicy,
		func(p webfiltering.Policy, _ uint64) ([]any, error) {
			c, known, err := contractState(ctx, d, customerNumber)
			if err != nil {
				return nil, err
			}
			if !known {
				return nil, fmt.Errorf("%w: %s", contract.ErrNotFound, customerNumber)
			}
			if ifMatch != nil && *ifMatch != p.Version {
				return nil, fmt.Errorf("%w (version %d, If-Match %d)", ErrPreconditionFailed, p.Version, *ifMatch)
			}
			changes, err := decide(p, optionState(c))
			final = p
			for _, e := range changes {
				final = final.Evolve(e)
			}
			return changes, err
		})
	return WebFilteringState{Outcome: out, Policy: final}, err
}

// LoadWebFiltering reads a contract's policy from its stream (the default policy, version 0,
// while nothing was recorded). Unknown customer numbers are contract.ErrNotFound.
type LoadWebFiltering struct{ deps Deps }

// NewLoadWebFiltering builds the query.
func NewLoadWebFiltering(d Deps) LoadWebFiltering { return LoadWebFiltering{deps: d} }

// Policy returns the contract's current policy.
func (q LoadWebFiltering) Policy(ctx context.Context, customerNumber string) (webfiltering.Policy, error) {
	if _, known, err := contractState(ctx, q.deps, customerNumber); err != nil || !known {
		if err == nil {
			err = fmt.Errorf("%w: %s", contract.ErrNotFound, customerNumber)
		}
		return webfiltering.Policy{}, err
	}
	var p webfiltering.Policy
	_, err := load(ctx, q.deps, webfiltering.Stream(customerNumber), &p, foldPolicy)
	return p, err
}

// entryIDNamespace derives an entry's ID from the command that adds it.
var entryIDNamespace = uuid.MustParse("9a4f0b7e-2c51-4e8d-b3a6-71d0c5e2f894")
