package commands

import (
	"context"
	"time"

	"github.com/google/uuid"

	"yorozu/domain/event"
	"yorozu/domain/mailmagazine"
)

// ScheduleMailMagazineIssue writes an issue of the mail magazine and schedules it: at SendAt, or
// at the next regular time (Wednesday 15:00 JST).
type ScheduleMailMagazineIssue struct {
	Meta
	Subject string
	Body    string
	SendAt  *time.Time
	// Problems are the errors found while reading the request, reported with the others.
	Problems []mailmagazine.FieldError
}

// MailMagazineIssueScheduled is the issue as scheduled.
type MailMagazineIssueScheduled struct {
	Outcome
	Issue mailmagazine.Issue
}

// ScheduleMailMagazineIssueHandler handles ScheduleMailMagazineIssue.
type ScheduleMailMagazineIssueHandler struct{ deps Deps }

// NewScheduleMailMagazineIssueHandler builds the handler.
func NewScheduleMailMagazineIssueHandler(d Deps) ScheduleMailMagazineIssueHandler {
	return ScheduleMailMagazineIssueHandler{deps: d}
}

// issueIDNamespace derives an issue's ID from the command that schedules it.
var issueIDNamespace = uuid.MustParse("c1e5a0d2-6b3f-4f7a-9d84-0e2b7c6a5f31")

func foldIssue(i *mailmagazine.Issue, _ event.Record, e any) error {
	*i = i.Evolve(e)
	return nil
}

// Handle implements the use case. The issue's ID derives from the command ID, so a retried command
// names the issue it scheduled the first time.
func (h ScheduleMailMagazineIssueHandler) Handle(ctx context.Context, cmd ScheduleMailMagazineIssue) (MailMagazineIssueScheduled, error) {
	id := uuid.Must(uuid.NewV7())
	if cmd.CommandID != "" {
		id = uuid.NewSHA1(issueIDNamespace, []byte(cmd.CommandID))
	}
	e, err := mailmagazine.Schedule(id, cmd.Subject, cmd.Body, cmd.SendAt, h.deps.Clock(), cmd.Problems...)
	if err != nil {
		return MailMagazineIssueScheduled{}, err
	}
	var issue mailmagazine.Issue
	out, err := execute(ctx, h.deps, cmd.Meta, mailmagazine.Stream(id), mailmagazine.Issue{}, foldIssue,
		func(i mailmagazine.Issue, _ uint64) ([]any, error) {
			if i.Version > 0 {
				issue = i
				return nil, nil
			}
			issue = i.Evolve(e)
			return []any{e}, nil
		})
	return MailMagazineIssueScheduled{Outcome: out, Issue: issue}, err
}
