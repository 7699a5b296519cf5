package outbox_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"yorozu/adapters/outbox"
)

// TestChannelTransportStartsAtTheHead: in process, a relay forwards what is appended after it
// starts (its consumers did not exist before), each invoice once, in order, and keeps no
// position on disk.
func TestChannelTransportStartsAtTheHead(t *testing.T) {
	log, dir := boltLog(t)
	closeMonth(t, log, month(t, "2025-06"), 4, 2) // before the start: not for in-process consumers

	ep := openEndpoint(t, outbox.Transport{}, outbox.Deps{DataDir: dir})
	if ep.Kind() != outbox.KindChannel || ep.Cursors() != nil {
		t.Fatalf("the zero Transport: %s, cursors %v", ep.Kind(), ep.Cursors())
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sub, err := ep.Subscribe(ctx, outbox.InvoiceFinalizedTopic, "")
	if err != nil {
		t.Fatal(err)
	}
	c := consume(sub)
	relay := invoiceRelay(t, ep, log, 2)
	// The first step reads the head: nothing before it is forwarded.
	if more, err := relay.Step(context.Background()); more || err != nil {
		t.Fatalf("first step: %v %v", more, err)
	}

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := relay.Run(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("Run() = %v", err)
		}
	}()
	want := closeMonth(t, log, month(t, "2025-07"), 5, 2)
	appendNoise(t, log, 3)
	want = append(want, closeMonth(t, log, month(t, "2025-08"), 2, 1)...)
	c.waitFor(t, len(want))
	cancel()
	wg.Wait()
	checkExactlyOnce(t, c.messages(), want)
	// Nothing to remember across restarts.
	if _, err := os.Stat(filepath.Join(dir, outbox.CursorFileName)); !os.IsNotExist(err) {
		t.Fatalf("the channel transport wrote %s: %v", outbox.CursorFileName, err)
	}
}
