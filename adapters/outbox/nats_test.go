package outbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"yorozu/adapters/outbox"
	"yorozu/adapters/outbox/natstest"
	"yorozu/domain/billing"
	"yorozu/domain/event"
	"yorozu/domain/schema"
)

// natsEngine is an event log with the cursor store the nats transport uses on it.
type natsEngine struct {
	name string
	// open returns the log and the Deps that select the cursor store (the data directory on the
	// embedded engine, the pool on PostgreSQL).
	open func(t *testing.T) (event.Store, outbox.Deps)
}

var natsEngines = []natsEngine{
	{"embedded", func(t *testing.T) (event.Store, outbox.Deps) {
		log, dir := boltLog(t)
		return log, outbox.Deps{DataDir: dir}
	}},
	{"postgres", func(t *testing.T) (event.Store, outbox.Deps) {
		log, pool := pgLog(t)
		return log, outbox.Deps{Pool: pool}
	}},
}

func natsTransport(srv *natstest.Server) outbox.Transport {
	return outbox.Transport{Kind: outbox.KindNATS, NATS: outbox.NATSConfig{URL: srv.URL}}
}

func openEndpoint(t *testing.T, tr outbox.Transport, deps outbox.Deps) *outbox.Endpoint {
	t.Helper()
	ep, err := outbox.Open(context.Background(), tr, deps)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ep.Close() })
	return ep
}

func invoiceRelay(t *testing.T, ep *outbox.Endpoint, log event.Log, pageSize int) *outbox.Relay {
	t.Helper()
	r, err := ep.NewRelay(outbox.Config{Name: outbox.InvoiceFinalizedRelay, Log: log,
		Translators: []outbox.Translator{outbox.InvoiceFinalized(schema.Registry())}, PageSize: pageSize})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// stepUntilCaughtUp steps r until a step finds no full page; it returns the number of steps.
func stepUntilCaughtUp(t *testing.T, r *outbox.Relay) int {
	t.Helper()
	for steps := 1; ; steps++ {
		more, err := r.Step(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if !more {
			return steps
		}
	}
}

// jetStream is the test's own look at the broker.
func jetStream(t *testing.T, srv *natstest.Server) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// streamMessages is how many messages the stream stores: with de-duplication, one per ID.
func streamMessages(t *testing.T, js jetstream.JetStream) uint64 {
	t.Helper()
	s, err := js.Stream(context.Background(), outbox.DefaultNATSStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

// waitAcked waits until the group's durable consumer has every stored message acknowledged and
// nothing in flight: then closing the subscriber loses nothing and leaves nothing to redeliver.
func waitAcked(t *testing.T, js jetstream.JetStream, group string) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for {
		c, err := js.Consumer(context.Background(), outbox.DefaultNATSStream, outbox.DurableName(group, outbox.InvoiceFinalizedTopic))
		if err != nil {
			t.Fatal(err)
		}
		info, err := c.Info(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if info.NumPending == 0 && info.NumAckPending == 0 && info.NumRedelivered == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("consumer %s: %d pending, %d awaiting ack", info.Name, info.NumPending, info.NumAckPending)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestNATSEveryInvoiceOnceAcrossRelayAndConsumerRestarts is the acceptance test of the NATS
// transport: final invoices relayed to a real JetStream reach a consumer group once per message
// ID, although the relay is stopped after some pages and a new one (a new process: new
// endpoint, cursor store reopened) takes over, and the consumer restarts in between.
func TestNATSEveryInvoiceOnceAcrossRelayAndConsumerRestarts(t *testing.T) {
	for _, engine := range natsEngines {
		t.Run(engine.name, func(t *testing.T) {
			srv := natstest.Start(t)
			js := jetStream(t, srv)
			log, deps := engine.open(t)
			const group = "billing-system"

			// Closed before the relay ever ran: a durable broker gets the history too.
			want := closeMonth(t, log, month(t, "2025-05"), 7, 3)
			appendNoise(t, log, 3)
			want = append(want, closeMonth(t, log, month(t, "2025-06"), 8, 2)...)

			first := openEndpoint(t, natsTransport(srv), deps)
			ctx1, stop1 := context.WithCancel(context.Background())
			sub1, err := first.Subscribe(ctx1, outbox.InvoiceFinalizedTopic, group)
			if err != nil {
				t.Fatal(err)
			}
			c1 := consume(sub1)
			relay := invoiceRelay(t, first, log, 3)
			for range 3 { // three pages of three events, then the process "stops"
				if more, err := relay.Step(context.Background()); err != nil || !more {
					t.Fatalf("Step() = %v, %v", more, err)
				}
			}
			published := int(streamMessages(t, js))
			if published == 0 || published >= len(want) {
				t.Fatalf("%d of %d invoices published after three pages; the test needs a relay stopped mid-way", published, len(want))
			}
			c1.waitFor(t, published)
			waitAcked(t, js, group)
			stop1()
			if err := first.Close(); err != nil {
				t.Fatal(err)
			}

			// A new process: a new endpoint (the cursor store reopened), a new relay, more closes.
			second := openEndpoint(t, natsTransport(srv), deps)
			want = append(want, closeMonth(t, log, month(t, "2025-07"), 5, 2)...)
			ctx2, stop2 := context.WithCancel(context.Background())
			defer stop2()
			sub2, err := second.Subscribe(ctx2, outbox.InvoiceFinalizedTopic, group)
			if err != nil {
				t.Fatal(err)
			}
			c2 := consume(sub2)
			relay2 := invoiceRelay(t, second, log, 3)
			runCtx, stopRun := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := relay2.Run(runCtx); !errors.Is(err, context.Canceled) {
					t.Errorf("Run() = %v", err)
				}
			}()
			want = append(want, closeMonth(t, log, month(t, "2025-08"), 4, 4)...)
			c2.waitFor(t, len(want)-published)
			stopRun()
			wg.Wait()
			waitAcked(t, js, group)

			got := append(c1.messages(), c2.messages()...)
			t.Logf("relay stopped after %d of %d invoices; the consumer got %d before its restart, %d after",
				published, len(want), len(c1.messages()), len(c2.messages()))
			checkExactlyOnce(t, got, want)
			if n := streamMessages(t, js); n != uint64(len(want)) {
				t.Errorf("the stream holds %d messages for %d invoices", n, len(want))
			}
			// The message survives the broker whole: payload, metadata, ID.
			msg := got[len(got)-1]
			var inv billing.Invoice
			if err := json.Unmarshal(msg.Payload, &inv); err != nil || inv.InvoiceNumber != want[len(want)-1] || inv.Status != billing.StatusFinal {
				t.Errorf("payload %s: %v", msg.Payload, err)
			}
			wantMeta := message.Metadata{"name": "InvoiceFinalized", "invoiceNumber": inv.InvoiceNumber,
				"customerNumber": inv.CustomerNumber, "month": "2025-08", "position": msg.Metadata.Get("position")}
			if !reflect.DeepEqual(msg.Metadata, wantMeta) || msg.Metadata.Get("position") == "" || msg.UUID != outbox.InvoiceMessageID(inv.InvoiceNumber) {
				t.Errorf("message %s metadata %v", msg.UUID, msg.Metadata)
			}
		})
	}
}

// lostSave is a cursor store whose next Save fails, as if the process died between publishing
// a page and saving its position.
type lostSave struct {
	outbox.CursorStore
	mu   sync.Mutex
	lose bool
}

func (c *lostSave) Save(ctx context.Context, relay string, pos event.Position) error {
	c.mu.Lock()
	lose := c.lose
	c.lose = false
	c.mu.Unlock()
	if lose {
		return errors.New("process died before saving")
	}
	return c.CursorStore.Save(ctx, relay, pos)
}

// countingPublisher counts the messages handed to the broker, re-publishes included.
type countingPublisher struct {
	message.Publisher
	mu sync.Mutex
	n  int
}

func (p *countingPublisher) Publish(topic string, msgs ...*message.Message) error {
	p.mu.Lock()
	p.n += len(msgs)
	p.mu.Unlock()
	return p.Publisher.Publish(topic, msgs...)
}

// TestNATSRepublishAfterALostPositionIsDeduplicated: a page published but whose position was
// not saved goes out again; JetStream drops the copies by Nats-Msg-Id, so the consumer sees each
// invoice once.
func TestNATSRepublishAfterALostPositionIsDeduplicated(t *testing.T) {
	srv := natstest.Start(t)
	js := jetStream(t, srv)
	log, dir := boltLog(t)
	want := closeMonth(t, log, month(t, "2025-07"), 6, 2)

	ep := openEndpoint(t, natsTransport(srv), outbox.Deps{DataDir: dir})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sub, err := ep.Subscribe(ctx, outbox.InvoiceFinalizedTopic, "ledger")
	if err != nil {
		t.Fatal(err)
	}
	c := consume(sub)

	pub := &countingPublisher{Publisher: ep.Publisher()}
	cursors := &lostSave{CursorStore: ep.Cursors(), lose: true}
	relay, err := outbox.NewRelay(outbox.Config{Name: outbox.InvoiceFinalizedRelay, Log: log,
		Translators: []outbox.Translator{outbox.InvoiceFinalized(schema.Registry())}, Publisher: pub, Cursors: cursors, PageSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	// The first page (MonthClosed and two parts: four invoices) is published, its save lost.
	if _, err := relay.Step(context.Background()); !errors.Is(err, outbox.ErrCursor) {
		t.Fatalf("Step() = %v, want ErrCursor", err)
	}
	if n := streamMessages(t, js); n != 4 {
		t.Fatalf("the stream holds %d messages after the first page, want 4", n)
	}
	if pos, _ := ep.Cursors().Load(context.Background(), outbox.InvoiceFinalizedRelay); pos != 0 {
		t.Fatalf("position %d saved", pos)
	}

	// The process restarts: a new endpoint on the same data directory, a new relay.
	if err := ep.Close(); err != nil {
		t.Fatal(err)
	}
	restarted := openEndpoint(t, natsTransport(srv), outbox.Deps{DataDir: dir})
	pub.Publisher = restarted.Publisher()
	relay, err = outbox.NewRelay(outbox.Config{Name: outbox.InvoiceFinalizedRelay, Log: log,
		Translators: []outbox.Translator{outbox.InvoiceFinalized(schema.Registry())}, Publisher: pub, Cursors: restarted.Cursors(), PageSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	stepUntilCaughtUp(t, relay)

	if pub.n != len(want)+4 {
		t.Fatalf("%d messages published, want %d (the first page twice)", pub.n, len(want)+4)
	}
	if n := streamMessages(t, js); n != uint64(len(want)) {
		t.Fatalf("the stream holds %d messages for %d invoices: the re-publish was not de-duplicated", n, len(want))
	}
	c.waitFor(t, len(want))
	waitAcked(t, js, "ledger")
	checkExactlyOnce(t, c.messages(), want)
}

// TestNATSBrokerDownAtStart: the service starts without its broker; the relay fails, retries and
// forwards once the broker is there.
func TestNATSBrokerDownAtStart(t *testing.T) {
	log, dir := boltLog(t)
	want := closeMonth(t, log, month(t, "2025-07"), 3, 3)
	srv := natstest.Start(t)
	url := srv.URL
	srv.Stop()

	ep := openEndpoint(t, outbox.Transport{Kind: outbox.KindNATS, NATS: outbox.NATSConfig{URL: url,
		ConnectTimeout: 200 * time.Millisecond, PublishTimeout: 500 * time.Millisecond}}, outbox.Deps{DataDir: dir})
	relay := invoiceRelay(t, ep, log, 0)
	if _, err := relay.Step(context.Background()); err == nil {
		t.Fatal("a step without a broker succeeded")
	}
	if pos, _ := ep.Cursors().Load(context.Background(), outbox.InvoiceFinalizedRelay); pos != 0 {
		t.Fatalf("position %d saved without a broker", pos)
	}

	// The broker comes up on the same address; the client reconnects on its own.
	up := natstest.StartOn(t, srv.Port)
	js := jetStream(t, up)
	deadline := time.Now().Add(patience)
	for {
		_, err := relay.Step(context.Background())
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the relay still fails with the broker up: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := streamMessages(t, js); n != uint64(len(want)) {
		t.Fatalf("the stream holds %d messages, want %d", n, len(want))
	}
}

// TestNATSConsumerToleratesOtherPublishers: a message put on the subject by something other
// than the relay (no watermill headers, a repeated header) reaches the consumer instead of
// stopping it, its Nats-Msg-Id as the ID.
func TestNATSConsumerToleratesOtherPublishers(t *testing.T) {
	srv := natstest.Start(t)
	ep := openEndpoint(t, natsTransport(srv), outbox.Deps{DataDir: t.TempDir()})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sub, err := ep.Subscribe(ctx, "ops_notice", "ops") // creates the stream
	if err != nil {
		t.Fatal(err)
	}
	c := consume(sub)
	nc, err := nats.Connect(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := nc.JetStream()
	if err != nil {
		t.Fatal(err)
	}
	m := nats.NewMsg(outbox.DefaultNATSSubjectPrefix + "ops_notice")
	m.Data = []byte(`{"hello":"world"}`)
	m.Header.Set(nats.MsgIdHdr, "notice-1")
	m.Header.Add("tag", "a")
	m.Header.Add("tag", "b")
	if _, err := js.PublishMsg(m); err != nil {
		t.Fatal(err)
	}
	c.waitFor(t, 1)
	got := c.messages()[0]
	if got.UUID != "notice-1" || string(got.Payload) != `{"hello":"world"}` || !reflect.DeepEqual(got.Metadata, message.Metadata{"tag": "a"}) {
		t.Fatalf("got %s %s %v", got.UUID, got.Payload, got.Metadata)
	}
}
