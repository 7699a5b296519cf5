package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"yorozu/domain/billing"
	"yorozu/domain/event"
)

// startBilling starts the InvoiceFinalized relay and returns its loop for Start to run.
func (a *App) startBilling() (func(context.Context), error) {
	rt := &billingRuntime{}
	a.billing = rt
	a.closers = append(a.closers, func() {
		if rt.inProcess != nil {
			_ = rt.inProcess.Close() // releases a relay waiting for an in-process consumer's ack
		}
	})
	log := a.cfg.Logger.With("component", "billing")
	relay, err := a.invoiceRelay(rt)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) { relay.run(ctx, log) }, nil
}

// billingRuntime is what an App's billing keeps while it runs.
type billingRuntime struct {
	// inProcess carries InvoiceFinalized when the service has no PostgreSQL; nil otherwise.
	inProcess *gochannel.GoChannel
}

// InvoiceFinalizedTopic is the watermill topic of the InvoiceFinalized integration event: one
// message per final invoice, UUID derived from the invoice number, payload the invoice as
// GET /api/v1/billing/invoices/{customerNumber}/{month} shows it, metadata name=InvoiceFinalized,
// invoiceNumber, customerNumber, month and position (of its InvoicesFinalized event in the log).
const InvoiceFinalizedTopic = "billing_invoice_finalized"

// InvoiceFinalizedEvents subscribes to InvoiceFinalized. On PostgreSQL it reads the
// watermill-sql topic as consumerGroup (exactly once per group, in order, across restarts); on
// the embedded store it listens in process (consumerGroup is ignored), and the consumer must ack
// each message before the next comes.
func (a *App) InvoiceFinalizedEvents(ctx context.Context, consumerGroup string) (<-chan *message.Message, error) {
	if a.pool != nil {
		sub, err := wsql.NewSubscriber(wsql.BeginnerFromPgx(a.pool), wsql.SubscriberConfig{
			ConsumerGroup:    consumerGroup,
			PollInterval:     100 * time.Millisecond,
			SchemaAdapter:    wsql.DefaultPostgreSQLSchema{},
			OffsetsAdapter:   wsql.DefaultPostgreSQLOffsetsAdapter{},
			InitializeSchema: true,
		}, watermill.NopLogger{})
		if err != nil {
			return nil, err
		}
		ch, err := sub.Subscribe(ctx, InvoiceFinalizedTopic)
		if err != nil {
			_ = sub.Close()
			return nil, err
		}
		context.AfterFunc(ctx, func() { _ = sub.Close() })
		return ch, nil
	}
	if a.billing == nil || a.billing.inProcess == nil {
		return nil, errors.New("billing: the invoice relay is not running")
	}
	return a.billing.inProcess.Subscribe(ctx, InvoiceFinalizedTopic)
}

// invoiceRelay forwards the final invoices from the event log to watermill: the log is the outbox
// (the close appends its invoices atomically), the relay the forwarder.
//
//   - PostgreSQL: each step is one transaction that locks the relay's row in integration_relays,
//     reads the log after its position, inserts the messages with the watermill-sql publisher on
//     that same transaction and moves the position. A crash before the commit forwards nothing,
//     after it everything: each invoice reaches the topic exactly once, in finalization order,
//     and consumers read it with watermill-sql subscribers, in this or another process.
//   - Embedded: a GoChannel in this process, from the log head at start (an in-process consumer
//     exists only while the process runs); publishing waits for the consumers' acks.
func (a *App) invoiceRelay(rt *billingRuntime) (*relay, error) {
	if a.pool == nil {
		rt.inProcess = gochannel.NewGoChannel(gochannel.Config{BlockPublishUntilSubscriberAck: true}, watermill.NopLogger{})
		return &relay{forward: (&inProcessRelay{events: a.Events, pub: rt.inProcess}).forward}, nil
	}
	return &relay{forward: (&postgresRelay{events: a.Events, pool: a.pool}).forward}, nil
}

// relay runs a forwarding step until it finds nothing more, then polls.
type relay struct {
	// forward forwards one page of the log; more reports a full page (forward again at once).
	forward func(ctx context.Context) (more bool, err error)
}

const (
	relayPage  = 200 // events per step
	relayPoll  = 500 * time.Millisecond
	relayRetry = 5 * time.Second
)

func (r *relay) run(ctx context.Context, log *slog.Logger) {
	for ctx.Err() == nil {
		more, err := r.forward(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Error("forwarding final invoices failed; retrying", "err", err, "retryIn", relayRetry)
			sleepCtx(ctx, relayRetry)
		case !more:
			sleepCtx(ctx, relayPoll)
		}
	}
}

type inProcessRelay struct {
	events  event.Log
	pub     message.Publisher
	after   event.Position
	started bool
}

func (r *inProcessRelay) forward(ctx context.Context) (bool, error) {
	if !r.started {
		head, err := r.events.Head(ctx)
		if err != nil {
			return false, err
		}
		r.after, r.started = head, true
	}
	recs, err := r.events.ReadAll(ctx, r.after, relayPage)
	if err != nil || len(recs) == 0 {
		return false, err
	}
	msgs, err := invoiceFinalizedMessages(recs)
	if err != nil {
		return false, err
	}
	if len(msgs) > 0 {
		if err := r.pub.Publish(InvoiceFinalizedTopic, msgs...); err != nil {
			return false, err
		}
	}
	r.after = recs[len(recs)-1].Position
	return len(recs) == relayPage, nil
}

type postgresRelay struct {
	events   event.Log
	pool     *pgxpool.Pool
	prepared bool
}

// relayName is the relay's row in integration_relays.
const relayName = "invoice-finalized"

// sqlBatch bounds the messages of one INSERT (three parameters each; PostgreSQL takes 65,535).
const sqlBatch = 1000

func (r *postgresRelay) forward(ctx context.Context) (more bool, err error) {
	if !r.prepared {
		if err := r.prepare(ctx); err != nil {
			return false, err
		}
		r.prepared = true
	}
	err = pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		var after int64
		if err := tx.QueryRow(ctx, `SELECT position FROM integration_relays WHERE name = $1 FOR UPDATE`, relayName).Scan(&after); err != nil {
			return err
		}
		recs, err := r.events.ReadAll(ctx, event.Position(after), relayPage)
		if err != nil || len(recs) == 0 {
			return err
		}
		msgs, err := invoiceFinalizedMessages(recs)
		if err != nil {
			return err
		}
		// A publisher on the transaction: the messages commit with the new position or not at all.
		pub, err := wsql.NewPublisher(wsql.TxFromPgx(tx), wsql.PublisherConfig{SchemaAdapter: wsql.DefaultPostgreSQLSchema{}}, watermill.NopLogger{})
		if err != nil {
			return err
		}
		for len(msgs) > 0 {
			n := min(len(msgs), sqlBatch)
			if err := pub.Publish(InvoiceFinalizedTopic, msgs[:n]...); err != nil {
				return err
			}
			msgs = msgs[n:]
		}
		more = len(recs) == relayPage
		_, err = tx.Exec(ctx, `UPDATE integration_relays SET position = $2 WHERE name = $1`, relayName, int64(recs[len(recs)-1].Position))
		return err
	})
	return more, err
}

// prepare creates the relay's row and the topic's tables (watermill-sql's own schema, created by
// watermill as its subscribers would: a publisher on a transaction may not).
func (r *postgresRelay) prepare(ctx context.Context) error {
	if _, err := r.pool.Exec(ctx, `INSERT INTO integration_relays (name, position) VALUES ($1, 0) ON CONFLICT DO NOTHING`, relayName); err != nil {
		return err
	}
	sub, err := wsql.NewSubscriber(wsql.BeginnerFromPgx(r.pool), wsql.SubscriberConfig{
		SchemaAdapter:  wsql.DefaultPostgreSQLSchema{},
		OffsetsAdapter: wsql.DefaultPostgreSQLOffsetsAdapter{},
	}, watermill.NopLogger{})
	if err != nil {
		return err
	}
	defer sub.Close()
	return sub.SubscribeInitialize(InvoiceFinalizedTopic)
}

// invoiceMessageNamespace derives a message's UUID from its invoice number, so that a consumer
// may also de-duplicate by message UUID.
var invoiceMessageNamespace = uuid.MustParse("0b9f6f3e-3c1d-4f57-9a53-8f0c7a2b1d64")

// invoiceFinalizedMessages renders the final invoices of the InvoicesFinalized events among recs.
func invoiceFinalizedMessages(recs []event.Record) ([]*message.Message, error) {
	const finalized = "InvoicesFinalized"
	var out []*message.Message
	for _, rec := range recs {
		if rec.Type != finalized {
			continue
		}
		var part billing.InvoicesFinalized
		if err := json.Unmarshal(rec.Data, &part); err != nil {
			return nil, fmt.Errorf("%s %s@%d: %w", rec.Type, rec.Stream, rec.StreamVersion, err)
		}
		for i := range part.Invoices {
			inv := part.Invoice(i)
			payload, err := json.Marshal(inv)
			if err != nil {
				return nil, err
			}
			msg := message.NewMessage(uuid.NewSHA1(invoiceMessageNamespace, []byte(inv.InvoiceNumber)).String(), payload)
			msg.Metadata.Set("name", "InvoiceFinalized")
			msg.Metadata.Set("invoiceNumber", inv.InvoiceNumber)
			msg.Metadata.Set("customerNumber", inv.CustomerNumber)
			msg.Metadata.Set("month", inv.Month.String())
			msg.Metadata.Set("position", fmt.Sprint(rec.Position))
			out = append(out, msg)
		}
	}
	return out, nil
}

// sleepCtx waits d or until ctx ends; it reports whether ctx is still alive.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
