package esdb

// Business cases the conformance suite does not reach, run against the protocol fake
// (fakeserver_test.go): what is left of a stream after all its events were removed, how a reused
// event ID is judged while its first append may still be in flight, and what readers of the
// global log see of removals.

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	esdbclient "github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"yorozu/adapters/eventstore/storetest"
	"yorozu/domain/event"
)

func openFake(t *testing.T, url string, opts Options) *Store {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s, err := Open(context.Background(), url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// clock is a settable Options.Now.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.now = c.now.Add(d) }

func appendOK(t *testing.T, s *Store, stream string, exp event.ExpectedVersion, ds ...event.Draft) event.AppendResult {
	t.Helper()
	res, err := s.Append(context.Background(), stream, exp, ds)
	if err != nil {
		t.Fatalf("append to %s (%s): %v", stream, exp, err)
	}
	return res
}

func readOK(t *testing.T, s *Store, stream string) []event.Record {
	t.Helper()
	recs, err := s.ReadStream(context.Background(), stream, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func ownEvents(t *testing.T, s *Store, after event.Position, stream string) []event.Record {
	t.Helper()
	all, err := s.ReadAll(context.Background(), after, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []event.Record
	for _, r := range all {
		if r.Stream == stream {
			out = append(out, r)
		}
	}
	return out
}

func TestTruncatingPastTheEndKeepsTheChain(t *testing.T) {
	_, url := startFakeServer(t)
	s := openFake(t, url, Options{})
	ctx := context.Background()
	order := "order-" + uuid.NewString()
	now := time.Now()
	appendOK(t, s, order, event.NoStream(), storetest.Draft(1, now), storetest.Draft(2, now), storetest.Draft(3, now))
	last := readOK(t, s, order)[2]

	if err := s.TruncateBefore(ctx, order, 10); err != nil {
		t.Fatal(err)
	}
	if n := len(readOK(t, s, order)); n != 0 {
		t.Fatalf("stream reads %d events after truncating all", n)
	}
	if n := len(ownEvents(t, s, 0, order)); n != 0 {
		t.Fatalf("global log still shows %d events of the truncated stream", n)
	}
	var ce *event.ConcurrencyError
	if _, err := s.Append(ctx, order, event.Exactly(2), []event.Draft{storetest.Draft(4, now)}); !errors.As(err, &ce) || ce.Actual != 3 {
		t.Fatalf("stale expectation on an emptied stream: %v, want a conflict at version 3", err)
	}
	res := appendOK(t, s, order, event.Exactly(3), storetest.Draft(5, now))
	got := readOK(t, s, order)
	if res.FirstVersion != 4 || len(got) != 1 || got[0].PrevHash != last.Hash {
		t.Fatalf("append after truncating all: %+v, events %v; want version 4 chained to version 3", res, versionsOf(got))
	}
}

func TestExpiringAWholeTelemetryStreamKeepsItsChain(t *testing.T) {
	_, url := startFakeServer(t)
	s := openFake(t, url, Options{})
	ctx := context.Background()
	tele := "telemetry-" + uuid.NewString()
	now := time.Now().UTC()
	old := now.AddDate(0, 0, -100)
	appendOK(t, s, tele, event.NoStream(), storetest.Draft(1, old), storetest.Draft(2, old.Add(time.Hour)))
	last := readOK(t, s, tele)[1]

	for i := 0; i < 2; i++ { // the second run finds nothing left to do
		if err := s.ExpireBefore(ctx, now.AddDate(0, 0, -90)); err != nil {
			t.Fatalf("expire run %d: %v", i+1, err)
		}
	}
	if n := len(readOK(t, s, tele)); n != 0 {
		t.Fatalf("%d expired events still read", n)
	}
	res := appendOK(t, s, tele, event.Exactly(2), storetest.Draft(3, now))
	got := readOK(t, s, tele)
	if res.FirstVersion != 3 || len(got) != 1 || got[0].PrevHash != last.Hash {
		t.Fatalf("append after expiry: %+v; want version 3 chained to version 2", res)
	}
}

func TestTelemetryGetsItsMaxAgeBeforeItsFirstEvent(t *testing.T) {
	f, url := startFakeServer(t)
	s := openFake(t, url, Options{})
	tele, order := "telemetry-"+uuid.NewString(), "order-"+uuid.NewString()
	appendOK(t, s, tele, event.Any(), storetest.Draft(1, time.Now()))
	appendOK(t, s, order, event.Any(), storetest.Draft(2, time.Now()))
	var meta struct {
		MaxAge int64 `json:"$maxAge"`
	}
	if err := json.Unmarshal(f.lastData(metastream(tele)), &meta); err != nil || meta.MaxAge != 92*24*3600 {
		t.Fatalf("telemetry metadata %s (%v), want $maxAge of 92 days", f.lastData(metastream(tele)), err)
	}
	if f.lastData(metastream(order)) != nil {
		t.Fatalf("an order stream got metadata %s", f.lastData(metastream(order)))
	}
}

// A terminal silent for longer than $maxAge: the server hides all its events on its own, and the
// store learns the stream's version only from the server's refusal.
func TestTelemetryResumesAfterMaxAgeHidItAll(t *testing.T) {
	f, url := startFakeServer(t)
	s := openFake(t, url, Options{})
	now := time.Now()
	for _, exp := range []event.ExpectedVersion{event.Any(), event.Exactly(2)} {
		tele := "telemetry-" + uuid.NewString()
		appendOK(t, s, tele, event.NoStream(), storetest.Draft(1, now), storetest.Draft(2, now))
		f.age(tele, 93*24*time.Hour)
		if n := len(readOK(t, s, tele)); n != 0 {
			t.Fatalf("the fake did not apply $maxAge: %d events read", n)
		}
		res := appendOK(t, s, tele, exp, storetest.Draft(3, now))
		got := readOK(t, s, tele)
		if res.FirstVersion != 3 || len(got) != 1 || got[0].StreamVersion != 3 || !got[0].PrevHash.IsZero() {
			t.Fatalf("%s after $maxAge: %+v, events %v; want version 3 with an unknown (zero) previous hash", exp, res, versionsOf(got))
		}
		v := event.NewChainVerifier()
		if !v.Add(got[0]) {
			t.Fatalf("the verifier refuses the first event left: %+v", v.Broken())
		}
	}
}

func TestTelemetryReappendIsRecognisedInTheWindow(t *testing.T) {
	_, url := startFakeServer(t)
	s := openFake(t, url, Options{})
	ctx := context.Background()
	tele := "telemetry-" + uuid.NewString()
	now := time.Now()
	batch := []event.Draft{storetest.Draft(1, now), storetest.Draft(2, now)}
	first := appendOK(t, s, tele, event.NoStream(), batch...)
	appendOK(t, s, tele, event.Exactly(2), storetest.Draft(3, now))
	again, err := s.Append(ctx, tele, event.NoStream(), batch)
	if err != nil || again != first {
		t.Fatalf("re-append: %+v, %v; want %+v", again, err, first)
	}
	if _, err := s.Append(ctx, tele, event.Any(), []event.Draft{storetest.Draft(4, now), batch[1]}); !errors.Is(err, event.ErrDuplicateEvent) {
		t.Fatalf("overlap: %v, want ErrDuplicateEvent", err)
	}
	changed := batch[0]
	changed.Data = json.RawMessage(`{"n":-1}`)
	if _, err := s.Append(ctx, tele, event.Any(), []event.Draft{changed, batch[1]}); !errors.Is(err, event.ErrDuplicateEvent) {
		t.Fatalf("same IDs, other data: %v, want ErrDuplicateEvent", err)
	}
	if n := len(readOK(t, s, tele)); n != 3 {
		t.Fatalf("stream holds %d events, want 3", n)
	}
}

// An event ID claimed for another stream whose event is not there yet may belong to an append
// still in flight: it is refused for claimGrace, then taken over.
func TestClaimOfAnAppendInFlight(t *testing.T) {
	_, url := startFakeServer(t)
	clk := &clock{now: time.Now()}
	s := openFake(t, url, Options{Now: clk.Now})
	ctx := context.Background()
	d := storetest.Draft(1, time.Now())
	elsewhere, here := "order-"+uuid.NewString(), "order-"+uuid.NewString()
	claim, _ := json.Marshal(claimBody{Stream: elsewhere, Version: 1})
	if _, err := s.client.AppendToStream(ctx, claimStream(d.ID), esdbclient.AppendToStreamOptions{ExpectedRevision: esdbclient.NoStream{}},
		esdbclient.EventData{EventID: uuid.New(), EventType: claimEventType, ContentType: esdbclient.ContentTypeJson, Data: claim}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, here, event.Any(), []event.Draft{d}); !errors.Is(err, event.ErrDuplicateEvent) {
		t.Fatalf("ID claimed by an append in flight: %v, want ErrDuplicateEvent", err)
	}
	clk.Advance(claimGrace + time.Second)
	res := appendOK(t, s, here, event.Any(), d)
	held, err := s.readClaim(ctx, claimStream(d.ID))
	if err != nil || held == nil || held.body != (claimBody{Stream: here, Version: res.FirstVersion}) {
		t.Fatalf("claim after takeover: %+v, %v", held, err)
	}
	// Now stored here, the ID is refused elsewhere at once.
	if _, err := s.Append(ctx, elsewhere, event.Any(), []event.Draft{d}); !errors.Is(err, event.ErrDuplicateEvent) {
		t.Fatalf("stored ID on another stream: %v, want ErrDuplicateEvent", err)
	}
}

// A loser of a race leaves a claim for a version another event took; retrying the same draft
// takes the claim over instead of calling it a duplicate.
func TestLosingARaceDoesNotBurnTheEventID(t *testing.T) {
	_, url := startFakeServer(t)
	s := openFake(t, url, Options{})
	ctx := context.Background()
	order := "order-" + uuid.NewString()
	loser := storetest.Draft(1, time.Now())
	if _, _, err := s.claim(ctx, order, 0, []event.Draft{loser}); err != nil {
		t.Fatal(err)
	}
	appendOK(t, s, order, event.NoStream(), storetest.Draft(2, time.Now())) // the winner takes version 1
	res := appendOK(t, s, order, event.Exactly(1), loser)
	if res.FirstVersion != 2 {
		t.Fatalf("retried draft got version %d, want 2", res.FirstVersion)
	}
}

func TestReadersOfTheGlobalLogDoNotSeeRemovedEvents(t *testing.T) {
	_, url := startFakeServer(t)
	s := openFake(t, url, Options{})
	ctx := context.Background()
	now := time.Now()
	kept, gone := "order-"+uuid.NewString(), "order-"+uuid.NewString()
	res := appendOK(t, s, kept, event.Any(), storetest.Draft(1, now))
	appendOK(t, s, gone, event.Any(), storetest.Draft(2, now), storetest.Draft(3, now))
	if err := s.DeleteStream(ctx, gone); err != nil {
		t.Fatal(err)
	}
	if h, err := s.Head(ctx); err != nil || h != res.LastPosition {
		t.Fatalf("head %d (%v), want %d: the deleted stream's events are after it", h, err, res.LastPosition)
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var seen []string
	err := s.Subscribe(sctx, 0, func(r event.Record) error {
		seen = append(seen, r.Stream)
		if r.Stream == kept {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || len(seen) != 1 || seen[0] != kept {
		t.Fatalf("subscription delivered %v (%v), want only the kept stream", seen, err)
	}
}

// Removals by another process reach this store's readers of $all once its answers expire.
func TestRemovalsByAnotherProcessAreSeenWithinTheTTL(t *testing.T) {
	_, url := startFakeServer(t)
	clk := &clock{now: time.Now()}
	reader := openFake(t, url, Options{Now: clk.Now, VisibilityTTL: time.Minute})
	other := openFake(t, url, Options{})
	ctx := context.Background()
	order := "order-" + uuid.NewString()
	appendOK(t, other, order, event.Any(), storetest.Draft(1, time.Now()), storetest.Draft(2, time.Now()))
	if n := len(ownEvents(t, reader, 0, order)); n != 2 {
		t.Fatalf("reader sees %d events, want 2", n)
	}
	if err := other.TruncateBefore(ctx, order, 2); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	if got := ownEvents(t, reader, 0, order); len(got) != 1 || got[0].StreamVersion != 2 {
		t.Fatalf("after the TTL the reader sees versions %v, want [2]", versionsOf(got))
	}
}

func versionsOf(rs []event.Record) []uint64 {
	out := make([]uint64, len(rs))
	for i, r := range rs {
		out[i] = r.StreamVersion
	}
	return out
}
