package outbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"

	"yorozu/adapters/eventstore/bolt"
	pgevents "yorozu/adapters/eventstore/postgres"
	"yorozu/adapters/postgres/migrate"
	"yorozu/adapters/postgres/pgtest"
	"yorozu/domain/billing"
	"yorozu/domain/event"
	"yorozu/domain/schema"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// patience bounds every wait for something asynchronous (a consumer, a broker). It only turns a
// hang into a failure; no test measures speed with it.
const patience = 2 * time.Minute

var issuer = billing.Issuer{Name: "株式会社YOROZU", RegistrationNumber: "T1234567890123"}

// boltLog is the embedded event store in a fresh data directory, which it returns too.
func boltLog(t *testing.T) (*bolt.Store, string) {
	t.Helper()
	dir := t.TempDir()
	s, err := bolt.OpenDir(dir, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, dir
}

// pgLog is the PostgreSQL event store on a fresh, migrated database, and its pool.
func pgLog(t *testing.T) (*pgevents.Store, *pgxpool.Pool) {
	t.Helper()
	pool := pgtest.NewPool(t)
	if err := migrate.Up(context.Background(), pool); err != nil {
		t.Fatal(err)
	}
	s := pgevents.New(pool, pgevents.Options{})
	t.Cleanup(func() { _ = s.Close() })
	return s, pool
}

// codec is the service's event codec.
var codec = schema.Registry()

func draft(t *testing.T, v any) event.Draft {
	t.Helper()
	// Domain events go through the log's codec; the tests' own noise events by their Go name.
	typ, data, err := codec.Encode(v)
	if errors.Is(err, event.ErrUnknownType) {
		typ = reflect.Indirect(reflect.ValueOf(v)).Type().Name()
		data, err = json.Marshal(v)
	}
	if err != nil {
		t.Fatal(err)
	}
	return event.Draft{ID: uuid.New(), Type: typ, RecordedAt: time.Now().UTC(), Actor: event.SystemActor, Data: data}
}

func month(t *testing.T, s string) billing.Month {
	t.Helper()
	m, err := billing.ParseMonth(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// closeMonth appends the close of month m as the billing use case does: one append to the month's
// stream, MonthClosed then the final invoices in parts of perPart. It returns the invoice numbers.
func closeMonth(t *testing.T, log event.Streams, m billing.Month, invoices, perPart int) []string {
	t.Helper()
	closedAt := time.Now().UTC()
	parts := (invoices + perPart - 1) / perPart
	var numbers []string
	drafts := []event.Draft{draft(t, &billing.MonthClosed{Month: m, ClosedAt: closedAt, Issuer: issuer,
		PriceList: billing.PriceList{EffectiveFrom: m, BaseMenu: 2980, TaxRate: billing.DefaultTaxRate}, Parts: parts, Invoices: invoices,
		FirstInvoiceNumber: billing.InvoiceNumber(m, 1), LastInvoiceNumber: billing.InvoiceNumber(m, invoices)})}
	for p := 0; p < parts; p++ {
		part := &billing.InvoicesFinalized{Month: m, Part: p + 1, Issuer: issuer, ClosedAt: closedAt}
		for n := p*perPart + 1; n <= min(invoices, (p+1)*perPart); n++ {
			number := billing.InvoiceNumber(m, n)
			numbers = append(numbers, number)
			part.Invoices = append(part.Invoices, billing.FinalInvoice{
				InvoiceNumber:  number,
				CustomerNumber: fmt.Sprintf("C%07d", n),
				Recipient:      billing.Recipient{Name: fmt.Sprintf("顧客%d", n)},
				Lines: []billing.Line{{Name: billing.LineBaseMenu, Kind: billing.KindMonthly, Quantity: 1,
					UnitPrice: 2980, Amount: 2980, Note: m.String()}},
				Subtotal:  2980,
				Tax:       298,
				Total:     3278,
				TaxByRate: []billing.TaxByRate{{Rate: decimal.RequireFromString("0.10"), TaxableAmount: 2980, Tax: 298}},
			})
		}
		drafts = append(drafts, draft(t, part))
	}
	if _, err := log.Append(context.Background(), billing.MonthStream(m), event.NoStream(), drafts); err != nil {
		t.Fatal(err)
	}
	return numbers
}

// UnrelatedHappened is an event no translator reads.
type UnrelatedHappened struct {
	N int `json:"n"`
}

// appendNoise appends n events that are no integration event, one append each.
func appendNoise(t *testing.T, log event.Streams, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		if _, err := log.Append(context.Background(), "noise-1", event.Any(), []event.Draft{draft(t, UnrelatedHappened{N: i})}); err != nil {
			t.Fatal(err)
		}
	}
}

// consumer acks every message it gets and counts them by ID.
type consumer struct {
	mu       sync.Mutex
	received []*message.Message
	seen     map[string]int
	changed  chan struct{}
}

func consume(ch <-chan *message.Message) *consumer {
	c := &consumer{seen: make(map[string]int), changed: make(chan struct{}, 1)}
	go func() {
		for msg := range ch {
			c.mu.Lock()
			c.received = append(c.received, msg)
			c.seen[msg.UUID]++
			c.mu.Unlock()
			msg.Ack()
			select {
			case c.changed <- struct{}{}:
			default:
			}
		}
	}()
	return c
}

// waitFor waits until the consumer has received at least n messages.
func (c *consumer) waitFor(t *testing.T, n int) {
	t.Helper()
	deadline := time.After(patience)
	for {
		c.mu.Lock()
		got := len(c.received)
		c.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-c.changed:
		case <-deadline:
			t.Fatalf("the consumer got %d messages, want %d", got, n)
		}
	}
}

func (c *consumer) messages() []*message.Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*message.Message(nil), c.received...)
}

// checkExactlyOnce checks that msgs are the InvoiceFinalized messages of the invoices, each once,
// in order.
func checkExactlyOnce(t *testing.T, msgs []*message.Message, invoices []string) {
	t.Helper()
	if len(msgs) != len(invoices) {
		t.Errorf("%d messages for %d invoices", len(msgs), len(invoices))
	}
	seen := make(map[string]bool)
	for i, msg := range msgs {
		if seen[msg.UUID] {
			t.Errorf("message %s (%s) delivered twice", msg.UUID, msg.Metadata.Get("invoiceNumber"))
		}
		seen[msg.UUID] = true
		if i < len(invoices) && msg.Metadata.Get("invoiceNumber") != invoices[i] {
			t.Errorf("message %d is invoice %s, want %s", i, msg.Metadata.Get("invoiceNumber"), invoices[i])
		}
	}
}
