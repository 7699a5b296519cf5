package bolt_test

import (
	"context"
	"errors"
	"iter"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"yorozu/adapters/eventstore/bolt"
	"yorozu/adapters/eventstore/storetest"
	"yorozu/domain/event"
)

// sourceLog appends 40 batches of 3 events over 8 streams (and a telemetry stream) and returns
// the store's whole log and head.
func sourceLog(t *testing.T) ([]event.Record, event.Position) {
	t.Helper()
	src := openTemp(t)
	ctx := context.Background()
	streams := make([]string, 8)
	for i := range streams {
		streams[i] = "order-" + uuid.NewString()
	}
	at := time.Date(2026, 11, 2, 23, 58, 0, 0, time.UTC)
	for i := range 40 {
		ds := make([]event.Draft, 3)
		command := uuid.NewString()
		for j := range ds {
			ds[j] = storetest.Draft(i*3+j, at.Add(time.Duration(i)*10*time.Second))
			ds[j].CommandID = command
		}
		st := streams[i%len(streams)]
		if i%5 == 0 {
			st = "telemetry-t1" // crosses midnight UTC: two day partitions
		}
		if _, err := src.Append(ctx, st, event.Any(), ds); err != nil {
			t.Fatal(err)
		}
	}
	recs, err := src.ReadAll(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	h, err := src.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return recs, h
}

func records(recs []event.Record, fail error) iter.Seq2[event.Record, error] {
	return func(yield func(event.Record, error) bool) {
		for _, r := range recs {
			if !yield(r, nil) {
				return
			}
		}
		if fail != nil {
			yield(event.Record{}, fail)
		}
	}
}

func TestFailedImportOverSeveralTransactionsLeavesAnEmptyFile(t *testing.T) {
	defer bolt.SetImportChunk(10)()
	ctx := context.Background()
	recs, head := sourceLog(t)
	dir := t.TempDir()
	s := openAt(t, dir)
	damaged := errors.New("checksum of the backup does not match")
	if err := s.Import(ctx, head, records(recs, damaged)); !errors.Is(err, damaged) {
		t.Fatalf("import that fails at the end: %v", err)
	}
	if got, _ := s.ReadAll(ctx, 0, 0); len(got) != 0 {
		t.Fatalf("%d events left by a failed import of %d transactions", len(got), len(recs)/10)
	}
	if h, _ := s.Head(ctx); h != 0 {
		t.Fatalf("head %d after a failed import", h)
	}
	if err := s.Import(ctx, head, records(recs, nil)); err != nil {
		t.Fatalf("import after the failed one: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openAt(t, dir) // what was imported is on disk, and the file opens as a finished import
	got, err := s.ReadAll(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, recs) {
		t.Fatalf("after reopening, the imported log differs from the source (%d vs %d events)", len(got), len(recs))
	}
	if h, _ := s.Head(ctx); h != head {
		t.Fatalf("head %d after reopening, want %d", h, head)
	}
	res, err := s.Append(ctx, recs[0].Stream, event.Any(), []event.Draft{storetest.Draft(999, time.Now())})
	if err != nil || res.LastPosition != head+1 {
		t.Fatalf("append after the import: %+v, %v; want position %d", res, err, head+1)
	}
}

// TestInterruptedImportIsRefusedAtOpen copies the file in the middle of an import (bbolt's
// consistent copy of what had committed), which is what a crash at that moment leaves.
func TestInterruptedImportIsRefusedAtOpen(t *testing.T) {
	defer bolt.SetImportChunk(10)()
	ctx := context.Background()
	recs, head := sourceLog(t)
	s := openTemp(t)
	copyPath := filepath.Join(t.TempDir(), bolt.FileName)
	stop := errors.New("stopped")
	src := func(yield func(event.Record, error) bool) {
		for i, r := range recs {
			if i == 35 {
				f, err := os.Create(copyPath)
				if err != nil {
					t.Error(err)
				} else if _, err := s.Backup(ctx, f); err != nil {
					t.Error(err)
				}
				f.Close()
				yield(event.Record{}, stop)
				return
			}
			if !yield(r, nil) {
				return
			}
		}
	}
	if err := s.Import(ctx, head, src); !errors.Is(err, stop) {
		t.Fatalf("import: %v", err)
	}
	if _, err := bolt.Open(copyPath, bolt.Options{}); !errors.Is(err, bolt.ErrIncompleteImport) {
		t.Fatalf("opening a file left by an interrupted import: %v, want ErrIncompleteImport", err)
	}
}

// TestUUIDLikeStringsComeBackAsTheyWere: actor and IDs that are UUIDs in canonical form are
// stored in 16 bytes; any other spelling (upper case, braces) is stored as it is.
func TestUUIDLikeStringsComeBackAsTheyWere(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	id := uuid.New()
	d := storetest.Draft(1, time.Now())
	d.Actor = id.String()
	d.CommandID = strings.ToUpper(id.String())
	d.CorrelationID = "{" + id.String()[1:] + "}"
	d.CausationID = id.String()[:35] + "g"
	if _, err := s.Append(ctx, "order-1", event.NoStream(), []event.Draft{d}); err != nil {
		t.Fatal(err)
	}
	got, err := s.ReadStream(ctx, "order-1", 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	r := got[0]
	if r.Actor != d.Actor || r.CommandID != d.CommandID || r.CorrelationID != d.CorrelationID || r.CausationID != d.CausationID {
		t.Fatalf("read back %q %q %q %q, want %q %q %q %q", r.Actor, r.CommandID, r.CorrelationID, r.CausationID,
			d.Actor, d.CommandID, d.CorrelationID, d.CausationID)
	}
	if event.ComputeHash(&r) != r.Hash {
		t.Fatal("the record read back does not hash as stored")
	}
}
