// Package mailmagazine is the weekly security mail magazine (セキュリティメールマガジン): its issues,
// scheduled by staff and delivered by the service, and its recipients, the addresses registered
// on every active contract (Roster).
//
// It is pure: no I/O, no clock. docs/mail-magazine.md states the rules in prose.
package mailmagazine

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"yorozu/domain/calendar"
)

// Status of an issue as staff see it.
type Status string

// The statuses: scheduled until sent; late while still unsent LateAfter past its time (it keeps
// being retried); sent.
const (
	StatusScheduled Status = "scheduled"
	StatusLate      Status = "late"
	StatusSent      Status = "sent"
)

// Delivery rules.
const (
	// ChunkSize is the most recipients (Bcc) one SMTP message carries.
	ChunkSize = 500
	// LateAfter is how long after its time an unsent issue reads late.
	LateAfter = 6 * time.Hour
	// Lease is how long a sender's claim holds without a new event from it: a sender that died
	// mid-delivery is taken over by another one after that.
	Lease = 5 * time.Minute
	// issueWeekday and issueHour: the magazine goes out on Wednesdays at 15:00 JST.
	issueWeekday = time.Wednesday
	issueHour    = 15
	// clockSkew is how far in the past a requested send time may be.
	clockSkew = 5 * time.Minute
	// MaxSubject and MaxBody bound an issue's text (characters).
	MaxSubject = 200
	MaxBody    = 100_000
)

// backoff is the wait after the n-th failed attempt (n from 1), growing to a quarter of an hour.
func backoff(n int) time.Duration {
	d := 30 * time.Second
	for i := 1; i < n && d < 15*time.Minute; i++ {
		d *= 2
	}
	return min(d, 15*time.Minute)
}

var (
	// ErrInvalidIssue: an issue breaks a rule; the ValidationError lists every field.
	ErrInvalidIssue = errors.New("mailmagazine: invalid issue")
	// ErrNotFound: no issue has that ID.
	ErrNotFound = errors.New("mailmagazine: issue not found")
	// ErrNotDue: the issue is not due (not its time yet, waiting after a failure, or sent).
	ErrNotDue = errors.New("mailmagazine: the issue is not due")
	// ErrClaimed: another sender holds the issue.
	ErrClaimed = errors.New("mailmagazine: another sender is delivering the issue")
	// ErrClaimLost: this sender no longer holds the issue (its lease ran out and another took it).
	ErrClaimLost = errors.New("mailmagazine: the delivery claim was lost")
)

// FieldError is one broken rule of one field.
type FieldError struct {
	Field   string
	Code    string
	Message string
}

// ValidationError carries every field error at once. It matches ErrInvalidIssue.
type ValidationError struct{ Errors []FieldError }

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Errors))
	for i, f := range e.Errors {
		parts[i] = f.Field + ": " + f.Message
	}
	return fmt.Sprintf("%v: %s", ErrInvalidIssue, strings.Join(parts, "; "))
}

func (e *ValidationError) Unwrap() error { return ErrInvalidIssue }

// NextIssueTime is the magazine's next regular time after now: Wednesday 15:00 JST, today if it
// is a Wednesday before 15:00.
func NextIssueTime(now time.Time) time.Time {
	d := calendar.DateOf(now)
	for {
		if d.Weekday() == issueWeekday {
			if at := d.Start().Add(issueHour * time.Hour); now.Before(at) {
				return at
			}
		}
		d = d.AddDays(1)
	}
}

// Issue is one issue of the magazine, folded from its stream.
type Issue struct {
	ID          uuid.UUID
	Subject     string
	Body        string
	ScheduledAt time.Time
	// Claim is the sender delivering it now ("" when none), since ClaimedAt; LastActivity is
	// the time of its latest event, from which its lease runs.
	Claim        string
	LastActivity time.Time
	Attempts     int
	AsOf         calendar.Date
	// Delivered holds every address the server accepted, Rejected those it refused for good.
	Delivered     map[string]bool
	Rejected      map[string]bool
	Messages      int
	LastError     string
	NextAttemptAt time.Time
	Sent          bool
	SentAt        time.Time
	Version       uint64
}

// Schedule decides a new issue: subject and body required, without control characters (the body
// may have tabs and line breaks), sendAt not in the past; without sendAt the next regular time.
// problems are the errors found while reading the request; they are reported with the others,
// and the fields they name are not checked again.
func Schedule(id uuid.UUID, subject, body string, sendAt *time.Time, now time.Time, problems ...FieldError) (*IssueScheduled, error) {
	errs := append([]FieldError(nil), problems...)
	named := func(field string) bool {
		for _, e := range problems {
			if e.Field == field {
				return true
			}
		}
		return false
	}
	add := func(field, code, msg string) { errs = append(errs, FieldError{Field: field, Code: code, Message: msg}) }
	check := func(field, s string, max int, allowed func(rune) bool) {
		switch {
		case named(field):
		case strings.TrimSpace(s) == "":
			add(field, "required", field+" is required")
		case !utf8.ValidString(s):
			add(field, "invalidEncoding", field+" is not valid UTF-8")
		case utf8.RuneCountInString(s) > max:
			add(field, "tooLong", fmt.Sprintf("%s is at most %d characters", field, max))
		case strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) && !allowed(r) }) >= 0:
			add(field, "controlCharacter", field+" has a control character")
		}
	}
	check("subject", subject, MaxSubject, func(rune) bool { return false })
	check("body", body, MaxBody, func(r rune) bool { return r == '\t' || r == '\n' })
	at := NextIssueTime(now)
	if sendAt != nil {
		if sendAt.Before(now.Add(-clockSkew)) {
			add("sendAt", "inPast", "sendAt is in the past")
		}
		at = *sendAt
	}
	if len(errs) > 0 {
		return nil, &ValidationError{Errors: errs}
	}
	return &IssueScheduled{IssueID: id, Subject: subject, Body: body, ScheduledAt: at.UTC()}, nil
}

// Evolve applies one event of the issue's stream.
func (i Issue) Evolve(e any) Issue {
	i.Version++
	switch e := e.(type) {
	case *IssueScheduled:
		i.ID, i.Subject, i.Body, i.ScheduledAt = e.IssueID, e.Subject, e.Body, e.ScheduledAt
	case *DeliveryClaimed:
		i.Claim, i.LastActivity, i.Attempts = e.Sender, e.At, e.Attempt
		if i.AsOf.IsZero() {
			i.AsOf = e.AsOf
		}
	case *ChunkSent:
		i.Delivered = grow(i.Delivered, e.Recipients)
		rejected := make([]string, len(e.Rejected))
		for k, r := range e.Rejected {
			rejected[k] = r.Address
		}
		i.Rejected = grow(i.Rejected, rejected)
		i.Messages++
		i.LastActivity = e.At
	case *AttemptFailed:
		i.Claim, i.LastActivity, i.LastError, i.NextAttemptAt = "", e.At, e.Error, e.NextAttemptAt
	case *MailMagazineSent:
		i.Claim, i.Sent, i.SentAt, i.LastError = "", true, e.SentAt, ""
	}
	return i
}

// grow returns a copy of set with the addresses added (folded states share nothing).
func grow(set map[string]bool, addrs []string) map[string]bool {
	out := make(map[string]bool, len(set)+len(addrs))
	for a := range set {
		out[a] = true
	}
	for _, a := range addrs {
		out[a] = true
	}
	return out
}

// StatusAt is the status staff see at now. delivering says whether the service sends mail at
// all: without it nothing is ever late, the issue simply waits.
func (i Issue) StatusAt(now time.Time, delivering bool) Status {
	switch {
	case i.Sent:
		return StatusSent
	case delivering && !now.Before(i.ScheduledAt.Add(LateAfter)):
		return StatusLate
	}
	return StatusScheduled
}

// Due reports whether a sender may start an attempt at now.
func (i Issue) Due(now time.Time) bool {
	return i.Version > 0 && !i.Sent && !now.Before(i.ScheduledAt) && !now.Before(i.NextAttemptAt)
}

// claimLive reports whether a claim holds at now.
func (i Issue) claimLive(now time.Time) bool {
	return i.Claim != "" && now.Before(i.LastActivity.Add(Lease))
}

// ClaimDelivery decides sender taking the issue for an attempt at now.
func (i Issue) ClaimDelivery(sender string, now time.Time) (*DeliveryClaimed, error) {
	switch {
	case i.Version == 0:
		return nil, ErrNotFound
	case !i.Due(now):
		return nil, ErrNotDue
	case i.claimLive(now) && i.Claim != sender:
		return nil, fmt.Errorf("%w: %s", ErrClaimed, i.Claim)
	}
	asOf := i.AsOf
	if asOf.IsZero() {
		asOf = calendar.DateOf(now)
	}
	return &DeliveryClaimed{IssueID: i.ID, Sender: sender, Attempt: i.Attempts + 1, At: now.UTC(), AsOf: asOf}, nil
}

// Holds reports whether sender holds the issue at now.
func (i Issue) Holds(sender string, now time.Time) bool { return i.Claim == sender && i.claimLive(now) }

// Pending is what is left to send of recipients: those neither delivered nor refused for good.
func (i Issue) Pending(recipients []string) []string {
	var out []string
	for _, r := range recipients {
		if !i.Delivered[r] && !i.Rejected[r] {
			out = append(out, r)
		}
	}
	return out
}

// RecordChunk decides recording a message the server accepted.
func (i Issue) RecordChunk(sender, messageID string, recipients []string, rejected []Rejection, now time.Time) (*ChunkSent, error) {
	if i.Claim != sender {
		return nil, ErrClaimLost
	}
	return &ChunkSent{IssueID: i.ID, Sender: sender, Chunk: i.Messages + 1, MessageID: messageID, Recipients: recipients,
		Rejected: rejected, At: now.UTC()}, nil
}

// Fail decides the end of a failed attempt: the claim is released and the next attempt waits a
// back-off that doubles with each failure (30 s to 15 min).
func (i Issue) Fail(sender string, cause error, now time.Time) (*AttemptFailed, error) {
	if i.Claim != sender {
		return nil, ErrClaimLost
	}
	msg := cause.Error()
	if utf8.RuneCountInString(msg) > 500 {
		msg = string([]rune(msg)[:500])
	}
	return &AttemptFailed{IssueID: i.ID, Sender: sender, Attempt: i.Attempts, Error: msg, At: now.UTC(),
		NextAttemptAt: now.Add(backoff(i.Attempts)).UTC()}, nil
}

// Complete decides that the issue is sent, once nothing of recipients is pending.
func (i Issue) Complete(sender string, now time.Time) (*MailMagazineSent, error) {
	if i.Claim != sender {
		return nil, ErrClaimLost
	}
	return &MailMagazineSent{IssueID: i.ID, Subject: i.Subject, SentAt: now.UTC(), AsOf: i.AsOf, Recipients: len(i.Delivered),
		Messages: i.Messages, Rejected: len(i.Rejected), Attempts: i.Attempts}, nil
}
