package memory_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"yorozu/adapters/eventstore/memory"
	"yorozu/adapters/eventstore/storetest"
	"yorozu/domain/event"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) event.Store { return memory.New() })
}

func TestTransferConformance(t *testing.T) {
	storetest.RunTransfer(t, func(t *testing.T) event.Store { return memory.New() }, storetest.ImportOptions{})
}

var base = time.Date(2025, 7, 1, 7, 0, 0, 0, time.UTC)

// TestFailAppendsCrashBetweenTwoAppends plays a use case that appends to two streams, has it
// die between the two, and checks that running it again with the same event IDs completes it:
// the first append is recognised as a retry, the second is stored once.
func TestFailAppendsCrashBetweenTwoAppends(t *testing.T) {
	ctx := context.Background()
	s := memory.New()
	t.Cleanup(func() { _ = s.Close() })

	order, billing := "order-"+uuid.NewString(), "billing-"+uuid.NewString()
	first := []event.Draft{storetest.Draft(1, base)}
	second := []event.Draft{storetest.Draft(2, base)}
	useCase := func() (event.AppendResult, error) {
		res, err := s.Append(ctx, order, event.NoStream(), first)
		if err != nil {
			return res, err
		}
		return s.Append(ctx, billing, event.NoStream(), second)
	}

	crash := errors.New("crash")
	var calls atomic.Int32
	s.FailAppends(func(stream string, drafts []event.Draft) error {
		calls.Add(1)
		// The hook runs outside the store's lock: reading the store here must not deadlock.
		if _, err := s.ReadStream(ctx, stream, 1, 0); err != nil {
			t.Errorf("read from the hook: %v", err)
		}
		if stream == billing && drafts[0].ID == second[0].ID {
			return crash
		}
		return nil
	})
	if _, err := useCase(); !errors.Is(err, crash) {
		t.Fatalf("use case with the second append failing: err = %v, want the hook's error", err)
	}
	if n := calls.Load(); n != 2 {
		t.Fatalf("hook called %d times, want 2", n)
	}
	head, err := s.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if head != 1 {
		t.Fatalf("head after the crash = %d, want 1: only the first append is stored", head)
	}
	if recs, err := s.ReadStream(ctx, billing, 1, 0); err != nil || len(recs) != 0 {
		t.Fatalf("failed append left %d events (err %v)", len(recs), err)
	}

	s.FailAppends(nil)
	res, err := useCase()
	if err != nil {
		t.Fatalf("use case run again after the crash: %v", err)
	}
	if res.FirstVersion != 1 || res.LastPosition != 2 {
		t.Fatalf("second append after the retry = %+v, want version 1 at position 2", res)
	}
	all, err := s.ReadAll(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].ID != first[0].ID || all[1].ID != second[0].ID {
		t.Fatalf("log after the retry holds %d events, want the two drafts once each", len(all))
	}
}

func TestFailAppendsSkipsRefusedAppends(t *testing.T) {
	s := memory.New()
	t.Cleanup(func() { _ = s.Close() })
	called := false
	s.FailAppends(func(string, []event.Draft) error { called = true; return nil })
	if _, err := s.Append(context.Background(), "order-1", event.Any(), nil); !errors.Is(err, event.ErrInvalidDraft) {
		t.Fatalf("empty batch: err = %v, want ErrInvalidDraft", err)
	}
	if called {
		t.Fatal("hook called for an append refused before storage")
	}
}

func TestClose(t *testing.T) {
	ctx := context.Background()
	s := memory.New()
	if _, err := s.Append(ctx, "order-1", event.Any(), []event.Draft{storetest.Draft(1, base)}); err != nil {
		t.Fatal(err)
	}
	sub := make(chan error, 1)
	delivered := make(chan struct{})
	go func() {
		sub <- s.Subscribe(ctx, 0, func(event.Record) error { close(delivered); return nil })
	}()
	<-delivered // the subscription is now caught up, or about to wait for more
	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	select {
	case err := <-sub:
		if !errors.Is(err, event.ErrClosed) {
			t.Fatalf("subscription ended with %v, want ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("subscription still running after Close")
	}

	_, appendErr := s.Append(ctx, "order-1", event.Any(), []event.Draft{storetest.Draft(2, base)})
	_, readErr := s.ReadStream(ctx, "order-1", 1, 0)
	_, allErr := s.ReadAll(ctx, 0, 0)
	_, headErr := s.Head(ctx)
	for name, err := range map[string]error{
		"Append":         appendErr,
		"ReadStream":     readErr,
		"ReadAll":        allErr,
		"Head":           headErr,
		"Subscribe":      s.Subscribe(ctx, 0, func(event.Record) error { return nil }),
		"DeleteStream":   s.DeleteStream(ctx, "order-1"),
		"TruncateBefore": s.TruncateBefore(ctx, "order-1", 1),
		"ExpireBefore":   s.ExpireBefore(ctx, base),
		"Close":          s.Close(),
	} {
		if !errors.Is(err, event.ErrClosed) {
			t.Errorf("%s after Close: err = %v, want ErrClosed", name, err)
		}
	}
}

// TestPayloadsAreCopies checks that the store, like the real adapters, keeps and hands out
// payloads of its own, so a test that reuses a buffer sees what a real store would.
func TestPayloadsAreCopies(t *testing.T) {
	ctx := context.Background()
	s := memory.New()
	t.Cleanup(func() { _ = s.Close() })
	d := storetest.Draft(1, base)
	want := string(d.Data)
	if _, err := s.Append(ctx, "order-1", event.Any(), []event.Draft{d}); err != nil {
		t.Fatal(err)
	}
	d.Data[0] = 'X'
	recs, err := s.ReadStream(ctx, "order-1", 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	recs[0].Data[0] = 'Y'
	again, err := s.ReadAll(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(again[0].Data); got != want {
		t.Fatalf("stored payload changed to %s, want %s", got, want)
	}
}
