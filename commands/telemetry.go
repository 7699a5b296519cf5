package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"yorozu/domain/billing"
	"yorozu/domain/event"
	"yorozu/domain/report"
	"yorozu/domain/telemetry"
	"yorozu/projections/agents"
	"yorozu/projections/reports"
)

// TelemetryDeps are what the terminal and telemetry use cases need besides Deps.
type TelemetryDeps struct {
	Deps
	// Agents is the in-memory directory of fleets and agent tokens (refreshed from the store
	// before every decision).
	Agents *agents.Directory
	// Keys seals telemetry payloads under each contract's data key.
	Keys        telemetry.KeyRing
	Log         event.Log
	Maintenance event.Maintenance
	Reports     ReportsView
	Random      io.Reader
}

// ReportsView is the read side the sealing decides from.
type ReportsView interface {
	// CatchUp waits until the read models reflect every event stored so far.
	CatchUp(ctx context.Context) (event.Position, error)
	// WaitFor waits until the reports reflect the log through pos.
	WaitFor(ctx context.Context, pos event.Position) error
	DueForSealing(ctx context.Context, now time.Time, only string) ([]reports.Due, error)
	Compute(ctx context.Context, cn string, m billing.Month, now time.Time, status report.Status) (report.Report, error)
}

// appendToFleet appends the events decide returns to a contract's fleet stream, deciding again
// when another process appended first. decide runs with the directory locked (see
// agents.Directory.Decide).
func appendToFleet(ctx context.Context, d TelemetryDeps, m Meta, cn string, decide func(agents.Snapshot) ([]any, error)) (Outcome, error) {
	unlock := d.Agents.Lock(cn)
	defer unlock()
	stream := telemetry.FleetStream(cn)
	for attempt := 0; ; attempt++ {
		var changes []any
		var version uint64
		err := d.Agents.Decide(ctx, cn, func(s agents.Snapshot) error {
			version = s.FleetVersion
			var err error
			changes, err = decide(s)
			return err
		})
		if err != nil {
			return Outcome{Stream: stream, Version: version}, err
		}
		if len(changes) == 0 {
			return Outcome{Stream: stream, Version: version}, nil
		}
		drafts, err := toDrafts(d.Deps, m, stream, changes)
		if err != nil {
			return Outcome{}, err
		}
		res, err := d.Events.Append(ctx, stream, event.Exactly(version), drafts)
		if errors.Is(err, event.ErrConcurrency) && attempt < maxConflictRetries {
			continue
		}
		if err != nil {
			return Outcome{}, fmt.Errorf("%w (stream %s)", err, stream)
		}
		// This process sees its own write at once, whatever the projections' lag.
		if err := d.Agents.Refresh(ctx, cn); err != nil {
			return Outcome{}, err
		}
		return Outcome{Stream: stream, Version: res.LastVersion, Position: res.LastPosition}, nil
	}
}
