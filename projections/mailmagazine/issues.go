package mailmagazine

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"

	"yorozu/domain/calendar"
	"yorozu/domain/event"
	"yorozu/domain/mailmagazine"
	"yorozu/projections"
	"yorozu/projections/readmodel"
)

// IssuesName is the name of the issues projection: part of the storage schema.
const IssuesName = "mail-magazine-issues"

const issuesCollection = "issues"

// IssueView is one issue as stored: the facts of its stream. Its status depends on the time it is
// read (late), so the reader computes it (StatusAt).
type IssueView struct {
	IssueID     uuid.UUID `json:"issueId"`
	Subject     string    `json:"subject"`
	Body        string    `json:"body"`
	ScheduledAt time.Time `json:"scheduledAt"`
	// ScheduledKey is ScheduledAt as a fixed-width UTC text (string order is time order).
	ScheduledKey  string        `json:"scheduledKey"`
	Sent          bool          `json:"sent"`
	SentAt        *time.Time    `json:"sentAt,omitempty"`
	AsOf          calendar.Date `json:"asOf,omitzero"`
	Recipients    int           `json:"recipients"`
	Messages      int           `json:"messages"`
	Rejected      int           `json:"rejected"`
	Attempts      int           `json:"attempts"`
	LastError     string        `json:"lastError,omitempty"`
	NextAttemptAt *time.Time    `json:"nextAttemptAt,omitempty"`
	Version       uint64        `json:"version"`
}

// StatusAt is the issue's status at now (late needs the delivery to be configured).
func (v IssueView) StatusAt(now time.Time, delivering bool) mailmagazine.Status {
	return mailmagazine.Issue{Sent: v.Sent, ScheduledAt: v.ScheduledAt}.StatusAt(now, delivering)
}

func timeKey(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }

// Issues builds the issue documents.
type Issues struct {
	codec *event.Registry
}

// NewIssues returns the projection, decoding with codec.
func NewIssues(codec *event.Registry) Issues { return Issues{codec: codec} }

// Name implements projections.Projection.
func (Issues) Name() string { return IssuesName }

// Apply implements projections.Projection: the issue's own fold, checked to be the next event of
// its stream.
func (p Issues) Apply(ctx context.Context, tx readmodel.Tx, rec event.Record) error {
	if event.Category(rec.Stream) != mailmagazine.StreamCategory {
		return nil
	}
	e, err := p.codec.Decode(rec)
	if err != nil {
		return err
	}
	var v IssueView
	raw, found, err := tx.Get(ctx, issuesCollection, rec.Stream)
	if err != nil {
		return err
	}
	if found {
		if err := json.Unmarshal(raw, &v); err != nil {
			return err
		}
	}
	if err := projections.NextInStream(rec, v.Version); err != nil {
		return err
	}
	v.Version = rec.StreamVersion
	switch e := e.(type) {
	case *mailmagazine.IssueScheduled:
		v.IssueID, v.Subject, v.Body, v.ScheduledAt, v.ScheduledKey = e.IssueID, e.Subject, e.Body, e.ScheduledAt, timeKey(e.ScheduledAt)
	case *mailmagazine.DeliveryClaimed:
		v.Attempts = e.Attempt
		if v.AsOf.IsZero() {
			v.AsOf = e.AsOf
		}
	case *mailmagazine.ChunkSent:
		v.Recipients += len(e.Recipients)
		v.Rejected += len(e.Rejected)
		v.Messages++
	case *mailmagazine.AttemptFailed:
		next := e.NextAttemptAt
		v.LastError, v.NextAttemptAt = e.Error, &next
	case *mailmagazine.MailMagazineSent:
		at := e.SentAt
		v.Sent, v.SentAt, v.LastError, v.NextAttemptAt = true, &at, "", nil
		v.Recipients, v.Messages, v.Rejected, v.Attempts = e.Recipients, e.Messages, e.Rejected, e.Attempts
	}
	return tx.Put(ctx, issuesCollection, rec.Stream, v)
}

// IssueList reads the issues.
type IssueList struct {
	Models readmodel.Store
}

// Get returns one issue.
func (l IssueList) Get(ctx context.Context, id uuid.UUID) (IssueView, bool, error) {
	raw, ok, err := l.Models.Get(ctx, IssuesName, issuesCollection, mailmagazine.Stream(id))
	if err != nil || !ok {
		return IssueView{}, ok, err
	}
	var v IssueView
	return v, true, json.Unmarshal(raw, &v)
}

// List pages through the issues by scheduled time.
func (l IssueList) List(ctx context.Context, after string, limit int) ([]IssueView, string, error) {
	page, err := l.Models.Find(ctx, IssuesName, readmodel.Query{Collection: issuesCollection, OrderBy: "scheduledKey", After: after, Limit: limit})
	if err != nil {
		return nil, "", err
	}
	out := make([]IssueView, len(page.Docs))
	for i, d := range page.Docs {
		if err := json.Unmarshal(d, &out[i]); err != nil {
			return nil, "", err
		}
	}
	return out, page.Next, nil
}

// DueIssues lists the unsent issues whose time has come (commands.DueIssues).
func (l IssueList) DueIssues(ctx context.Context, now time.Time) ([]uuid.UUID, error) {
	q := readmodel.Query{Collection: issuesCollection, OrderBy: "scheduledKey", Limit: 1000, Where: []readmodel.Cond{
		{Field: "sent", Op: readmodel.Eq, Value: "false"},
		{Field: "scheduledKey", Op: readmodel.Lt, Value: timeKey(now.Add(time.Microsecond))},
	}}
	var out []uuid.UUID
	for {
		page, err := l.Models.Find(ctx, IssuesName, q)
		if err != nil {
			return nil, err
		}
		for _, d := range page.Docs {
			var v IssueView
			if err := json.Unmarshal(d, &v); err != nil {
				return nil, err
			}
			out = append(out, v.IssueID)
		}
		if page.Next == "" {
			return out, nil
		}
		q.After = page.Next
	}
}
