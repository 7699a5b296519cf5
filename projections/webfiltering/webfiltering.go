// Package webfiltering follows the web-filtering policies for the agents, and reacts to the end of
// a contract's web-filtering option.
//
//   - Policies is a volatile projection: every contract's policy in this process's memory, so that
//     an agent's poll (10,000 terminals every few minutes) is a map lookup, answered 304 without
//     touching a store. Replicas follow the log, each with its own copy.
//   - OptionReactor reacts to the contract events that end the option (a change order turning it
//     off, a termination) by sending EndWebFilteringOption, which turns filtering off. It is a
//     checkpointed projection without documents: the runner hands it each event once per
//     checkpoint, and the command is idempotent, so a replay or a second replica changes nothing.
package webfiltering

import (
	"context"
	"fmt"
	"sync"

	"yorozu/domain/contract"
	"yorozu/domain/event"
	"yorozu/domain/webfiltering"
	"yorozu/projections"
	"yorozu/projections/readmodel"
)

// PoliciesName is the name of the policy projection.
const PoliciesName = "webfiltering-policies"

// Policies holds every contract's policy in memory.
type Policies struct {
	codec *event.Registry
	mu    sync.RWMutex
	byCN  map[string]webfiltering.Policy
}

// NewPolicies returns an empty projection decoding with codec.
func NewPolicies(codec *event.Registry) *Policies {
	return &Policies{codec: codec, byCN: map[string]webfiltering.Policy{}}
}

// Name implements projections.Projection.
func (*Policies) Name() string { return PoliciesName }

// Volatile implements projections.Volatile: the state is rebuilt from the log at every start.
func (*Policies) Volatile() bool { return true }

// Apply implements projections.Projection.
func (p *Policies) Apply(_ context.Context, _ readmodel.Tx, rec event.Record) error {
	if event.Category(rec.Stream) != webfiltering.StreamCategory {
		return nil
	}
	cn, ok := p.codec.CustomerOfStream(rec.Stream)
	if !ok {
		return nil
	}
	e, err := p.codec.Decode(rec)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	cur := p.byCN[cn]
	if err := projections.NextInStream(rec, cur.Version); err != nil {
		return err
	}
	next := cur.Evolve(e)
	next.CustomerNumber = cn
	p.byCN[cn] = next
	return nil
}

// Policy returns a contract's policy as this process knows it: the default one (version 0) for a
// contract that has none recorded.
func (p *Policies) Policy(customerNumber string) webfiltering.Policy {
	p.mu.RLock()
	pol, ok := p.byCN[customerNumber]
	p.mu.RUnlock()
	if !ok {
		pol.CustomerNumber = customerNumber
	}
	return pol
}

// Version returns only the version of a contract's policy (the agents' ETag).
func (p *Policies) Version(customerNumber string) uint64 {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.byCN[customerNumber].Version
}

// ReactorName is the name of the option reactor.
const ReactorName = "webfiltering-option-end"

// OptionEnded is what the reactor does when a contract's option may have ended: send
// EndWebFilteringOption for the contract, with a command ID derived from the event.
type OptionEnded func(ctx context.Context, customerNumber string, cause event.Record) error

// OptionReactor turns filtering off when a contract's web-filtering option ends.
type OptionReactor struct {
	handlers *projections.Handlers
}

// NewOptionReactor returns the reactor; end is called for every event that may end an option.
func NewOptionReactor(codec *event.Registry, end OptionEnded) OptionReactor {
	if end == nil {
		panic("webfiltering: NewOptionReactor needs its reaction")
	}
	h := projections.NewHandlers(codec)
	projections.On(h, func(ctx context.Context, _ readmodel.Tx, rec event.Record, e *contract.ContractChanged) error {
		if e.WebFiltering == nil || *e.WebFiltering {
			return nil
		}
		return react(ctx, end, e.CustomerNumber, rec)
	})
	projections.On(h, func(ctx context.Context, _ readmodel.Tx, rec event.Record, e *contract.ContractTerminated) error {
		return react(ctx, end, e.CustomerNumber, rec)
	})
	return OptionReactor{handlers: h}
}

func react(ctx context.Context, end OptionEnded, cn string, rec event.Record) error {
	if err := end(ctx, cn, rec); err != nil {
		return fmt.Errorf("turn web filtering off for %s: %w", cn, err)
	}
	return nil
}

// Name implements projections.Projection.
func (OptionReactor) Name() string { return ReactorName }

// Apply implements projections.Projection.
func (r OptionReactor) Apply(ctx context.Context, unit readmodel.Tx, rec event.Record) error {
	return r.handlers.Apply(ctx, unit, rec)
}
