// Package shredding destroys a terminated contract's telemetry data key as soon as the
// termination is in the log (crypto-shredding): a volatile projection that reacts to
// ContractTerminated by running the shredding use case (seal the contract's open reports, then
// destroy the key). Because the runner's read-your-writes wait includes it, the command that
// terminates a contract answers only once the key is gone.
//
// It replays from the start of the log at every run, so a termination that happened while the
// service was down is acted on at the next start; the use case is idempotent.
package shredding

import (
	"context"

	"yorozu/domain/contract"
	"yorozu/domain/event"
	"yorozu/projections/readmodel"
)

// Name is the projection's name.
const Name = "crypto-shredding"

// Projection runs Shred for every terminated contract.
type Projection struct {
	typ string
	// Shred seals the contract's open reports and destroys its data key, once the read models
	// reflect the log up to the termination at pos.
	Shred func(ctx context.Context, customerNumber string, pos event.Position) error
}

// New returns the projection.
func New(codec *event.Registry, shred func(ctx context.Context, customerNumber string, pos event.Position) error) *Projection {
	name, err := codec.Name((*contract.ContractTerminated)(nil))
	if err != nil {
		panic(err)
	}
	return &Projection{typ: name, Shred: shred}
}

// Name implements projections.Projection.
func (*Projection) Name() string { return Name }

// Volatile implements projections.Volatile.
func (*Projection) Volatile() bool { return true }

// Apply implements projections.Projection.
func (p *Projection) Apply(ctx context.Context, _ readmodel.Tx, rec event.Record) error {
	if rec.Type != p.typ {
		return nil
	}
	cn, ok := contract.CustomerNumberOfStream(rec.Stream)
	if !ok {
		return nil
	}
	return p.Shred(ctx, cn, rec.Position)
}
