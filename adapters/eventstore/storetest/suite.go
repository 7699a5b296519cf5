// Package storetest is the one conformance suite every event.Store adapter runs: the embedded
// engine, PostgreSQL and (when YOROZU_TEST_ESDB_URL names a server) EventStoreDB.
//
// Every test names its streams with a fresh UUID and reads the global log only from the head it
// saw at its start, so the suite also runs against a shared server that holds other data.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"yorozu/domain/event"
)

// Factory opens a store for one subtest. The suite closes it.
type Factory func(t *testing.T) event.Store

// Run runs every conformance test against stores made by open.
func Run(t *testing.T, open Factory) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s event.Store)
	}{
		{"AppendAndReadStream", testAppendAndReadStream},
		{"EnvelopeRoundTrip", testEnvelopeRoundTrip},
		{"ExpectedVersion", testExpectedVersion},
		{"InvalidDraftsAreRefused", testInvalidDrafts},
		{"SixteenWritersRaceOnOneStream", testRacingWriters},
		{"HundredStreamsWhileGlobalReaderRuns", testParallelStreamsWithGlobalReader},
		{"IdempotentReappend", testIdempotentReappend},
		{"HashChainContinuity", testHashChain},
		{"RetentionDropsOnlyExpiredPartitions", testRetention},
		{"DeleteStream", testDeleteStream},
		{"TruncateBeforeKeepsChain", testTruncateBefore},
		{"SubscribeCatchUpThenLive", testSubscribeLive},
		{"ReadAllPagesInOrder", testReadAllPaging},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { _ = s.Close() })
			tc.fn(t, s)
		})
	}
}

// base is a fixed business time so tests do not depend on the host clock, except retention,
// which must use times near now because EventStoreDB's own clock is involved there.
var base = time.Date(2025, 7, 1, 7, 0, 0, 0, time.UTC)

func stream(category string) string { return category + "-" + uuid.NewString() }

// Draft builds a valid draft with an n-based payload, for tests of adapters too.
func Draft(n int, recordedAt time.Time) event.Draft {
	data, _ := json.Marshal(map[string]any{"n": n, "note": "テスト"})
	return event.Draft{
		ID:            uuid.New(),
		Type:          "TestHappened",
		SchemaVersion: 1,
		EffectiveAt:   recordedAt.Add(-time.Hour),
		RecordedAt:    recordedAt,
		Actor:         "staff-1",
		CommandID:     uuid.NewString(),
		CorrelationID: uuid.NewString(),
		CausationID:   uuid.NewString(),
		Data:          data,
	}
}

func drafts(from, n int) []event.Draft {
	out := make([]event.Draft, n)
	for i := range out {
		out[i] = Draft(from+i, base.Add(time.Duration(from+i)*time.Second))
	}
	return out
}

func mustAppend(t *testing.T, s event.Store, st string, exp event.ExpectedVersion, ds []event.Draft) event.AppendResult {
	t.Helper()
	res, err := s.Append(context.Background(), st, exp, ds)
	if err != nil {
		t.Fatalf("append to %s (%s): %v", st, exp, err)
	}
	return res
}

func readStream(t *testing.T, s event.Store, st string) []event.Record {
	t.Helper()
	recs, err := s.ReadStream(context.Background(), st, 1, 0)
	if err != nil {
		t.Fatalf("read %s: %v", st, err)
	}
	return recs
}

func head(t *testing.T, s event.Store) event.Position {
	t.Helper()
	p, err := s.Head(context.Background())
	if err != nil {
		t.Fatalf("head: %v", err)
	}
	return p
}

// readOwn reads the global log after `after` to its end and keeps the events of the given streams.
func readOwn(t *testing.T, s event.Store, after event.Position, own func(string) bool) []event.Record {
	t.Helper()
	var out []event.Record
	for {
		recs, err := s.ReadAll(context.Background(), after, 500)
		if err != nil {
			t.Fatalf("read all after %d: %v", after, err)
		}
		if len(recs) == 0 {
			return out
		}
		for _, r := range recs {
			if r.Position <= after {
				t.Fatalf("ReadAll after %d returned position %d", after, r.Position)
			}
			after = r.Position
			if own(r.Stream) {
				out = append(out, r)
			}
		}
	}
}

func testAppendAndReadStream(t *testing.T, s event.Store) {
	st := stream("order")
	res := mustAppend(t, s, st, event.NoStream(), drafts(0, 3))
	if res.FirstVersion != 1 || res.LastVersion != 3 || res.LastPosition == 0 {
		t.Fatalf("first append result = %+v, want versions 1..3 and a position", res)
	}
	res2 := mustAppend(t, s, st, event.Exactly(3), drafts(3, 2))
	if res2.FirstVersion != 4 || res2.LastVersion != 5 || res2.LastPosition <= res.LastPosition {
		t.Fatalf("second append result = %+v after %+v", res2, res)
	}
	all := readStream(t, s, st)
	if len(all) != 5 {
		t.Fatalf("stream has %d events, want 5", len(all))
	}
	for i, r := range all {
		if r.StreamVersion != uint64(i+1) || r.Stream != st {
			t.Fatalf("event %d: stream %s version %d", i, r.Stream, r.StreamVersion)
		}
	}
	part, err := s.ReadStream(context.Background(), st, 2, 2)
	if err != nil || len(part) != 2 || part[0].StreamVersion != 2 || part[1].StreamVersion != 3 {
		t.Fatalf("ReadStream(from 2, limit 2) = %d events, err %v", len(part), err)
	}
	none, err := s.ReadStream(context.Background(), stream("nothing"), 1, 0)
	if err != nil || len(none) != 0 {
		t.Fatalf("unknown stream read = %d events, err %v; want empty, nil", len(none), err)
	}
	if h := head(t, s); h < res2.LastPosition {
		t.Fatalf("head %d is before the last append at %d", h, res2.LastPosition)
	}
}

func testEnvelopeRoundTrip(t *testing.T, s event.Store) {
	st := stream("contract")
	d := Draft(1, time.Date(2025, 7, 1, 7, 0, 0, 123456789, time.UTC))
	d.EffectiveAt = time.Date(2025, 6, 30, 15, 0, 0, 0, time.FixedZone("JST", 9*3600))
	d.SchemaVersion = 2
	d.Data = json.RawMessage(`{"b":2,"a":"順序  と空白"}`)
	mustAppend(t, s, st, event.Any(), []event.Draft{d})
	got := readStream(t, s, st)
	if len(got) != 1 {
		t.Fatalf("got %d events", len(got))
	}
	r := got[0]
	switch {
	case r.ID != d.ID, r.Type != d.Type, r.SchemaVersion != 2, r.Actor != d.Actor,
		r.CommandID != d.CommandID, r.CorrelationID != d.CorrelationID, r.CausationID != d.CausationID:
		t.Fatalf("envelope fields changed: %+v vs draft %+v", r, d)
	case !r.EffectiveAt.Equal(d.EffectiveAt):
		t.Fatalf("effectiveAt %v, want %v", r.EffectiveAt, d.EffectiveAt)
	case !r.RecordedAt.Equal(d.RecordedAt.Truncate(event.TimePrecision)):
		t.Fatalf("recordedAt %v, want %v truncated to %v", r.RecordedAt, d.RecordedAt, event.TimePrecision)
	case string(r.Data) != string(d.Data):
		t.Fatalf("data bytes changed: %s", r.Data)
	case r.Hash != event.ComputeHash(&r) || !r.PrevHash.IsZero():
		t.Fatalf("hash chain of a first event is wrong: prev %s hash %s", r.PrevHash, r.Hash)
	}
}

func testExpectedVersion(t *testing.T, s event.Store) {
	ctx := context.Background()
	st := stream("order")
	mustAppend(t, s, st, event.Any(), drafts(0, 2))
	cases := []struct {
		name string
		exp  event.ExpectedVersion
	}{
		{"no stream on an existing stream", event.NoStream()},
		{"an older version", event.Exactly(1)},
		{"a future version", event.Exactly(5)},
	}
	for _, c := range cases {
		_, err := s.Append(ctx, st, c.exp, drafts(10, 1))
		var ce *event.ConcurrencyError
		if !errors.Is(err, event.ErrConcurrency) || !errors.As(err, &ce) {
			t.Fatalf("%s: err = %v, want a *ConcurrencyError", c.name, err)
		}
		if ce.Stream != st || ce.Actual != 2 {
			t.Fatalf("%s: conflict says stream %q actual %d, want %q 2", c.name, ce.Stream, ce.Actual, st)
		}
	}
	if _, err := s.Append(ctx, stream("order"), event.Exactly(1), drafts(0, 1)); !errors.Is(err, event.ErrConcurrency) {
		t.Fatalf("exact version on a missing stream: err = %v, want ErrConcurrency", err)
	}
	mustAppend(t, s, st, event.Exactly(2), drafts(20, 1))
	mustAppend(t, s, st, event.Any(), drafts(30, 1))
	if n := len(readStream(t, s, st)); n != 4 {
		t.Fatalf("stream holds %d events after refused appends, want 4", n)
	}
}

func testInvalidDrafts(t *testing.T, s event.Store) {
	st := stream("order")
	noID := Draft(1, base)
	noID.ID = uuid.Nil
	noType := Draft(1, base)
	noType.Type = ""
	dup := Draft(1, base)
	for name, batch := range map[string][]event.Draft{
		"empty batch":        nil,
		"event without id":   {noID},
		"event without type": {noType},
		"same id twice":      {dup, dup},
	} {
		if _, err := s.Append(context.Background(), st, event.Any(), batch); !errors.Is(err, event.ErrInvalidDraft) {
			t.Errorf("%s: err = %v, want ErrInvalidDraft", name, err)
		}
	}
	if n := len(readStream(t, s, st)); n != 0 {
		t.Fatalf("refused appends stored %d events", n)
	}
}

func testRacingWriters(t *testing.T, s event.Store) {
	const writers, rounds = 16, 10
	st := stream("order")
	ctx := context.Background()
	winners := make([][]int, rounds) // round → writer ids that won
	var mu sync.Mutex
	for round := 0; round < rounds; round++ {
		var wg sync.WaitGroup
		start := make(chan struct{})
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				<-start
				_, err := s.Append(ctx, st, event.Exactly(uint64(round)), []event.Draft{Draft(round*100+w, base)})
				switch {
				case err == nil:
					mu.Lock()
					winners[round] = append(winners[round], w)
					mu.Unlock()
				case errors.Is(err, event.ErrConcurrency):
				default:
					t.Errorf("writer %d round %d: unexpected error %v", w, round, err)
				}
			}(w)
		}
		close(start)
		wg.Wait()
		if len(winners[round]) != 1 {
			t.Fatalf("round %d (version %d): %d writers won, want exactly 1", round, round+1, len(winners[round]))
		}
	}
	recs := readStream(t, s, st)
	if len(recs) != rounds {
		t.Fatalf("stream holds %d events, want %d", len(recs), rounds)
	}
	for i, r := range recs {
		var p struct{ N int }
		_ = json.Unmarshal(r.Data, &p)
		if want := i*100 + winners[i][0]; p.N != want {
			t.Fatalf("version %d holds the event of n=%d, but writer n=%d was told it won", i+1, p.N, want)
		}
	}
}

func testParallelStreamsWithGlobalReader(t *testing.T, s event.Store) {
	const streams, perStream = 100, 20
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	names := make(map[string]bool, streams)
	list := make([]string, streams)
	for i := range list {
		list[i] = stream("order")
		names[list[i]] = true
	}
	start := head(t, s)

	type seen struct {
		count   int
		version uint64
	}
	got := make(map[string]*seen)
	ids := make(map[uuid.UUID]bool)
	total := 0
	readerDone := make(chan error, 1)
	go func() {
		var last event.Position
		readerDone <- s.Subscribe(ctx, start, func(r event.Record) error {
			if r.Position <= last {
				return fmt.Errorf("position %d after %d: not increasing", r.Position, last)
			}
			last = r.Position
			if !names[r.Stream] {
				return nil
			}
			if ids[r.ID] {
				return fmt.Errorf("event %s delivered twice", r.ID)
			}
			ids[r.ID] = true
			sn := got[r.Stream]
			if sn == nil {
				sn = &seen{}
				got[r.Stream] = sn
			}
			if r.StreamVersion != sn.version+1 {
				return fmt.Errorf("stream %s: version %d after %d", r.Stream, r.StreamVersion, sn.version)
			}
			sn.version = r.StreamVersion
			sn.count++
			total++
			if total == streams*perStream {
				return errDone
			}
			return nil
		})
	}()

	var wg sync.WaitGroup
	for _, st := range list {
		wg.Add(1)
		go func(st string) {
			defer wg.Done()
			for i := 0; i < perStream; i++ {
				// Mix single appends and small batches, all with exact versions.
				n := 1
				if i%5 == 0 && i+2 <= perStream {
					n = 2
				}
				if _, err := s.Append(ctx, st, event.Exactly(uint64(i)), drafts(i, n)); err != nil {
					t.Errorf("append %s v%d: %v", st, i, err)
					return
				}
				i += n - 1
			}
		}(st)
	}
	wg.Wait()
	select {
	case err := <-readerDone:
		if !errors.Is(err, errDone) {
			t.Fatalf("global reader stopped: %v (saw %d of %d events)", err, total, streams*perStream)
		}
	case <-time.After(60 * time.Second):
		cancel()
		<-readerDone
		t.Fatalf("global reader saw %d of %d events within 60 s", total, streams*perStream)
	}
	// A second, non-live read of the same range sees the same events.
	own := readOwn(t, s, start, func(st string) bool { return names[st] })
	if len(own) != streams*perStream {
		t.Fatalf("ReadAll after the run returns %d events, want %d", len(own), streams*perStream)
	}
}

var errDone = errors.New("done")

func testIdempotentReappend(t *testing.T, s event.Store) {
	ctx := context.Background()
	st := stream("order")
	start := head(t, s)
	batch := drafts(0, 3)
	first := mustAppend(t, s, st, event.NoStream(), batch)
	again, err := s.Append(ctx, st, event.NoStream(), batch)
	if err != nil {
		t.Fatalf("re-append of the same batch: %v", err)
	}
	if again != first {
		t.Fatalf("re-append result %+v, want the original %+v", again, first)
	}
	// Also with Any, and after more events followed.
	mustAppend(t, s, st, event.Exactly(3), drafts(3, 1))
	if again, err := s.Append(ctx, st, event.Any(), batch); err != nil || again != first {
		t.Fatalf("re-append with Any after more events: %+v, %v; want %+v", again, err, first)
	}
	if n := len(readStream(t, s, st)); n != 4 {
		t.Fatalf("stream holds %d events, want 4 (no duplicates)", n)
	}
	// A batch that reuses one stored ID next to a new one is not the same batch.
	mixed := []event.Draft{batch[0], Draft(99, base)}
	if _, err := s.Append(ctx, st, event.Any(), mixed); !errors.Is(err, event.ErrDuplicateEvent) {
		t.Fatalf("partial overlap: err = %v, want ErrDuplicateEvent", err)
	}
	// The same IDs on another stream are refused.
	if _, err := s.Append(ctx, stream("order"), event.Any(), batch); !errors.Is(err, event.ErrDuplicateEvent) {
		t.Fatalf("same ids on another stream: err = %v, want ErrDuplicateEvent", err)
	}
	own := readOwn(t, s, start, func(x string) bool { return x == st })
	if len(own) != 4 {
		t.Fatalf("global log holds %d events of the stream, want 4", len(own))
	}
}

func testHashChain(t *testing.T, s event.Store) {
	st := stream("contract")
	for i := 0; i < 5; i++ {
		mustAppend(t, s, st, event.Any(), drafts(i*2, 2))
	}
	recs := readStream(t, s, st)
	v := event.NewChainVerifier()
	var prev event.Hash
	for _, r := range recs {
		if r.PrevHash != prev {
			t.Fatalf("version %d: prevHash %s, want %s", r.StreamVersion, r.PrevHash, prev)
		}
		if !v.Add(r) {
			t.Fatalf("chain broken: %+v", v.Broken())
		}
		prev = r.Hash
	}
	// Tampering is detected: a changed payload breaks its own hash.
	bad := recs[3]
	bad.Data = json.RawMessage(`{"n":-1}`)
	v2 := event.NewChainVerifier()
	for i, r := range recs {
		if i == 3 {
			r = bad
		}
		v2.Add(r)
	}
	if b := v2.Broken(); b == nil || b.StreamVersion != 4 {
		t.Fatalf("tampered event 4 not reported: %+v", b)
	}
}

func testRetention(t *testing.T, s event.Store) {
	ctx := context.Background()
	now := time.Now().UTC()
	old := now.AddDate(0, 0, -100)
	start := head(t, s)
	tele := stream("telemetry")
	contract := stream("contract")
	oldBatch := []event.Draft{Draft(1, old), Draft(2, old.Add(time.Minute))}
	newBatch := []event.Draft{Draft(3, now.Add(-time.Hour))}
	mustAppend(t, s, tele, event.NoStream(), oldBatch)
	mustAppend(t, s, tele, event.Exactly(2), newBatch)
	mustAppend(t, s, contract, event.NoStream(), []event.Draft{Draft(4, old)})

	if err := s.ExpireBefore(ctx, now.AddDate(0, 0, -90)); err != nil {
		t.Fatalf("expire: %v", err)
	}
	left := readStream(t, s, tele)
	if len(left) != 1 || left[0].StreamVersion != 3 {
		t.Fatalf("telemetry stream after retention holds %d events (first version %v), want only version 3", len(left), versions(left))
	}
	if n := len(readStream(t, s, contract)); n != 1 {
		t.Fatalf("retention removed %d old contract events; contract streams are never expired", 1-n)
	}
	own := readOwn(t, s, start, func(x string) bool { return x == tele || x == contract })
	if len(own) != 2 {
		t.Fatalf("global log after retention holds %d of our events, want 2 (versions %v)", len(own), versions(own))
	}
	v := event.NewChainVerifier()
	for _, r := range own {
		if !v.Add(r) {
			t.Fatalf("chain after retention: %+v", v.Broken())
		}
	}
	// New telemetry continues the stream and its chain.
	res := mustAppend(t, s, tele, event.Exactly(3), []event.Draft{Draft(5, now)})
	if res.FirstVersion != 4 {
		t.Fatalf("append after retention got version %d, want 4", res.FirstVersion)
	}
	after := readStream(t, s, tele)
	if after[len(after)-1].PrevHash != left[0].Hash {
		t.Fatal("append after retention does not chain to the last kept event")
	}
}

func versions(rs []event.Record) []uint64 {
	out := make([]uint64, len(rs))
	for i, r := range rs {
		out[i] = r.StreamVersion
	}
	return out
}

func testDeleteStream(t *testing.T, s event.Store) {
	ctx := context.Background()
	start := head(t, s)
	gone, kept := stream("telemetry"), stream("telemetry")
	mustAppend(t, s, gone, event.Any(), drafts(0, 3))
	mustAppend(t, s, kept, event.Any(), drafts(3, 2))
	if err := s.DeleteStream(ctx, gone); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if n := len(readStream(t, s, gone)); n != 0 {
		t.Fatalf("deleted stream still reads %d events", n)
	}
	if _, err := s.Append(ctx, gone, event.Any(), drafts(10, 1)); !errors.Is(err, event.ErrStreamDeleted) {
		t.Fatalf("append to a deleted stream: err = %v, want ErrStreamDeleted", err)
	}
	if n := len(readStream(t, s, kept)); n != 2 {
		t.Fatalf("other stream reads %d events after a delete, want 2", n)
	}
	own := readOwn(t, s, start, func(x string) bool { return x == gone || x == kept })
	if len(own) != 2 {
		t.Fatalf("global log holds %d events of the two streams, want the 2 kept", len(own))
	}
}

func testTruncateBefore(t *testing.T, s event.Store) {
	ctx := context.Background()
	st := stream("telemetry")
	mustAppend(t, s, st, event.Any(), drafts(0, 5))
	if err := s.TruncateBefore(ctx, st, 4); err != nil {
		t.Fatalf("truncate: %v", err)
	}
	left := readStream(t, s, st)
	if len(left) != 2 || left[0].StreamVersion != 4 {
		t.Fatalf("after truncate before 4: versions %v, want [4 5]", versions(left))
	}
	res := mustAppend(t, s, st, event.Exactly(5), drafts(5, 1))
	if res.FirstVersion != 6 {
		t.Fatalf("append after truncate: version %d, want 6", res.FirstVersion)
	}
	all := readStream(t, s, st)
	if all[len(all)-1].PrevHash != left[1].Hash {
		t.Fatal("append after truncate does not chain to the last kept event")
	}
}

func testSubscribeLive(t *testing.T, s event.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := stream("order")
	start := head(t, s)
	mustAppend(t, s, st, event.Any(), drafts(0, 2)) // caught up
	got := make(chan event.Record, 16)
	done := make(chan error, 1)
	go func() {
		done <- s.Subscribe(ctx, start, func(r event.Record) error {
			if r.Stream == st {
				got <- r
			}
			return nil
		})
	}()
	for i := 0; i < 2; i++ {
		select {
		case <-got:
		case <-time.After(10 * time.Second):
			t.Fatal("catch-up part of the subscription did not deliver stored events")
		}
	}
	mustAppend(t, s, st, event.Any(), drafts(2, 1)) // live
	select {
	case r := <-got:
		if r.StreamVersion != 3 {
			t.Fatalf("live event has version %d, want 3", r.StreamVersion)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("live event not delivered within 10 s")
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("subscription ended with %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("subscription did not stop when its context ended")
	}
	// A handler error stops the subscription and is returned.
	boom := errors.New("boom")
	if err := s.Subscribe(context.Background(), start, func(event.Record) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("subscription returned %v, want the handler's error", err)
	}
}

func testReadAllPaging(t *testing.T, s event.Store) {
	start := head(t, s)
	st := stream("order")
	mustAppend(t, s, st, event.Any(), drafts(0, 25))
	var got []event.Record
	after := start
	for {
		page, err := s.ReadAll(context.Background(), after, 7)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) > 7 {
			t.Fatalf("page of %d events with limit 7", len(page))
		}
		if len(page) == 0 {
			break
		}
		for _, r := range page {
			if r.Stream == st {
				got = append(got, r)
			}
		}
		after = page[len(page)-1].Position
	}
	if len(got) != 25 {
		t.Fatalf("paged read found %d events, want 25", len(got))
	}
	for i, r := range got {
		if r.StreamVersion != uint64(i+1) {
			t.Fatalf("paged read out of order at %d: version %d", i, r.StreamVersion)
		}
	}
}
