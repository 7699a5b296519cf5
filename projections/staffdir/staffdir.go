// Package staffdir keeps the staff directory (accounts, live sessions, API keys) that every
// request is authenticated against. The directory lives in this process's memory and is built
// from the log at every start (it is small); each replica follows the log, so a session opened
// on one replica is known to all of them as soon as their runner has read the login, and a
// logout, a disabled member or a revoked key ends access on each as soon as it has read that.
//
// Fresh reports how far the directory has read, so that a request can be authenticated
// against a directory that has read at least everything its replica knows of (see WaitFor):
// what was revoked before the request arrived is refused, on every replica.
package staffdir

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"yorozu/domain/access"
	"yorozu/domain/event"
	"yorozu/projections/readmodel"
)

// Name is the projection's name.
const Name = "staff-directory"

// Projection folds access events into a Directory.
type Projection struct {
	Directory *access.Directory
	codec     *event.Registry

	// applied is the position of the last record handed to Apply (whatever its type).
	applied atomic.Uint64
	mu      sync.Mutex
	moved   chan struct{} // closed and replaced whenever applied grows
}

// New returns the projection with an empty directory, decoding with codec.
func New(codec *event.Registry) *Projection {
	return &Projection{Directory: access.NewDirectory(), codec: codec, moved: make(chan struct{})}
}

// Name implements projections.Projection.
func (*Projection) Name() string { return Name }

// Volatile tells the runner the state is in memory only: replay from the start at every run.
func (*Projection) Volatile() bool { return true }

// Apply implements projections.Projection.
func (p *Projection) Apply(_ context.Context, _ readmodel.Tx, r event.Record) error {
	if err := p.apply(r); err != nil {
		return err
	}
	p.advance(r.Position)
	return nil
}

func (p *Projection) apply(r event.Record) error {
	if !p.codec.Knows(r.Type) {
		return nil
	}
	if c := event.Category(r.Stream); c != access.StaffCategory && c != access.APIKeyCategory {
		return nil
	}
	e, err := p.codec.Decode(r)
	if err != nil {
		return err
	}
	ae, ok := e.(access.Event)
	if !ok {
		return fmt.Errorf("staffdir: %s in %s", r.Type, r.Stream)
	}
	return p.Directory.ApplyAt(ae, r.StreamVersion, r.RecordedAt)
}

func (p *Projection) advance(pos event.Position) {
	if uint64(pos) <= p.applied.Load() {
		return
	}
	p.applied.Store(uint64(pos))
	p.mu.Lock()
	close(p.moved)
	p.moved = make(chan struct{})
	p.mu.Unlock()
}

// Applied is the log position the directory has read up to.
func (p *Projection) Applied() event.Position { return event.Position(p.applied.Load()) }

// WaitFor blocks until the directory has read the log up to pos, or ctx ends.
func (p *Projection) WaitFor(ctx context.Context, pos event.Position) error {
	for {
		p.mu.Lock()
		moved := p.moved
		p.mu.Unlock()
		if p.Applied() >= pos {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-moved:
		}
	}
}
