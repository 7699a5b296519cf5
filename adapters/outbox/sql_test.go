package outbox_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5/pgxpool"

	"yorozu/adapters/outbox"
	"yorozu/domain/event"
)

// topicRows is what the sql transport stored in a topic: message UUIDs in insertion order.
func topicRows(t *testing.T, pool *pgxpool.Pool, topic string) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT uuid FROM "watermill_`+topic+`" ORDER BY "offset"`)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return ids
}

func relayPosition(t *testing.T, pool *pgxpool.Pool, name string) event.Position {
	t.Helper()
	var pos int64
	if err := pool.QueryRow(context.Background(), `SELECT position FROM integration_relays WHERE name = $1`, name).Scan(&pos); err != nil {
		t.Fatal(err)
	}
	return event.Position(pos)
}

// TestSQLOutletCommitsMessagesWithThePosition: what a forward publishes is there with its new
// position or not at all.
func TestSQLOutletCommitsMessagesWithThePosition(t *testing.T) {
	ctx := context.Background()
	_, pool := pgLog(t)
	outlet := outbox.NewSQLOutlet(pool, nil)
	if err := outlet.Prepare(ctx, "r", []string{"t"}); err != nil {
		t.Fatal(err)
	}
	if err := outlet.Prepare(ctx, "r", []string{"t"}); err != nil {
		t.Fatalf("Prepare again: %v", err)
	}
	crash := errors.New("crash after the insert")
	err := outlet.Forward(ctx, "r", func(after event.Position, pub message.Publisher) (event.Position, error) {
		if err := pub.Publish("t", message.NewMessage("a", nil), message.NewMessage("b", nil)); err != nil {
			return after, err
		}
		return after + 10, crash
	})
	if !errors.Is(err, crash) {
		t.Fatalf("Forward() = %v", err)
	}
	if ids, pos := topicRows(t, pool, "t"), relayPosition(t, pool, "r"); len(ids) != 0 || pos != 0 {
		t.Fatalf("after a failed forward: messages %v, position %d", ids, pos)
	}
	err = outlet.Forward(ctx, "r", func(after event.Position, pub message.Publisher) (event.Position, error) {
		return after + 10, pub.Publish("t", message.NewMessage("a", nil), message.NewMessage("b", nil))
	})
	if err != nil {
		t.Fatal(err)
	}
	if ids, pos := topicRows(t, pool, "t"), relayPosition(t, pool, "r"); len(ids) != 2 || pos != 10 {
		t.Fatalf("after a forward: messages %v, position %d", ids, pos)
	}
	if err := outlet.Forward(ctx, "unprepared", func(after event.Position, _ message.Publisher) (event.Position, error) {
		return after, nil
	}); !errors.Is(err, outbox.ErrCursor) {
		t.Fatalf("Forward of an unprepared relay = %v, want ErrCursor", err)
	}
}

// TestSQLTransportExactlyOnce: replicas relaying the same log at once write each invoice to the
// topic once, in order, and a consumer group reads each once; a relay restarted later carries on
// from the saved position.
func TestSQLTransportExactlyOnce(t *testing.T) {
	log, pool := pgLog(t)
	want := closeMonth(t, log, month(t, "2025-06"), 1201, 500) // a page of several publishes, one transaction
	appendNoise(t, log, 4)
	want = append(want, closeMonth(t, log, month(t, "2025-07"), 9, 2)...)

	ep := openEndpoint(t, outbox.Transport{Kind: outbox.KindSQL}, outbox.Deps{Pool: pool})
	var wg sync.WaitGroup
	for range 3 { // three replicas, one row lock
		r := invoiceRelay(t, ep, log, 4)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				more, err := r.Step(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				if !more {
					return
				}
			}
		}()
	}
	wg.Wait()
	stored := topicRows(t, pool, outbox.InvoiceFinalizedTopic)
	if len(stored) != len(want) {
		t.Fatalf("the topic holds %d messages for %d invoices", len(stored), len(want))
	}
	for i, id := range stored {
		if id != outbox.InvoiceMessageID(want[i]) {
			t.Fatalf("message %d is %s, want invoice %s", i, id, want[i])
		}
	}

	// A restarted relay (new endpoint) starts from the saved position: nothing twice.
	restarted := openEndpoint(t, outbox.Transport{Kind: outbox.KindSQL}, outbox.Deps{Pool: pool})
	r := invoiceRelay(t, restarted, log, 4)
	if more, err := r.Step(context.Background()); more || err != nil {
		t.Fatalf("a caught-up relay's step: %v %v", more, err)
	}
	want = append(want, closeMonth(t, log, month(t, "2025-08"), 3, 3)...)
	stepUntilCaughtUp(t, r)
	if head, _ := log.Head(context.Background()); relayPosition(t, pool, outbox.InvoiceFinalizedRelay) != head {
		t.Fatalf("position %d, head %d", relayPosition(t, pool, outbox.InvoiceFinalizedRelay), head)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sub, err := restarted.Subscribe(ctx, outbox.InvoiceFinalizedTopic, "accounting")
	if err != nil {
		t.Fatal(err)
	}
	c := consume(sub)
	c.waitFor(t, len(want))
	checkExactlyOnce(t, c.messages(), want)
	// Another group reads everything too, on its own.
	other, err := restarted.Subscribe(ctx, outbox.InvoiceFinalizedTopic, "dunning")
	if err != nil {
		t.Fatal(err)
	}
	d := consume(other)
	d.waitFor(t, len(want))
	checkExactlyOnce(t, d.messages(), want)

	if _, err := restarted.NewSubscriber("bad group"); !errors.Is(err, outbox.ErrInvalidConfig) {
		t.Fatalf("NewSubscriber(bad group) = %v", err)
	}
}
