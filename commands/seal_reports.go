package commands

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"yorozu/domain/event"
	"yorozu/domain/healthcheck"
	"yorozu/domain/report"
	"yorozu/domain/telemetry"
)

// SealDueReports seals every report whose month is due (00:00 JST on the 16th of the next
// month): the scheduler runs it.
type SealDueReports struct{ Meta }

// ReportsSealed says how many reports a run sealed.
type ReportsSealed struct {
	Outcome
	Sealed int
}

// SealDueReportsHandler handles SealDueReports.
type SealDueReportsHandler struct{ deps TelemetryDeps }

// NewSealDueReportsHandler builds the handler.
func NewSealDueReportsHandler(d TelemetryDeps) SealDueReportsHandler {
	return SealDueReportsHandler{deps: d}
}

// Handle implements the use case.
func (h SealDueReportsHandler) Handle(ctx context.Context, cmd SealDueReports) (ReportsSealed, error) {
	return seal(ctx, h.deps, cmd.Meta, "", 0)
}

// reportSealNamespace derives a sealed report's event ID from its contract and month: sealing
// twice, or on two replicas at once, stores one ReportSealed.
var reportSealNamespace = uuid.MustParse("8a3c5e71-2b4d-4f6a-9c8e-1d2f3a4b5c6d")

// seal seals the due months of every contract (only == "") once the read models reflect every
// event stored so far, or every month of one contract up to the current one once the reports
// reflect the log through the position given.
func seal(ctx context.Context, d TelemetryDeps, m Meta, only string, through event.Position) (ReportsSealed, error) {
	var err error
	if only == "" {
		_, err = d.Reports.CatchUp(ctx)
	} else {
		err = d.Reports.WaitFor(ctx, through)
	}
	if err != nil {
		return ReportsSealed{}, err
	}
	now := d.Clock()
	due, err := d.Reports.DueForSealing(ctx, now, only)
	if err != nil {
		return ReportsSealed{}, err
	}
	var out ReportsSealed
	for _, due := range due {
		r, err := d.Reports.Compute(ctx, due.CustomerNumber, due.Month, now, report.StatusSealed)
		if err != nil {
			return out, err
		}
		e := &healthcheck.ReportSealed{CustomerNumber: due.CustomerNumber, Month: due.Month.String(), SealedAt: now.UTC(), Report: r}
		stream := healthcheck.ReportStream(due.CustomerNumber)
		drafts, err := toDrafts(d.Deps, m, stream, []any{e})
		if err != nil {
			return out, err
		}
		drafts[0].ID = uuid.NewSHA1(reportSealNamespace, []byte(due.CustomerNumber+"|"+due.Month.String()))
		drafts[0].EffectiveAt = healthcheck.SealAt(due.Month)
		if only != "" || now.Before(drafts[0].EffectiveAt) {
			drafts[0].EffectiveAt = now
		}
		res, err := d.Events.Append(ctx, stream, event.Any(), drafts)
		if err != nil && !errors.Is(err, event.ErrDuplicateEvent) {
			return out, fmt.Errorf("seal %s %s: %w", due.CustomerNumber, due.Month, err)
		}
		out.Sealed++
		out.Outcome = Outcome{Stream: stream, Version: res.LastVersion, Position: max(out.Position, res.LastPosition)}
	}
	return out, nil
}

// ShredTerminated seals a terminated contract's open reports at once, then destroys its data key
// (crypto-shredding): its raw telemetry is unreadable from then on, by anyone, from any copy.
type ShredTerminated struct {
	Meta
	CustomerNumber string
	// Through is the position of the termination: the reports are sealed once they reflect it.
	Through event.Position
}

// ShredTerminatedHandler handles ShredTerminated.
type ShredTerminatedHandler struct{ deps TelemetryDeps }

// NewShredTerminatedHandler builds the handler.
func NewShredTerminatedHandler(d TelemetryDeps) ShredTerminatedHandler {
	return ShredTerminatedHandler{deps: d}
}

// Handle implements the use case. It refuses a contract the directory does not know terminated.
func (h ShredTerminatedHandler) Handle(ctx context.Context, cmd ShredTerminated) (ReportsSealed, error) {
	if err := h.deps.Agents.Refresh(ctx, cmd.CustomerNumber); err != nil {
		return ReportsSealed{}, err
	}
	if !h.deps.Agents.Terminated(cmd.CustomerNumber) {
		return ReportsSealed{}, fmt.Errorf("shred %s: %w", cmd.CustomerNumber, telemetry.ErrContractNotActive)
	}
	out, err := seal(ctx, h.deps, cmd.Meta, cmd.CustomerNumber, cmd.Through)
	if err != nil {
		return out, err
	}
	return out, h.deps.Keys.Destroy(ctx, cmd.CustomerNumber)
}

// ExpireTelemetry removes raw telemetry older than the retention (the scheduler runs it daily).
type ExpireTelemetry struct{}

// RetentionMonths is how long raw telemetry is kept.
const RetentionMonths = 3

// ExpireTelemetryHandler handles ExpireTelemetry.
type ExpireTelemetryHandler struct{ deps TelemetryDeps }

// NewExpireTelemetryHandler builds the handler.
func NewExpireTelemetryHandler(d TelemetryDeps) ExpireTelemetryHandler {
	return ExpireTelemetryHandler{deps: d}
}

// Handle drops the day partitions of telemetry recorded more than three months ago. The months
// they covered were sealed long before (on the 16th of the next month), so no report changes.
func (h ExpireTelemetryHandler) Handle(ctx context.Context, _ ExpireTelemetry) error {
	return h.deps.Maintenance.ExpireBefore(ctx, h.deps.Clock().AddDate(0, -RetentionMonths, 0))
}
