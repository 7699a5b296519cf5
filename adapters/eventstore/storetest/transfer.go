package storetest

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"yorozu/domain/event"
)

// ImportOptions say what an engine keeps of an imported log.
type ImportOptions struct {
	// NewPositions: the engine gives imported events positions of its own (EventStoreDB's
	// commit positions); the suite then checks their order instead of their numbers.
	NewPositions bool
	// NotAtomic: a failed import may leave what it wrote, and appends are not held off while
	// it runs (EventStoreDB); the suite then checks only that bad input is refused.
	NotAtomic bool
	// WholeStreamsOnly: the engine cannot recreate a stream whose first events were removed
	// (EventStoreDB); the suite then checks that such a stream is refused, and imports whole
	// streams.
	WholeStreamsOnly bool
	// SharedServer: open returns a store on a server that may hold other data (EventStoreDB
	// at YOROZU_TEST_ESDB_URL), not an empty one: only the refusal of a non-empty store runs.
	SharedServer bool
}

// RunTransfer runs the conformance tests of event.Importer and, for stores that are one,
// event.Exporter. open must return an empty store (no event, no stream) that is an
// event.Importer (but see ImportOptions.SharedServer); the suite closes it.
func RunTransfer(t *testing.T, open Factory, opts ImportOptions) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s event.Store, imp event.Importer, opts ImportOptions)
	}{
		{"ImportKeepsEveryEnvelopeAndContinues", testImportKeeps},
		{"ImportRefusesANonEmptyStore", testImportNonEmpty},
		{"FailedImportWritesNothing", testImportFailures},
		{"AppendsAreRefusedWhileImporting", testImportExclusive},
		{"ExportIsOneCommittedState", testExportSnapshot},
	}
	for _, tc := range tests {
		if opts.SharedServer && tc.name != "ImportRefusesANonEmptyStore" {
			continue
		}
		if opts.NotAtomic && tc.name == "AppendsAreRefusedWhileImporting" {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { _ = s.Close() })
			imp, ok := s.(event.Importer)
			if !ok {
				t.Fatalf("%T is not an event.Importer", s)
			}
			tc.fn(t, s, imp, opts)
		})
	}
}

// transferLog is a log as another store would export it: positions with gaps (removed events),
// a head beyond the last event, batches of several events with one command ID, a stream whose
// first events were truncated, telemetry over two UTC days, and non-ASCII text.
type transferLog struct {
	head                  event.Position
	recs                  []event.Record
	order, staff, trimmed string
	telemetry             string
	batch                 []event.Record // the three-event batch of order
}

func newTransferLog(opts ImportOptions) transferLog {
	l := transferLog{
		order:     stream("order"),
		staff:     stream("staff"),
		trimmed:   stream("contract"),
		telemetry: stream("telemetry"),
	}
	tips := map[string]event.Record{}
	pos := event.Position(40)
	add := func(st string, n int, at time.Time, command string) []event.Record {
		out := make([]event.Record, 0, n)
		for i := range n {
			d := Draft(int(pos), at.Add(time.Duration(i)*time.Millisecond))
			d.Actor = "担当者-" + st[:5]
			if command != "" {
				d.CommandID = command
			}
			prev, ok := tips[st]
			version := uint64(1)
			if ok {
				version = prev.StreamVersion + 1
			}
			r := event.Seal(d, st, version, prev.Hash)
			r.Position = pos
			pos++
			tips[st] = r
			out = append(out, r)
		}
		l.recs = append(l.recs, out...)
		return out
	}
	// The first two events of the trimmed stream were removed before the export: its first
	// record links to a hash the log no longer holds.
	add(l.trimmed, 2, base, "")
	if !opts.WholeStreamsOnly {
		l.recs = l.recs[:0]
	}
	pos += 5
	add(l.trimmed, 2, base.Add(time.Minute), "")
	l.batch = add(l.order, 3, base.Add(2*time.Minute), uuid.NewString())
	add(l.staff, 1, base.Add(3*time.Minute), "")
	day1 := time.Date(2025, 7, 1, 23, 59, 0, 0, time.UTC)
	add(l.telemetry, 2, day1, "")
	add(l.order, 1, base.Add(4*time.Minute), "")
	pos += 3
	add(l.telemetry, 2, day1.Add(2*time.Minute), "") // the next UTC day
	add(l.staff, 2, base.Add(5*time.Minute), uuid.NewString())
	l.head = pos + 7
	return l
}

func (l transferLog) seq() iter.Seq2[event.Record, error] {
	return func(yield func(event.Record, error) bool) {
		for _, r := range l.recs {
			r.Data = slices.Clone(r.Data)
			if !yield(r, nil) {
				return
			}
		}
	}
}

func readWhole(t *testing.T, s event.Store) []event.Record {
	t.Helper()
	recs, err := s.ReadAll(context.Background(), 0, 0)
	if err != nil {
		t.Fatalf("read all: %v", err)
	}
	return recs
}

// index is where version v of stream st is in l.recs.
func (l transferLog) index(st string, v uint64) int {
	for i, r := range l.recs {
		if r.Stream == st && r.StreamVersion == v {
			return i
		}
	}
	panic(fmt.Sprintf("no version %d of %s", v, st))
}

// sameEnvelope compares everything but the position.
func sameEnvelope(a, b event.Record) bool {
	a.Position, b.Position = 0, 0
	return reflect.DeepEqual(a, b)
}

func testImportKeeps(t *testing.T, s event.Store, imp event.Importer, opts ImportOptions) {
	ctx := context.Background()
	l := newTransferLog(opts)
	if err := imp.Import(ctx, l.head, l.seq()); err != nil {
		t.Fatalf("import: %v", err)
	}
	got := readWhole(t, s)
	if len(got) != len(l.recs) {
		t.Fatalf("the store holds %d events after importing %d", len(got), len(l.recs))
	}
	for i, r := range got {
		want := l.recs[i]
		if !sameEnvelope(r, want) {
			t.Fatalf("event %d after the import:\n got %+v\nwant %+v", i, r, want)
		}
		if !opts.NewPositions && r.Position != want.Position {
			t.Fatalf("event %d: position %d after the import, was %d", i, r.Position, want.Position)
		}
		if i > 0 && r.Position <= got[i-1].Position {
			t.Fatalf("positions out of order after the import: %d then %d", got[i-1].Position, r.Position)
		}
	}
	v := event.NewChainVerifier()
	for _, r := range got {
		if !v.Add(r) {
			t.Fatalf("chain broken after the import: %+v", v.Broken())
		}
	}
	trimmed := readStream(t, s, l.trimmed)
	wantTrimmed := []uint64{3, 4}
	if opts.WholeStreamsOnly {
		wantTrimmed = []uint64{1, 2, 3, 4}
	}
	if !reflect.DeepEqual(versions(trimmed), wantTrimmed) {
		t.Fatalf("truncated stream reads versions %v after the import, want %v", versions(trimmed), wantTrimmed)
	}
	if tele := readStream(t, s, l.telemetry); !reflect.DeepEqual(versions(tele), []uint64{1, 2, 3, 4}) {
		t.Fatalf("telemetry stream reads versions %v after the import, want [1 2 3 4]", versions(tele))
	}
	if h := head(t, s); !opts.NewPositions && h < got[len(got)-1].Position {
		t.Fatalf("head %d is before the last imported event %d", h, got[len(got)-1].Position)
	}

	// Re-appending an imported batch is a retry: the original result, nothing stored.
	ds := make([]event.Draft, len(l.batch))
	for i, r := range l.batch {
		ds[i] = event.Draft{ID: r.ID, Type: r.Type, SchemaVersion: r.SchemaVersion, EffectiveAt: r.EffectiveAt,
			RecordedAt: r.RecordedAt, Actor: r.Actor, CommandID: r.CommandID, CorrelationID: r.CorrelationID,
			CausationID: r.CausationID, Data: r.Data}
	}
	res, err := s.Append(ctx, l.order, event.Any(), ds)
	if err != nil {
		t.Fatalf("re-append of an imported batch: %v", err)
	}
	if res.FirstVersion != 1 || res.LastVersion != 3 || (!opts.NewPositions && res.LastPosition != l.batch[2].Position) {
		t.Fatalf("re-append of an imported batch: %+v, want versions 1..3 at position %d", res, l.batch[2].Position)
	}
	if n := len(readWhole(t, s)); n != len(l.recs) {
		t.Fatalf("re-append of an imported batch stored %d events", n-len(l.recs))
	}

	// Appends continue the chains, after the head.
	res = mustAppend(t, s, l.trimmed, event.Exactly(4), drafts(100, 1))
	if !opts.NewPositions && res.LastPosition <= l.head {
		t.Fatalf("append after the import got position %d, not after the imported head %d", res.LastPosition, l.head)
	}
	after := readStream(t, s, l.trimmed)
	if n := len(after); n != len(trimmed)+1 || after[n-1].StreamVersion != 5 || after[n-1].PrevHash != trimmed[n-2].Hash {
		t.Fatalf("append to an imported stream does not continue its chain: versions %v", versions(after))
	}
	res = mustAppend(t, s, stream("order"), event.NoStream(), drafts(101, 1))
	if !opts.NewPositions && res.LastPosition <= l.head {
		t.Fatalf("append of a new stream got position %d, not after the imported head %d", res.LastPosition, l.head)
	}
}

func testImportNonEmpty(t *testing.T, s event.Store, imp event.Importer, opts ImportOptions) {
	st := stream("order")
	mustAppend(t, s, st, event.NoStream(), drafts(0, 1))
	before := readWhole(t, s)
	l := newTransferLog(opts)
	err := imp.Import(context.Background(), l.head, l.seq())
	if !errors.Is(err, event.ErrNotEmpty) {
		t.Fatalf("import into a store holding an event: %v, want ErrNotEmpty", err)
	}
	if after := readWhole(t, s); !reflect.DeepEqual(after, before) {
		t.Fatalf("a refused import changed the store: %d events before, %d after", len(before), len(after))
	}
}

func testImportFailures(t *testing.T, s event.Store, imp event.Importer, opts ImportOptions) {
	ctx := context.Background()
	l := newTransferLog(opts)
	errSource := errors.New("the backup file is damaged")
	tele := l.index(l.telemetry, 1)
	cases := []struct {
		name   string
		change func(recs []event.Record) []event.Record
		fail   error // the source fails after the records
		want   error
	}{
		{"data changed", func(rs []event.Record) []event.Record {
			rs[tele].Data = []byte(`{"n":0,"note":"改ざん"}`)
			return rs
		}, nil, event.ErrInvalidImport},
		{"link to the previous event broken", func(rs []event.Record) []event.Record {
			rs[tele+1].PrevHash[0] ^= 1
			rs[tele+1].Hash = event.ComputeHash(&rs[tele+1])
			return rs
		}, nil, event.ErrInvalidImport},
		{"positions out of order", func(rs []event.Record) []event.Record {
			rs[tele-1].Position, rs[tele].Position = rs[tele].Position, rs[tele-1].Position
			return rs
		}, nil, event.ErrInvalidImport},
		{"position after the head", func(rs []event.Record) []event.Record {
			rs[len(rs)-1].Position = l.head + 1
			return rs
		}, nil, event.ErrInvalidImport},
		{"event id twice", func(rs []event.Record) []event.Record {
			dup := rs[len(rs)-1]
			dup.ID = rs[0].ID
			dup.Hash = event.ComputeHash(&dup)
			rs[len(rs)-1] = dup
			return rs
		}, nil, event.ErrInvalidImport},
		{"source fails at its end", func(rs []event.Record) []event.Record { return rs }, errSource, errSource},
	}
	if opts.WholeStreamsOnly {
		cases = append(cases, struct {
			name   string
			change func(recs []event.Record) []event.Record
			fail   error
			want   error
		}{"stream without its first events", func(rs []event.Record) []event.Record {
			return slices.Delete(rs, 0, 2)
		}, nil, event.ErrInvalidImport})
		// Checked first: it is refused before anything is written.
		cases = append(cases[len(cases)-1:], cases[:len(cases)-1]...)
	}
	for _, tc := range cases {
		recs := tc.change(slices.Clone(l.recs))
		src := func(yield func(event.Record, error) bool) {
			for _, r := range recs {
				if !yield(r, nil) {
					return
				}
			}
			if tc.fail != nil {
				yield(event.Record{}, tc.fail)
			}
		}
		err := imp.Import(ctx, l.head, src)
		if !errors.Is(err, tc.want) {
			t.Fatalf("%s: import: %v, want %v", tc.name, err, tc.want)
		}
		if opts.NotAtomic {
			return // what it wrote stays; the next case would find the store not empty
		}
		if n := len(readWhole(t, s)); n != 0 {
			t.Fatalf("%s: a failed import left %d events", tc.name, n)
		}
	}
	// The store is still empty: a good import goes in.
	if err := imp.Import(ctx, l.head, l.seq()); err != nil {
		t.Fatalf("import after the failed ones: %v", err)
	}
	if n := len(readWhole(t, s)); n != len(l.recs) {
		t.Fatalf("import after the failed ones stored %d events, want %d", n, len(l.recs))
	}
}

func testImportExclusive(t *testing.T, s event.Store, imp event.Importer, opts ImportOptions) {
	ctx := context.Background()
	l := newTransferLog(opts)
	midway := make(chan struct{})
	resume := make(chan struct{})
	src := func(yield func(event.Record, error) bool) {
		for i, r := range l.recs {
			if i == 4 {
				close(midway)
				<-resume
			}
			if !yield(r, nil) {
				return
			}
		}
	}
	done := make(chan error, 1)
	go func() { done <- imp.Import(ctx, l.head, src) }()
	<-midway
	_, err := s.Append(ctx, stream("order"), event.Any(), drafts(0, 1))
	close(resume)
	if !errors.Is(err, event.ErrImporting) {
		t.Errorf("append during an import: %v, want ErrImporting", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("import: %v", err)
	}
	if got := readWhole(t, s); len(got) != len(l.recs) {
		t.Fatalf("the store holds %d events after importing %d", len(got), len(l.recs))
	}
}

// testExportSnapshot: appends made while event.ExportLog reads do not change what it reads, nor,
// on a store that is an event.Exporter (a snapshot), does a truncation.
func testExportSnapshot(t *testing.T, s event.Store, _ event.Importer, _ ImportOptions) {
	_, snapshot := s.(event.Exporter)
	ctx := context.Background()
	st, other := stream("order"), stream("order")
	mustAppend(t, s, st, event.NoStream(), drafts(0, 50))
	mustAppend(t, s, other, event.NoStream(), drafts(50, 50))
	want := readWhole(t, s)

	var (
		wg       sync.WaitGroup
		writeErr error
	)
	var got []event.Record
	var gotHead event.Position
	err := event.ExportLog(ctx, s, func(h event.Position, events iter.Seq2[event.Record, error]) error {
		gotHead = h
		first := true
		for r, err := range events {
			if err != nil {
				return err
			}
			got = append(got, r)
			if !first {
				continue
			}
			first = false
			// Change the log in the middle of the read. A store may hold the writer until the
			// read ends (bbolt when its file must grow): wait a while, not for good.
			wg.Add(1)
			finished := make(chan struct{})
			go func() {
				defer wg.Done()
				defer close(finished)
				if _, err := s.Append(ctx, st, event.Exactly(50), drafts(100, 20)); err != nil {
					writeErr = err
					return
				}
				if snapshot {
					writeErr = s.TruncateBefore(ctx, other, 40)
				}
			}()
			select {
			case <-finished:
			case <-time.After(2 * time.Second):
			}
		}
		return nil
	})
	wg.Wait()
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	if writeErr != nil {
		t.Fatalf("writes during the export: %v", writeErr)
	}
	if gotHead != want[len(want)-1].Position {
		t.Fatalf("export head %d, want the last position before it began, %d", gotHead, want[len(want)-1].Position)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("export read %d events, want the %d committed before it began, unchanged (%s)", len(got), len(want), firstDiff(got, want))
	}
	removed := 0
	if snapshot {
		removed = 39
	}
	if n := len(readWhole(t, s)); n != len(want)+20-removed {
		t.Fatalf("after the export the store holds %d events, want %d", n, len(want)+20-removed)
	}
}

func firstDiff(got, want []event.Record) string {
	for i := range min(len(got), len(want)) {
		if !reflect.DeepEqual(got[i], want[i]) {
			return fmt.Sprintf("first difference at %d: %+v vs %+v", i, got[i], want[i])
		}
	}
	return "one is a prefix of the other"
}
