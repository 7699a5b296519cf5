// Package staffdir keeps the staff directory (accounts, live sessions, API keys) that every
// request is authenticated against. The directory lives in this process's memory and is built
// from the log at every start (it is small); each replica follows the log, so a session opened
// on one replica is known to all of them within the runner's poll interval.
package staffdir

import (
	"context"
	"fmt"

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
}

// New returns the projection with an empty directory, decoding with codec.
func New(codec *event.Registry) *Projection {
	return &Projection{Directory: access.NewDirectory(), codec: codec}
}

// Name implements projections.Projection.
func (*Projection) Name() string { return Name }

// Volatile tells the runner the state is in memory only: replay from the start at every run.
func (*Projection) Volatile() bool { return true }

// Apply implements projections.Projection.
func (p *Projection) Apply(_ context.Context, _ readmodel.Tx, r event.Record) error {
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
	return p.Directory.Apply(ae, r.StreamVersion)
}
