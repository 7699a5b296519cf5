package outbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
	"github.com/google/uuid"

	"yorozu/adapters/outbox"
	"yorozu/domain/billing"
	"yorozu/domain/event"
	"yorozu/domain/schema"
)

func TestInvoiceMessageIDIsPinned(t *testing.T) {
	// The ID is a contract with consumers (and JetStream's de-duplication): the namespace and the
	// derivation must never change.
	if got := outbox.InvoiceMessageID("INV-2025-07-000001"); got != "4c04429f-77b6-5ba3-8dd1-cdc3ed9c3ba2" {
		t.Fatalf("InvoiceMessageID = %s", got)
	}
}

func TestInvoiceFinalizedTranslatesEachInvoice(t *testing.T) {
	log, _ := boltLog(t)
	m := month(t, "2025-07")
	numbers := closeMonth(t, log, m, 3, 2)
	recs, err := log.ReadAll(context.Background(), 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	tr := outbox.InvoiceFinalized(schema.Registry())
	if tr.EventType != "InvoicesFinalized" || tr.Topic != "billing_invoice_finalized" {
		t.Fatalf("translator %s → %s", tr.EventType, tr.Topic)
	}
	var msgs []*message.Message
	for _, rec := range recs {
		if rec.Type != tr.EventType {
			continue
		}
		part, err := tr.Translate(rec)
		if err != nil {
			t.Fatal(err)
		}
		var ev billing.InvoicesFinalized
		if err := json.Unmarshal(rec.Data, &ev); err != nil {
			t.Fatal(err)
		}
		for i, msg := range part {
			// The payload is the invoice as the API shows it.
			want, _ := json.Marshal(ev.Invoice(i))
			if string(msg.Payload) != string(want) {
				t.Errorf("payload %s, want %s", msg.Payload, want)
			}
			wantMeta := message.Metadata{"name": "InvoiceFinalized", "invoiceNumber": ev.Invoices[i].InvoiceNumber,
				"customerNumber": ev.Invoices[i].CustomerNumber, "month": "2025-07", "position": fmt.Sprint(rec.Position)}
			if !reflect.DeepEqual(msg.Metadata, wantMeta) {
				t.Errorf("metadata %v, want %v", msg.Metadata, wantMeta)
			}
		}
		msgs = append(msgs, part...)
	}
	if len(msgs) != 3 {
		t.Fatalf("%d messages for 3 invoices", len(msgs))
	}
	for i, msg := range msgs {
		if msg.UUID != outbox.InvoiceMessageID(numbers[i]) || msg.Metadata.Get("invoiceNumber") != numbers[i] {
			t.Errorf("message %d: %s %v", i, msg.UUID, msg.Metadata)
		}
		var inv billing.Invoice
		if err := json.Unmarshal(msg.Payload, &inv); err != nil || inv.Status != billing.StatusFinal || inv.Issuer != issuer {
			t.Errorf("message %d payload: %+v %v", i, inv, err)
		}
	}
}

func TestRelayConfigValidateReportsEveryProblem(t *testing.T) {
	err := outbox.Config{PageSize: -1, PollInterval: -1, RetryBackoff: -1, MaxRetryBackoff: -1,
		Translators: []outbox.Translator{{Topic: "no spaces please"}}}.Validate()
	for _, want := range []string{"missing Name", "missing Log", "Translators[0]: EventType is empty",
		`Topic "no spaces please"`, "Translate is nil", "missing Publisher", "PageSize", "PollInterval",
		"RetryBackoff must not", "MaxRetryBackoff must not be negative"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v; want it to mention %q", err, want)
		}
	}

	log, _ := boltLog(t)
	ch := gochannel.NewGoChannel(gochannel.Config{}, nil)
	defer ch.Close()
	valid := outbox.Config{Name: "r", Log: log, Translators: []outbox.Translator{outbox.InvoiceFinalized(schema.Registry())},
		Publisher: ch, Cursors: outbox.NewHeadCursors(log)}
	if err := valid.Validate(); err != nil {
		t.Fatalf("a valid config: %v", err)
	}
	for name, c := range map[string]outbox.Config{
		"both outlets":     with(valid, func(c *outbox.Config) { c.Transactional = outbox.NewSQLOutlet(nil, nil) }),
		"no cursors":       with(valid, func(c *outbox.Config) { c.Cursors = nil }),
		"backoff inverted": with(valid, func(c *outbox.Config) { c.RetryBackoff, c.MaxRetryBackoff = time.Minute, time.Second }),
	} {
		if err := c.Validate(); err == nil {
			t.Errorf("%s: Validate() = nil", name)
		}
		if _, err := outbox.NewRelay(c); !errors.Is(err, outbox.ErrInvalidConfig) {
			t.Errorf("%s: NewRelay() = %v, want ErrInvalidConfig", name, err)
		}
	}
	if _, err := outbox.NewRelay(valid); err != nil {
		t.Fatalf("NewRelay(valid) = %v", err)
	}
}

func with(c outbox.Config, f func(*outbox.Config)) outbox.Config {
	f(&c)
	return c
}

func TestTransportValidate(t *testing.T) {
	for _, valid := range []outbox.Transport{
		{},
		{Kind: outbox.KindSQL},
		{Kind: outbox.KindNATS, NATS: outbox.NATSConfig{URL: "nats://127.0.0.1:4222"}},
		{Kind: outbox.KindNATS, NATS: outbox.NATSConfig{URL: "nats://a:4222,nats://b:4222", Stream: "BILLING",
			SubjectPrefix: "acme.yorozu.", DuplicateWindow: time.Hour}},
		// The NATS settings of another transport are not its business.
		{Kind: outbox.KindChannel, NATS: outbox.NATSConfig{Stream: "not a stream"}},
	} {
		if err := valid.Validate(); err != nil {
			t.Errorf("%+v: %v", valid, err)
		}
	}
	err := outbox.Transport{Kind: outbox.KindNATS, SQLPollInterval: -1, NATS: outbox.NATSConfig{Stream: "a.b",
		SubjectPrefix: "yorozu", DuplicateWindow: -1, AckWait: -1, ConnectTimeout: -1, PublishTimeout: -1}}.Validate()
	for _, want := range []string{"NATS.URL is required", `NATS.Stream "a.b"`, `NATS.SubjectPrefix "yorozu"`,
		"NATS.DuplicateWindow", "NATS.AckWait", "NATS.ConnectTimeout", "NATS.PublishTimeout", "SQLPollInterval"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v; want it to mention %q", err, want)
		}
	}
	for _, prefix := range []string{"yorozu.*.", "yorozu.>.", ".yorozu.", "yorozu..x.", "yo rozu."} {
		if err := (outbox.NATSConfig{URL: "nats://x", SubjectPrefix: prefix}).Validate(); err == nil {
			t.Errorf("SubjectPrefix %q accepted", prefix)
		}
	}
	if err := (outbox.Transport{Kind: "kafka"}).Validate(); err == nil || !strings.Contains(err.Error(), `unknown Kind "kafka"`) {
		t.Errorf("kafka: %v", err)
	}
	if _, err := outbox.Open(context.Background(), outbox.Transport{Kind: "kafka"}, outbox.Deps{}); !errors.Is(err, outbox.ErrInvalidConfig) {
		t.Errorf("Open(kafka) = %v", err)
	}
	if _, err := outbox.Open(context.Background(), outbox.Transport{Kind: outbox.KindSQL}, outbox.Deps{}); !errors.Is(err, outbox.ErrInvalidConfig) {
		t.Errorf("Open(sql) without PostgreSQL = %v", err)
	}
	if _, err := outbox.Open(context.Background(), outbox.Transport{Kind: outbox.KindNATS, NATS: outbox.NATSConfig{URL: "nats://127.0.0.1:1"}}, outbox.Deps{}); !errors.Is(err, outbox.ErrInvalidConfig) {
		t.Errorf("Open(nats) with nowhere to keep positions = %v", err)
	}
	for s, want := range map[string]outbox.Kind{"channel": outbox.KindChannel, "sql": outbox.KindSQL, "nats": outbox.KindNATS} {
		if k, err := outbox.ParseKind(s); k != want || err != nil {
			t.Errorf("ParseKind(%q) = %q, %v", s, k, err)
		}
	}
	if _, err := outbox.ParseKind("NATS"); !errors.Is(err, outbox.ErrInvalidConfig) {
		t.Errorf("ParseKind(NATS) = %v", err)
	}
}

// recorder is a publisher that keeps what it is given, in order.
type recorder struct {
	topics []string
	msgs   []*message.Message
	fail   error
}

func (r *recorder) Publish(topic string, msgs ...*message.Message) error {
	if r.fail != nil {
		return r.fail
	}
	for _, m := range msgs {
		r.topics = append(r.topics, topic)
		r.msgs = append(r.msgs, m)
	}
	return nil
}
func (r *recorder) Close() error { return nil }

func TestRelayPassesOverOtherEventsAndCarriesSeveralKinds(t *testing.T) {
	ctx := context.Background()
	log, dir := boltLog(t)
	appendNoise(t, log, 5)
	jul := closeMonth(t, log, month(t, "2025-07"), 5, 2)
	appendNoise(t, log, 7)
	// A second kind of integration event, as ReportSealed will be: one message per noise event.
	sealed := outbox.Translator{EventType: "UnrelatedHappened", Topic: "noise_noted", Translate: func(rec event.Record) ([]*message.Message, error) {
		return []*message.Message{message.NewMessage(uuid.NewSHA1(uuid.NameSpaceOID, rec.ID[:]).String(), message.Payload(rec.Data))}, nil
	}}
	cursors, err := outbox.OpenFileCursors(dir)
	if err != nil {
		t.Fatal(err)
	}
	pub := &recorder{}
	r, err := outbox.NewRelay(outbox.Config{Name: "all", Log: log, Translators: []outbox.Translator{outbox.InvoiceFinalized(schema.Registry()), sealed},
		Publisher: pub, Cursors: cursors, PageSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Topics(); !reflect.DeepEqual(got, []string{"billing_invoice_finalized", "noise_noted"}) {
		t.Fatalf("Topics() = %v", got)
	}
	pages := 0
	for more := true; more; pages++ {
		if more, err = r.Step(ctx); err != nil {
			t.Fatal(err)
		}
	}
	head, _ := log.Head(ctx)
	if pos, _ := cursors.Load(ctx, "all"); pos != head {
		t.Fatalf("position %d, head %d: the relay must move past events it does not translate", pos, head)
	}
	// 5 noise + MonthClosed + 3 parts + 7 noise = 16 events: four full pages, then an empty one.
	if pages != 5 {
		t.Errorf("%d steps, want 5", pages)
	}
	var invoices, noise int
	for i, topic := range pub.topics {
		switch topic {
		case outbox.InvoiceFinalizedTopic:
			if pub.msgs[i].Metadata.Get("invoiceNumber") != jul[invoices] {
				t.Errorf("invoice %d out of order: %v", invoices, pub.msgs[i].Metadata)
			}
			invoices++
		case "noise_noted":
			noise++
		}
	}
	if invoices != 5 || noise != 12 {
		t.Fatalf("%d invoices and %d noise messages, want 5 and 12", invoices, noise)
	}
	if more, err := r.Step(ctx); more || err != nil {
		t.Fatalf("a caught-up step: %v %v", more, err)
	}
}

func TestRelayStopsAtARecordItCannotTranslate(t *testing.T) {
	ctx := context.Background()
	log, _ := boltLog(t)
	closeMonth(t, log, month(t, "2025-07"), 2, 2)
	bad := draft(t, &billing.InvoicesFinalized{Month: month(t, "2025-08")})
	bad.Data = []byte(`{"month": 42}`)
	if _, err := log.Append(ctx, "billingmonth-broken", event.NoStream(), []event.Draft{bad}); err != nil {
		t.Fatal(err)
	}
	pub := &recorder{}
	cursors, err := outbox.OpenFileCursors(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r, err := outbox.NewRelay(outbox.Config{Name: "r", Log: log, Translators: []outbox.Translator{outbox.InvoiceFinalized(schema.Registry())},
		Publisher: pub, Cursors: cursors})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // the relay retries the same page: it never skips an integration event
		if _, err := r.Step(ctx); !errors.Is(err, outbox.ErrTranslate) {
			t.Fatalf("Step() = %v, want ErrTranslate", err)
		}
	}
	if pos, _ := cursors.Load(ctx, "r"); pos != 0 || len(pub.msgs) != 0 {
		t.Fatalf("after a failed page: position %d, %d messages published", pos, len(pub.msgs))
	}

	// A publisher failure leaves the position too.
	pub.fail = errors.New("broker down")
	ok, _ := outbox.NewRelay(outbox.Config{Name: "r", Log: log, Translators: []outbox.Translator{outbox.InvoiceFinalized(schema.Registry())},
		Publisher: pub, Cursors: cursors, PageSize: 2})
	if _, err := ok.Step(ctx); !errors.Is(err, outbox.ErrPublish) {
		t.Fatalf("Step() = %v, want ErrPublish", err)
	}
	if pos, _ := cursors.Load(ctx, "r"); pos != 0 {
		t.Fatalf("position %d after a failed publish", pos)
	}
}
