package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"time"

	"yorozu/adapters/mailer"
	"yorozu/adapters/scheduler"
	"yorozu/commands"
	"yorozu/domain/event"
	"yorozu/projections"
	"yorozu/projections/diagnoses"
	"yorozu/projections/mailmagazine"
	"yorozu/projections/webfiltering"
)

// services are the parts of web filtering, the diagnosis and the mail magazine the composition
// root wires: their projections, the read sides the API and the delivery read, and the delivery.
type services struct {
	projections []projections.Projection
	policies    *webfiltering.Policies
	recipients  *mailmagazine.Recipients
	issues      mailmagazine.IssueList
	delivery    commands.MailDeliveryConfig
}

// wireServices builds them. The option reactor calls the use case once the Application exists.
func (a *App) wireServices() (services, error) {
	s := services{
		policies:   webfiltering.NewPolicies(a.codec),
		recipients: mailmagazine.NewRecipients(a.codec),
		issues:     mailmagazine.IssueList{Models: a.Models},
	}
	reactor := webfiltering.NewOptionReactor(a.codec, func(ctx context.Context, cn string, cause event.Record) error {
		_, err := a.Application.Commands.EndWebFilteringOption.Handle(ctx, commands.EndWebFilteringOption{
			Meta:           commands.Meta{Actor: event.SystemActor, CausationID: cause.ID.String(), CorrelationID: cause.CorrelationID},
			CustomerNumber: cn,
		})
		return err
	})
	s.projections = []projections.Projection{s.policies, reactor, diagnoses.NewProjection(a.codec), s.recipients,
		mailmagazine.NewIssues(a.codec)}
	sender, err := a.cfg.mailSender()
	if err != nil {
		return s, err
	}
	if sender != nil {
		name, err := senderName(a.cfg.Random)
		if err != nil {
			return s, err
		}
		s.delivery = commands.MailDeliveryConfig{Due: s.issues, Recipients: s.recipients, Sender: sender, Name: name}
	}
	return s, nil
}

// mailSender is the SMTP sender --smtp names, nil without it.
func (c Config) mailSender() (*mailer.Sender, error) {
	if c.Mail.URL == "" {
		return nil, nil
	}
	return mailer.New(c.Mail)
}

// senderName names this process among the replicas that may deliver the magazine.
func senderName(random io.Reader) (string, error) {
	if random == nil {
		random = rand.Reader
	}
	b := make([]byte, 4)
	if _, err := io.ReadFull(random, b); err != nil {
		return "", err
	}
	host, _ := os.Hostname()
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b)), nil
}

// mailDeliveryEvery is how often the delivery looks for due issues: well within the minute an
// issue may wait after its time.
const mailDeliveryEvery = 10 * time.Second

// mailJob is the delivery's scheduled job (nil without --smtp, or with the schedulers off).
func (a *App) mailJob() *scheduler.Job {
	if !a.Application.Queries.MailDelivering || a.cfg.SchedulerInterval <= 0 {
		return nil
	}
	deliver := a.Application.Commands.DeliverMailMagazine
	return &scheduler.Job{
		Name:  "mail magazine delivery",
		Every: min(a.cfg.SchedulerInterval, mailDeliveryEvery),
		Run: func(ctx context.Context) (string, error) {
			done, err := deliver.Handle(ctx, commands.DeliverMailMagazine{})
			if done.Issues == 0 {
				return "", err
			}
			return fmt.Sprintf("mail magazine: %d issues attempted, %d sent, %d messages", done.Issues, done.Sent, done.Messages), err
		},
	}
}

// RunMailDelivery runs the delivery job once and waits until the read models show what it did
// (tests and operators use it; the scheduler runs the same use case).
func (a *App) RunMailDelivery(ctx context.Context) (commands.MailMagazineDelivered, error) {
	done, err := a.Application.Commands.DeliverMailMagazine.Handle(ctx, commands.DeliverMailMagazine{})
	a.awaitProjections(ctx, done.Position)
	return done, err
}
