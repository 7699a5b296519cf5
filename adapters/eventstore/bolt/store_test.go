package bolt_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"yorozu/adapters/eventstore/bolt"
	"yorozu/adapters/eventstore/storetest"
	"yorozu/domain/event"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) event.Store { return openTemp(t) })
}

func TestTransferConformance(t *testing.T) {
	storetest.RunTransfer(t, func(t *testing.T) event.Store { return openTemp(t) }, storetest.ImportOptions{})
}

func TestSurvivesKill(t *testing.T) {
	storetest.RunCrash(t, storetest.CrashTarget{
		Prepare: func(t *testing.T) string { return t.TempDir() },
		Open: func(t *testing.T, dir string) event.Store {
			s, err := bolt.OpenDir(dir, bolt.Options{})
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
	})
}

// openTemp opens a store in a fresh directory and closes it when the test ends.
func openTemp(t *testing.T) *bolt.Store {
	t.Helper()
	return openAt(t, t.TempDir())
}

func openAt(t *testing.T, dir string) *bolt.Store {
	t.Helper()
	s, err := bolt.OpenDir(dir, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

var clock = time.Date(2026, 11, 2, 9, 30, 0, 123456789, time.UTC)

func draft(typ string, data string) event.Draft {
	return event.Draft{
		ID:            uuid.Must(uuid.NewV7()),
		Type:          typ,
		EffectiveAt:   clock.Add(-time.Hour),
		RecordedAt:    clock,
		Actor:         "staff-1",
		CommandID:     "cmd-1",
		CorrelationID: "corr-1",
		CausationID:   "cause-1",
		Data:          json.RawMessage(data),
	}
}

func drafts(n int) []event.Draft {
	ds := make([]event.Draft, n)
	for i := range ds {
		ds[i] = draft("OrderPlaced", fmt.Sprintf(`{"n": %d}`, i))
	}
	return ds
}

func recordedOn(t time.Time, n int) []event.Draft {
	ds := drafts(n)
	for i := range ds {
		ds[i].RecordedAt = t
	}
	return ds
}

func mustAppend(t *testing.T, s event.Store, stream string, expected event.ExpectedVersion, ds []event.Draft) event.AppendResult {
	t.Helper()
	res, err := s.Append(context.Background(), stream, expected, ds)
	if err != nil {
		t.Fatalf("append to %s: %v", stream, err)
	}
	return res
}

func readStream(t *testing.T, s event.Store, stream string, from uint64, limit int) []event.Record {
	t.Helper()
	recs, err := s.ReadStream(context.Background(), stream, from, limit)
	if err != nil {
		t.Fatalf("read %s: %v", stream, err)
	}
	return recs
}

func readAll(t *testing.T, s event.Store) []event.Record {
	t.Helper()
	recs, err := s.ReadAll(context.Background(), 0, 0)
	if err != nil {
		t.Fatalf("read all: %v", err)
	}
	return recs
}

func ids(recs []event.Record) []uuid.UUID {
	out := make([]uuid.UUID, len(recs))
	for i, r := range recs {
		out[i] = r.ID
	}
	return out
}

func draftIDs(ds []event.Draft) []uuid.UUID {
	out := make([]uuid.UUID, len(ds))
	for i, d := range ds {
		out[i] = d.ID
	}
	return out
}

func versions(recs []event.Record) []uint64 {
	out := make([]uint64, len(recs))
	for i, r := range recs {
		out[i] = r.StreamVersion
	}
	return out
}

func assertChain(t *testing.T, s event.Store) {
	t.Helper()
	v := event.NewChainVerifier()
	for _, r := range readAll(t, s) {
		v.Add(r)
	}
	if b := v.Broken(); b != nil {
		t.Fatalf("broken chain: %+v", *b)
	}
}

func TestAppendStoresTheEnvelopeAndChainsHashes(t *testing.T) {
	s := openTemp(t)
	ds := []event.Draft{
		draft("OrderPlaced", `{ "customer" : "N000000001",  "yen": 5500 }`),
		draft("OrderAccepted", `{"note":"受付 \u00e9"}`),
	}
	ds[1].SchemaVersion = 3
	res := mustAppend(t, s, "order-1", event.NoStream(), ds)
	if want := (event.AppendResult{FirstVersion: 1, LastVersion: 2, LastPosition: 2}); res != want {
		t.Fatalf("result %+v, want %+v", res, want)
	}
	got := readStream(t, s, "order-1", 1, 0)
	var want []event.Record
	var prev event.Hash
	for i, d := range ds {
		r := event.Seal(d, "order-1", uint64(i+1), prev)
		r.Position = event.Position(i + 1)
		prev = r.Hash
		want = append(want, r)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("stored records differ (-want +got):\n%s", diff)
	}
	if string(got[0].Data) != `{ "customer" : "N000000001",  "yen": 5500 }` {
		t.Fatalf("data not kept byte for byte: %s", got[0].Data)
	}
	if got[0].RecordedAt.Nanosecond() != 123456000 || got[0].RecordedAt.Location() != time.UTC {
		t.Fatalf("recordedAt not microsecond UTC: %v", got[0].RecordedAt)
	}
	if got[0].SchemaVersion != 1 || got[1].SchemaVersion != 3 {
		t.Fatalf("schema versions %d, %d", got[0].SchemaVersion, got[1].SchemaVersion)
	}
	assertChain(t, s)
}

func TestExpectedVersion(t *testing.T) {
	tests := []struct {
		name     string
		before   int // events already in the stream
		expected event.ExpectedVersion
		wantErr  bool
	}{
		{"no stream on a new stream", 0, event.NoStream(), false},
		{"no stream on an existing stream", 2, event.NoStream(), true},
		{"exact version matches", 2, event.Exactly(2), false},
		{"exact version is behind", 2, event.Exactly(1), true},
		{"exact version is ahead", 2, event.Exactly(3), true},
		{"exactly zero is no stream", 0, event.Exactly(0), false},
		{"any on a new stream", 0, event.Any(), false},
		{"any on an existing stream", 2, event.Any(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openTemp(t)
			if tt.before > 0 {
				mustAppend(t, s, "order-1", event.Any(), drafts(tt.before))
			}
			_, err := s.Append(context.Background(), "order-1", tt.expected, drafts(1))
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("append: %v", err)
				}
				return
			}
			var ce *event.ConcurrencyError
			if !errors.As(err, &ce) || !errors.Is(err, event.ErrConcurrency) {
				t.Fatalf("got %v, want a *ConcurrencyError", err)
			}
			if ce.Stream != "order-1" || ce.Actual != uint64(tt.before) || ce.Expected != tt.expected {
				t.Fatalf("concurrency error %+v", ce)
			}
			if n := len(readStream(t, s, "order-1", 1, 0)); n != tt.before {
				t.Fatalf("refused append stored something: %d events", n)
			}
		})
	}
}

func TestRetriedAppendIsRecognised(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	first := drafts(3)
	res1 := mustAppend(t, s, "order-1", event.NoStream(), first)
	second := drafts(2)
	res2 := mustAppend(t, s, "order-1", event.Exactly(3), second)
	mustAppend(t, s, "order-2", event.NoStream(), drafts(1))

	t.Run("the last batch again", func(t *testing.T) {
		res, err := s.Append(ctx, "order-1", event.Exactly(3), second)
		if err != nil || res != res2 {
			t.Fatalf("got %+v, %v; want %+v", res, err, res2)
		}
	})
	t.Run("an earlier batch, with a stale expected version", func(t *testing.T) {
		res, err := s.Append(ctx, "order-1", event.NoStream(), first)
		if err != nil || res != res1 {
			t.Fatalf("got %+v, %v; want %+v", res, err, res1)
		}
	})
	for name, tc := range map[string]struct {
		stream string
		ds     []event.Draft
	}{
		"the batch in another stream":   {"order-2", second},
		"the batch in a new stream":     {"order-3", second},
		"part of a batch":               {"order-1", first[1:]},
		"a batch plus a new event":      {"order-1", append(append([]event.Draft{}, second...), draft("X", `{}`))},
		"the batch in another order":    {"order-1", []event.Draft{second[1], second[0]}},
		"events of two batches":         {"order-1", []event.Draft{first[2], second[0]}},
		"a new event then a stored one": {"order-1", []event.Draft{draft("X", `{}`), second[0]}},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := s.Append(ctx, tc.stream, event.Any(), tc.ds); !errors.Is(err, event.ErrDuplicateEvent) {
				t.Fatalf("got %v, want ErrDuplicateEvent", err)
			}
		})
	}
	if n := len(readAll(t, s)); n != 6 {
		t.Fatalf("log holds %d events, want 6", n)
	}
	t.Run("after the batch was truncated", func(t *testing.T) {
		if err := s.TruncateBefore(ctx, "order-1", 5); err != nil {
			t.Fatal(err)
		}
		res, err := s.Append(ctx, "order-1", event.Any(), first)
		if err != nil || res != res1 {
			t.Fatalf("got %+v, %v; want %+v", res, err, res1)
		}
		if got := versions(readStream(t, s, "order-1", 1, 0)); !cmp.Equal(got, []uint64{5}) {
			t.Fatalf("versions %v", got)
		}
	})
}

func TestConcurrentRetriesStoreOnce(t *testing.T) {
	s := openTemp(t)
	ds := drafts(4)
	var wg sync.WaitGroup
	results := make([]event.AppendResult, 16)
	errs := make([]error, len(results))
	for i := range results {
		wg.Go(func() { results[i], errs[i] = s.Append(context.Background(), "order-1", event.NoStream(), ds) })
	}
	wg.Wait()
	for i := range results {
		if errs[i] != nil || results[i] != results[0] {
			t.Fatalf("retry %d: %+v, %v; first %+v", i, results[i], errs[i], results[0])
		}
	}
	if got := ids(readAll(t, s)); !cmp.Equal(got, draftIDs(ds)) {
		t.Fatalf("log holds %v", got)
	}
}

func TestInvalidAppendsAreRefused(t *testing.T) {
	s := openTemp(t)
	noID := draft("X", `{}`)
	noID.ID = uuid.Nil
	noType := draft("", `{}`)
	noData := draft("X", ``)
	noTime := draft("X", `{}`)
	noTime.RecordedAt = time.Time{}
	twice := draft("X", `{}`)
	long := make([]byte, bolt.MaxStreamName+1)
	for i := range long {
		long[i] = 'a'
	}
	for name, tc := range map[string]struct {
		stream string
		ds     []event.Draft
	}{
		"empty batch":       {"order-1", nil},
		"no stream":         {"", drafts(1)},
		"no id":             {"order-1", []event.Draft{noID}},
		"no type":           {"order-1", []event.Draft{noType}},
		"no data":           {"order-1", []event.Draft{noData}},
		"no recorded time":  {"order-1", []event.Draft{noTime}},
		"id twice":          {"order-1", []event.Draft{twice, twice}},
		"long stream name":  {string(long), drafts(1)},
		"batch beyond max":  {"order-1", drafts(event.MaxBatch + 1)},
		"one bad of a pair": {"order-1", []event.Draft{draft("X", `{}`), noType}},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := s.Append(context.Background(), tc.stream, event.Any(), tc.ds); !errors.Is(err, event.ErrInvalidDraft) {
				t.Fatalf("got %v, want ErrInvalidDraft", err)
			}
		})
	}
	if n := len(readAll(t, s)); n != 0 {
		t.Fatalf("refused appends stored %d events", n)
	}
}

func TestReadStreamFromAndLimit(t *testing.T) {
	s := openTemp(t)
	mustAppend(t, s, "order-1", event.Any(), drafts(5))
	mustAppend(t, s, "order-10", event.Any(), drafts(2)) // a name that extends the first one
	mustAppend(t, s, "order-1", event.Any(), drafts(5))
	tests := []struct {
		from  uint64
		limit int
		want  []uint64
	}{
		{0, 0, []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
		{1, 3, []uint64{1, 2, 3}},
		{4, 4, []uint64{4, 5, 6, 7}},
		{9, 0, []uint64{9, 10}},
		{9, -1, []uint64{9, 10}},
		{11, 0, nil},
	}
	for _, tt := range tests {
		got := versions(readStream(t, s, "order-1", tt.from, tt.limit))
		if len(got) == 0 && len(tt.want) == 0 {
			continue
		}
		if !cmp.Equal(got, tt.want) {
			t.Errorf("from %d limit %d: got %v, want %v", tt.from, tt.limit, got, tt.want)
		}
	}
	if got := readStream(t, s, "order-unknown", 1, 0); len(got) != 0 {
		t.Errorf("unknown stream read %d events", len(got))
	}
}

func TestReadAllFollowsCommitOrderAcrossPartitions(t *testing.T) {
	s := openTemp(t)
	day := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
	var want []uuid.UUID
	add := func(stream string, ds []event.Draft) {
		mustAppend(t, s, stream, event.Any(), ds)
		want = append(want, draftIDs(ds)...)
	}
	add("order-1", drafts(2))
	add("telemetry-a", recordedOn(day, 2))
	add("telemetry-b", recordedOn(day.AddDate(0, 0, -2), 1)) // back-dated: an older day bucket
	add("order-2", drafts(1))
	add("telemetry-a", recordedOn(day.AddDate(0, 0, -1), 2))
	add("telemetry-a", recordedOn(day, 1))
	add("order-1", drafts(1))

	all := readAll(t, s)
	if diff := cmp.Diff(want, ids(all)); diff != "" {
		t.Fatalf("ReadAll order (-want +got):\n%s", diff)
	}
	for i, r := range all {
		if r.Position != event.Position(i+1) {
			t.Fatalf("event %d at position %d", i, r.Position)
		}
	}
	for after := 0; after <= len(all); after++ {
		for _, limit := range []int{1, 3, 100} {
			page, err := s.ReadAll(context.Background(), event.Position(after), limit)
			if err != nil {
				t.Fatal(err)
			}
			end := min(after+limit, len(all))
			if !cmp.Equal(ids(page), want[after:end], cmp.Comparer(func(a, b []uuid.UUID) bool { return len(a) == 0 && len(b) == 0 || cmp.Equal(a, b) })) {
				t.Fatalf("after %d limit %d: got %v, want %v", after, limit, ids(page), want[after:end])
			}
		}
	}
	if got := versions(readStream(t, s, "telemetry-a", 1, 0)); !cmp.Equal(got, []uint64{1, 2, 3, 4, 5}) {
		t.Fatalf("telemetry-a versions %v", got)
	}
	if got := versions(readStream(t, s, "telemetry-a", 2, 3)); !cmp.Equal(got, []uint64{2, 3, 4}) {
		t.Fatalf("telemetry-a from 2 limit 3: %v", got)
	}
	assertChain(t, s)
}

func TestHeadIsTheLastPosition(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	if h, err := s.Head(ctx); err != nil || h != 0 {
		t.Fatalf("empty store head %d, %v", h, err)
	}
	res := mustAppend(t, s, "order-1", event.Any(), drafts(3))
	if h, _ := s.Head(ctx); h != res.LastPosition || h != 3 {
		t.Fatalf("head %d after %+v", h, res)
	}
}

func TestSubscribeCatchesUpThenFollows(t *testing.T) {
	s := openTemp(t)
	mustAppend(t, s, "order-1", event.Any(), drafts(3))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan event.Record, 100)
	done := make(chan error, 1)
	go func() {
		done <- s.Subscribe(ctx, 1, func(r event.Record) error { got <- r; return nil })
	}()
	live := drafts(2)
	mustAppend(t, s, "telemetry-x", event.Any(), live[:1])
	mustAppend(t, s, "order-2", event.Any(), live[1:])
	var positions []event.Position
	for len(positions) < 4 {
		select {
		case r := <-got:
			positions = append(positions, r.Position)
		case <-time.After(5 * time.Second):
			t.Fatalf("subscription stalled after %v", positions)
		}
	}
	if !cmp.Equal(positions, []event.Position{2, 3, 4, 5}) {
		t.Fatalf("positions %v", positions)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("subscription ended with %v", err)
	}

	stop := errors.New("stop")
	err := s.Subscribe(context.Background(), 0, func(event.Record) error { return stop })
	if !errors.Is(err, stop) {
		t.Fatalf("handler error not returned: %v", err)
	}
}

func TestDeleteStreamLeavesATombstone(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	mustAppend(t, s, "order-1", event.Any(), drafts(3))
	keep := mustAppend(t, s, "order-2", event.Any(), drafts(1))
	mustAppend(t, s, "telemetry-t", event.Any(), recordedOn(clock.AddDate(0, 0, -1), 2))
	mustAppend(t, s, "telemetry-t", event.Any(), recordedOn(clock, 2))
	for _, stream := range []string{"order-1", "telemetry-t", "order-never"} {
		if err := s.DeleteStream(ctx, stream); err != nil {
			t.Fatal(err)
		}
		if got := readStream(t, s, stream, 1, 0); len(got) != 0 {
			t.Fatalf("deleted %s still reads %d events", stream, len(got))
		}
		_, err := s.Append(ctx, stream, event.Any(), drafts(1))
		if !errors.Is(err, event.ErrStreamDeleted) {
			t.Fatalf("append to deleted %s: %v", stream, err)
		}
	}
	all := readAll(t, s)
	if len(all) != 1 || all[0].Position != keep.LastPosition {
		t.Fatalf("ReadAll after delete: %v", ids(all))
	}
	if err := s.DeleteStream(ctx, "order-1"); err != nil {
		t.Fatalf("deleting twice: %v", err)
	}
}

func TestTruncateBeforeKeepsTheChainGoing(t *testing.T) {
	ctx := context.Background()
	for _, stream := range []string{"order-1", "telemetry-1"} {
		t.Run(stream, func(t *testing.T) {
			s := openTemp(t)
			mustAppend(t, s, stream, event.Any(), recordedOn(clock.AddDate(0, 0, -1), 3))
			mustAppend(t, s, "order-other", event.Any(), drafts(2))
			mustAppend(t, s, stream, event.Any(), recordedOn(clock, 3))
			if err := s.TruncateBefore(ctx, stream, 3); err != nil {
				t.Fatal(err)
			}
			if got := versions(readStream(t, s, stream, 1, 0)); !cmp.Equal(got, []uint64{3, 4, 5, 6}) {
				t.Fatalf("after truncation: %v", got)
			}
			if err := s.TruncateBefore(ctx, stream, 2); err != nil {
				t.Fatal(err)
			}
			if err := s.TruncateBefore(ctx, stream, 100); err != nil {
				t.Fatal(err)
			}
			if got := readStream(t, s, stream, 1, 0); len(got) != 0 {
				t.Fatalf("truncated past the end, still %v", versions(got))
			}
			if _, err := s.Append(ctx, stream, event.Exactly(5), drafts(1)); !errors.Is(err, event.ErrConcurrency) {
				t.Fatalf("stream forgot its version: %v", err)
			}
			res := mustAppend(t, s, stream, event.Exactly(6), recordedOn(clock, 1))
			if res.FirstVersion != 7 {
				t.Fatalf("append after truncation at version %d", res.FirstVersion)
			}
			if n := len(readStream(t, s, "order-other", 1, 0)); n != 2 {
				t.Fatalf("other stream lost events: %d", n)
			}
			assertChain(t, s)
		})
	}
}

func TestTruncatedStreamChainsOntoTheRemovedEvent(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	mustAppend(t, s, "order-1", event.Any(), drafts(2))
	last := readStream(t, s, "order-1", 2, 1)[0]
	if err := s.TruncateBefore(ctx, "order-1", 3); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, s, "order-1", event.Any(), drafts(1))
	next := readStream(t, s, "order-1", 1, 0)[0]
	if next.StreamVersion != 3 || next.PrevHash != last.Hash {
		t.Fatalf("v%d prev %s, want v3 chained to %s", next.StreamVersion, next.PrevHash, last.Hash)
	}
}

func TestExpireBeforeDropsWholeDays(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	d0 := time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)
	var kept []uuid.UUID
	for day := range 4 {
		on := d0.AddDate(0, 0, day)
		ds := recordedOn(on.Add(23*time.Hour+59*time.Minute), 2)
		mustAppend(t, s, "telemetry-1", event.Any(), ds)
		old := recordedOn(on, 1) // business events as old as the telemetry: never expired
		mustAppend(t, s, "order-1", event.Any(), old)
		kept = append(kept, old[0].ID)
		if day >= 2 {
			kept = append(kept, ds[0].ID, ds[1].ID)
		}
	}
	// Cutoff in the middle of the third day: that day stays whole.
	if err := s.ExpireBefore(ctx, d0.AddDate(0, 0, 2).Add(12*time.Hour).In(time.FixedZone("JST", 9*3600))); err != nil {
		t.Fatal(err)
	}
	got := map[uuid.UUID]bool{}
	for _, r := range readAll(t, s) {
		got[r.ID] = true
	}
	if len(got) != len(kept) {
		t.Fatalf("%d events left, want %d", len(got), len(kept))
	}
	for _, id := range kept {
		if !got[id] {
			t.Fatalf("event %s expired but should stay", id)
		}
	}
	if got := versions(readStream(t, s, "telemetry-1", 1, 0)); !cmp.Equal(got, []uint64{5, 6, 7, 8}) {
		t.Fatalf("telemetry after expiry: %v", got)
	}
	res := mustAppend(t, s, "telemetry-1", event.Exactly(8), recordedOn(d0.AddDate(0, 0, 4), 1))
	if res.FirstVersion != 9 {
		t.Fatalf("append after expiry at %d", res.FirstVersion)
	}
	assertChain(t, s)
}

func TestClosedStoreRefusesEverything(t *testing.T) {
	ctx := context.Background()
	s, err := bolt.OpenDir(t.TempDir(), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mustAppend(t, s, "order-1", event.Any(), drafts(1))
	sub := make(chan error, 1)
	go func() { sub <- s.Subscribe(ctx, 0, func(event.Record) error { return nil }) }()
	time.Sleep(50 * time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-sub:
		if !errors.Is(err, event.ErrClosed) {
			t.Fatalf("subscription ended with %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("subscription outlived Close")
	}
	calls := map[string]func() error{
		"Append":         func() error { _, err := s.Append(ctx, "order-1", event.Any(), drafts(1)); return err },
		"ReadStream":     func() error { _, err := s.ReadStream(ctx, "order-1", 1, 0); return err },
		"ReadAll":        func() error { _, err := s.ReadAll(ctx, 0, 0); return err },
		"Head":           func() error { _, err := s.Head(ctx); return err },
		"Subscribe":      func() error { return s.Subscribe(ctx, 0, func(event.Record) error { return nil }) },
		"DeleteStream":   func() error { return s.DeleteStream(ctx, "order-1") },
		"TruncateBefore": func() error { return s.TruncateBefore(ctx, "order-1", 1) },
		"ExpireBefore":   func() error { return s.ExpireBefore(ctx, clock) },
		"Close":          s.Close,
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, event.ErrClosed) {
			t.Errorf("%s after Close: %v", name, err)
		}
	}
}

func TestSecondOpenOfTheSameFileFailsFast(t *testing.T) {
	dir := t.TempDir()
	openAt(t, dir)
	start := time.Now()
	_, err := bolt.Open(filepath.Join(dir, bolt.FileName), bolt.Options{LockTimeout: 100 * time.Millisecond})
	if !errors.Is(err, bolt.ErrLocked) {
		t.Fatalf("second open: %v, want ErrLocked", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("second open took %v", d)
	}
}

func TestReopenContinuesWhereItStopped(t *testing.T) {
	dir := t.TempDir()
	s, err := bolt.OpenDir(dir, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mustAppend(t, s, "order-1", event.Any(), drafts(2))
	mustAppend(t, s, "telemetry-1", event.Any(), drafts(2))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := openAt(t, dir)
	if h, _ := s2.Head(context.Background()); h != 4 {
		t.Fatalf("head after reopen %d", h)
	}
	res := mustAppend(t, s2, "order-1", event.Exactly(2), drafts(1))
	if res.FirstVersion != 3 || res.LastPosition != 5 {
		t.Fatalf("append after reopen: %+v", res)
	}
	assertChain(t, s2)
}

func TestConcurrentWritersKeepStreamsGapFree(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	const writers, appends = 16, 40
	for w := range writers {
		wg.Go(func() {
			for i := range appends {
				stream := fmt.Sprintf("order-%d", (w+i)%4)
				if i%5 == 0 {
					stream = fmt.Sprintf("telemetry-%d", w%2)
				}
				for {
					// Read-decide-append, retrying on conflicts, as a command handler does.
					recs, err := s.ReadStream(ctx, stream, 1, 0)
					if err != nil {
						t.Error(err)
						return
					}
					_, err = s.Append(ctx, stream, event.Exactly(uint64(len(recs))), drafts(1+i%3))
					if errors.Is(err, event.ErrConcurrency) {
						continue
					}
					if err != nil {
						t.Error(err)
						return
					}
					break
				}
			}
		})
	}
	wg.Wait()
	all := readAll(t, s)
	want := 0
	for i := range appends {
		want += writers * (1 + i%3)
	}
	if len(all) != want {
		t.Fatalf("%d events, want %d", len(all), want)
	}
	last := map[string]uint64{}
	for i, r := range all {
		if i > 0 && r.Position <= all[i-1].Position {
			t.Fatalf("positions out of order at %d", i)
		}
		if r.StreamVersion != last[r.Stream]+1 {
			t.Fatalf("%s: version %d after %d", r.Stream, r.StreamVersion, last[r.Stream])
		}
		last[r.Stream] = r.StreamVersion
	}
	assertChain(t, s)
}

func TestBackupIsAConsistentCopy(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	mustAppend(t, s, "order-1", event.Any(), drafts(3))
	mustAppend(t, s, "telemetry-1", event.Any(), drafts(2))
	want := readAll(t, s)

	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, bolt.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Backup(ctx, f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, s, "order-1", event.Any(), drafts(1)) // after the copy: not in it

	restored := openAt(t, dir)
	if diff := cmp.Diff(want, readAll(t, restored)); diff != "" {
		t.Fatalf("restored log differs (-want +got):\n%s", diff)
	}
	res := mustAppend(t, restored, "order-1", event.Exactly(3), drafts(1))
	if res.LastPosition != 6 {
		t.Fatalf("append to the restored copy landed at %d", res.LastPosition)
	}
	assertChain(t, restored)
}
