package commands

import (
	"context"

	"yorozu/domain/contract"
	"yorozu/domain/failure"
)

// ReportFailure records a failure report (故障), authenticated like a consultation:
// recorded when the customer number and company name identify a contract active at the time of
// receipt, rejected with the reason otherwise. The report's ID (failure.NewID) comes from the
// command, so a retried report names the same one.
type ReportFailure struct {
	Meta
	Report failure.Details
}

// FailureReceipt is what the intake decided.
type FailureReceipt struct {
	Outcome
	Status          failure.Status
	RejectionReason contract.CallerRejection
}

// ReportFailureHandler handles ReportFailure.
type ReportFailureHandler struct{ deps Deps }

// NewReportFailureHandler builds the handler.
func NewReportFailureHandler(d Deps) ReportFailureHandler { return ReportFailureHandler{deps: d} }

// Handle implements the use case.
func (h ReportFailureHandler) Handle(ctx context.Context, cmd ReportFailure) (FailureReceipt, error) {
	customer, err := contractAt(ctx, h.deps, cmd.Report.CustomerNumber, cmd.Report.ReceivedAt)
	if err != nil {
		return FailureReceipt{}, err
	}
	stream := failure.Stream(cmd.Report.FailureID)
	out, err := execute(ctx, h.deps, cmd.Meta, stream, failure.Report{}, evolve,
		func(r failure.Report, _ uint64) ([]any, error) {
			if r.Exists() {
				return nil, nil // a retried command
			}
			return []any{failure.Receive(cmd.Report, customer)}, nil
		})
	if err != nil {
		return FailureReceipt{}, err
	}
	var r failure.Report
	if _, err := load(ctx, h.deps, stream, &r, evolve); err != nil {
		return FailureReceipt{}, err
	}
	return FailureReceipt{Outcome: out, Status: r.Status, RejectionReason: r.RejectionReason}, nil
}
