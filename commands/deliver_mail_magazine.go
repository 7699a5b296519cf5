package commands

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"yorozu/domain/calendar"
	"yorozu/domain/event"
	"yorozu/domain/mailmagazine"
)

// OutgoingMail is one message of an issue: the same text for everyone, its recipients only in the
// envelope (Bcc).
type OutgoingMail struct {
	// Key names the message within the service (issue and chunk); the sender makes the
	// Message-ID from it.
	Key     string
	Subject string
	Body    string
	Date    time.Time
	Bcc     []string
}

// MailReceipt is what the server said of one message.
type MailReceipt struct {
	MessageID string
	// Accepted recipients have the message; Rejected were refused for good (5xx) and are not
	// tried again; Deferred were refused for now (4xx) and wait for the next attempt.
	Accepted []string
	Rejected []mailmagazine.Rejection
	Deferred []string
}

// MailSender opens sessions with the mail server (the SMTP adapter).
type MailSender interface {
	Open(ctx context.Context) (MailSession, error)
}

// MailSession is one connection: messages go out one after the other.
type MailSession interface {
	// Send transmits one message. An error means the server did not take it: nothing of it was
	// delivered, and the session is not to be used again.
	Send(ctx context.Context, m OutgoingMail) (MailReceipt, error)
	Close() error
}

// DueIssues finds the issues that may be due: unsent, their time come. The issues read model
// implements it; the use case decides on each issue's own stream.
type DueIssues interface {
	DueIssues(ctx context.Context, now time.Time) ([]uuid.UUID, error)
}

// MailRecipients lists the magazine's recipients as of a date (the recipients view).
type MailRecipients interface {
	RecipientEmails(ctx context.Context, asOf calendar.Date) ([]string, error)
}

// DeliverMailMagazine is the delivery job's tick: every due issue is sent, or its attempt fails
// and waits its back-off. Each attempt is claimed on the issue's stream first, and each message
// the server accepts is recorded at once (ChunkSent), so that neither a second replica nor a
// restart sends a recipient the issue twice: only a crash between the server's acceptance and
// that record can (SMTP gives nothing better).
type DeliverMailMagazine struct{}

// MailMagazineDelivered says what a tick did.
type MailMagazineDelivered struct {
	Issues   int
	Messages int
	Sent     int
	Position event.Position
}

// MailDeliveryConfig wires the delivery.
type MailDeliveryConfig struct {
	Due        DueIssues
	Recipients MailRecipients
	Sender     MailSender
	// Name is this process's name as a sender (unique among the replicas).
	Name string
}

// DeliverMailMagazineHandler handles DeliverMailMagazine.
type DeliverMailMagazineHandler struct {
	deps Deps
	cfg  MailDeliveryConfig
}

// NewDeliverMailMagazineHandler builds the handler.
func NewDeliverMailMagazineHandler(d Deps, cfg MailDeliveryConfig) DeliverMailMagazineHandler {
	if cfg.Name == "" {
		cfg.Name = "sender-" + uuid.NewString()
	}
	return DeliverMailMagazineHandler{deps: d, cfg: cfg}
}

// Handle sends what is due now. It goes on with the other issues after one fails and returns the
// failures joined.
func (h DeliverMailMagazineHandler) Handle(ctx context.Context, _ DeliverMailMagazine) (MailMagazineDelivered, error) {
	var done MailMagazineDelivered
	if h.cfg.Sender == nil || h.cfg.Due == nil || h.cfg.Recipients == nil {
		return done, nil
	}
	ids, err := h.cfg.Due.DueIssues(ctx, h.deps.Clock())
	if err != nil {
		return done, err
	}
	var errs []error
	for _, id := range ids {
		a := &attempt{h: h, stream: mailmagazine.Stream(id)}
		err := a.run(ctx)
		done.Messages += a.messages
		done.Position = max(done.Position, a.position)
		if a.claimed {
			done.Issues++
		}
		if a.sent {
			done.Sent++
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("issue %s: %w", id, err))
		}
	}
	return done, errors.Join(errs...)
}

// attempt is one delivery attempt of one issue by this sender. It keeps the issue's state as it
// appends, so that recording a message costs one append, not a reload of the stream.
type attempt struct {
	h        DeliverMailMagazineHandler
	stream   string
	issue    mailmagazine.Issue
	claimed  bool
	sent     bool
	messages int
	position event.Position
}

func (a *attempt) reload(ctx context.Context) error {
	a.issue = mailmagazine.Issue{}
	_, err := load(ctx, a.h.deps, a.stream, &a.issue, foldIssue)
	return err
}

// record appends what decide returns at the issue's current version; on a conflict it reloads
// and decides again (which fails with ErrClaimLost if another sender took the issue).
func (a *attempt) record(ctx context.Context, decide func(mailmagazine.Issue) (any, error)) error {
	for range maxConflictRetries {
		e, err := decide(a.issue)
		if err != nil || e == nil {
			return err
		}
		m := Meta{Actor: event.SystemActor, CommandID: fmt.Sprintf("mail-magazine/%s/%s/%d", a.stream, a.h.cfg.Name, a.issue.Version)}
		drafts, err := toDrafts(a.h.deps, m, a.stream, []any{e})
		if err != nil {
			return err
		}
		res, err := a.h.deps.Events.Append(ctx, a.stream, event.Exactly(a.issue.Version), drafts)
		if errors.Is(err, event.ErrConcurrency) {
			if err := a.reload(ctx); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		a.issue = a.issue.Evolve(e)
		a.position = res.LastPosition
		return nil
	}
	return ErrTooManyConflicts
}

func (a *attempt) run(ctx context.Context) error {
	if err := a.reload(ctx); err != nil {
		return err
	}
	now := a.h.deps.Clock()
	if !a.issue.Due(now) {
		return nil // sent, or waiting after a failure: the read model had not seen it yet
	}
	err := a.record(ctx, func(i mailmagazine.Issue) (any, error) { return i.ClaimDelivery(a.h.cfg.Name, a.h.deps.Clock()) })
	if errors.Is(err, mailmagazine.ErrClaimed) || errors.Is(err, mailmagazine.ErrNotDue) {
		return nil // another replica has it, or it just changed
	}
	if err != nil {
		return err
	}
	a.claimed = true
	if err := a.deliver(ctx); err != nil {
		if errors.Is(err, mailmagazine.ErrClaimLost) || ctx.Err() != nil {
			return err
		}
		if ferr := a.record(ctx, func(i mailmagazine.Issue) (any, error) { return i.Fail(a.h.cfg.Name, err, a.h.deps.Clock()) }); ferr != nil {
			return errors.Join(err, ferr)
		}
		return err
	}
	return nil
}

// deliver sends the pending recipients in chunks over one session and completes the issue.
func (a *attempt) deliver(ctx context.Context) error {
	all, err := a.h.cfg.Recipients.RecipientEmails(ctx, a.issue.AsOf)
	if err != nil {
		return err
	}
	pending := a.issue.Pending(all)
	var deferred []string
	if len(pending) > 0 {
		session, err := a.h.cfg.Sender.Open(ctx)
		if err != nil {
			return fmt.Errorf("connect to the mail server: %w", err)
		}
		defer session.Close()
		for len(pending) > 0 {
			n := min(len(pending), mailmagazine.ChunkSize)
			chunk := pending[:n]
			pending = pending[n:]
			receipt, err := session.Send(ctx, OutgoingMail{
				Key:     fmt.Sprintf("%s.%d", strings.TrimPrefix(a.stream, mailmagazine.StreamCategory+"-"), a.issue.Messages+1),
				Subject: a.issue.Subject, Body: a.issue.Body, Date: a.h.deps.Clock(), Bcc: chunk,
			})
			if err != nil {
				return err
			}
			if err := a.record(ctx, func(i mailmagazine.Issue) (any, error) {
				return i.RecordChunk(a.h.cfg.Name, receipt.MessageID, receipt.Accepted, receipt.Rejected, a.h.deps.Clock())
			}); err != nil {
				return err
			}
			a.messages++
			deferred = append(deferred, receipt.Deferred...)
		}
	}
	if len(deferred) > 0 {
		return fmt.Errorf("%d recipients deferred by the server (first %s); they are tried again", len(deferred), deferred[0])
	}
	if err := a.record(ctx, func(i mailmagazine.Issue) (any, error) { return i.Complete(a.h.cfg.Name, a.h.deps.Clock()) }); err != nil {
		return err
	}
	a.sent = true
	return nil
}
