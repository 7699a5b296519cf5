package app

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/ThreeDotsLabs/watermill/message"

	"yorozu/adapters/outbox"
)

// IntegrationAuto picks the integration transport from the store: SQL with PostgreSQL, the
// in-process channel otherwise.
const IntegrationAuto = "auto"

// integrationTransport is the transport the configuration names.
func (c Config) integrationTransport() (outbox.Transport, error) {
	t := outbox.Transport{NATS: c.NATS}
	switch c.IntegrationTransport {
	case "", IntegrationAuto:
		t.Kind = outbox.KindChannel
		if c.PostgresURL != "" {
			t.Kind = outbox.KindSQL
		}
	default:
		k, err := outbox.ParseKind(c.IntegrationTransport)
		if err != nil {
			return t, fmt.Errorf("--integration-transport: %w", err)
		}
		t.Kind = k
	}
	if t.Kind == outbox.KindSQL && c.PostgresURL == "" {
		return t, errors.New("--integration-transport sql needs --postgres")
	}
	if err := t.Validate(); err != nil {
		return t, fmt.Errorf("--integration-transport %s: %w", t.Kind, err)
	}
	return t, nil
}

// startIntegration opens the integration transport and returns the relay loop that forwards the
// integration events (InvoiceFinalized, MailMagazineSent) from the event log to it, one relay each.
func (a *App) startIntegration(ctx context.Context) (func(context.Context), error) {
	t, err := a.cfg.integrationTransport()
	if err != nil {
		return nil, err
	}
	ep, err := outbox.Open(ctx, t, outbox.Deps{Pool: a.pool, DataDir: a.cfg.DataDir, Logger: a.cfg.Logger})
	if err != nil {
		return nil, err
	}
	// Closed after the relay has stopped (Close waits for the background work first); closing
	// it also releases a relay blocked on an in-process consumer.
	a.closers = append(a.closers, func() { _ = ep.Close() })
	a.integration = ep
	relay, err := ep.NewRelay(outbox.Config{
		Name:        outbox.InvoiceFinalizedRelay,
		Log:         a.integrity.Log(),
		Translators: []outbox.Translator{outbox.InvoiceFinalized(a.codec), outbox.ReportSealed(a.codec)},
		Logger:      a.cfg.Logger,
	})
	if err != nil {
		return nil, err
	}
	mail, err := ep.NewRelay(outbox.Config{
		Name:        outbox.MailMagazineSentRelay,
		Log:         a.Events,
		Translators: []outbox.Translator{outbox.MailMagazineSent(a.codec)},
		Logger:      a.cfg.Logger,
	})
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) {
		var wg sync.WaitGroup
		wg.Go(func() { _ = mail.Run(ctx) })
		_ = relay.Run(ctx)
		wg.Wait()
	}, nil
}

// MailMagazineSentEvents subscribes to the MailMagazineSent integration event as consumerGroup
// (see InvoiceFinalizedEvents).
func (a *App) MailMagazineSentEvents(ctx context.Context, consumerGroup string) (<-chan *message.Message, error) {
	if a.integration == nil {
		return nil, errors.New("integration events: the relay is not running")
	}
	return a.integration.Subscribe(ctx, outbox.MailMagazineSentTopic, consumerGroup)
}

// InvoiceFinalizedEvents subscribes to the InvoiceFinalized integration event as consumerGroup
// (SQL and NATS: exactly once per group across restarts, in order; the in-process channel: from
// now on, and each message must be acked before the next comes).
func (a *App) InvoiceFinalizedEvents(ctx context.Context, consumerGroup string) (<-chan *message.Message, error) {
	if a.integration == nil {
		return nil, errors.New("integration events: the relay is not running")
	}
	return a.integration.Subscribe(ctx, outbox.InvoiceFinalizedTopic, consumerGroup)
}

// ReportSealedEvents subscribes to the ReportSealed integration event as consumerGroup (the same
// delivery guarantees as InvoiceFinalizedEvents).
func (a *App) ReportSealedEvents(ctx context.Context, consumerGroup string) (<-chan *message.Message, error) {
	if a.integration == nil {
		return nil, errors.New("integration events: the relay is not running")
	}
	return a.integration.Subscribe(ctx, outbox.ReportSealedTopic, consumerGroup)
}
