// Package staffdir keeps the staff directory (accounts, live sessions, API keys) that every
// request is authenticated against. The directory lives in this process's memory and is built
// from the log at every start (it is small); each replica follows the log, so a session opened
// on one replica is known to all of them within the runner's poll interval.
package staffdir

import (
	"context"

	"yorozu/domain/access"
	"yorozu/domain/event"
	"yorozu/projections/readmodel"
)

// Name is the projection's name.
const Name = "staff-directory"

// Projection folds access events into a Directory.
type Projection struct {
	Directory *access.Directory
}

// New returns the projection with an empty directory.
func New() *Projection { return &Projection{Directory: access.NewDirectory()} }

// Name implements projections.Projection.
func (*Projection) Name() string { return Name }

// Volatile tells the runner the state is in memory only: replay from the start at every run.
func (*Projection) Volatile() bool { return true }

// HandleRecord implements projections.RecordProjection.
func (p *Projection) HandleRecord(_ context.Context, _ readmodel.Tx, r event.Record) error {
	return p.Directory.ApplyRecord(r)
}
