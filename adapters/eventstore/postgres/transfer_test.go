package postgres_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"yorozu/adapters/eventstore/postgres"
	"yorozu/adapters/eventstore/storetest"
	"yorozu/domain/event"
)

// plainIndexes lists the definitions of the indexes on events_plain.
func plainIndexes(t *testing.T, dsn string) []string {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(context.Background(), `SELECT indexdef FROM pg_indexes WHERE tablename = 'events_plain' ORDER BY indexname`)
	if err != nil {
		t.Fatal(err)
	}
	defs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return defs
}

// TestImportRebuildsTheIndexesItDrops: the import drops the indexes of the plain partition for
// the load and builds them again; a failed import leaves them as they were.
func TestImportRebuildsTheIndexesItDrops(t *testing.T) {
	ctx := context.Background()
	for _, fail := range []bool{false, true} {
		s, dsn := open(t, postgres.Options{})
		before := plainIndexes(t, dsn)
		if len(before) < 3 {
			t.Fatalf("events_plain has %d indexes: %v", len(before), before)
		}
		var recs []event.Record
		var prev event.Record
		for i := range 50 {
			r := event.Seal(storetest.Draft(i, time.Date(2026, 1, 1, 0, 0, i, 0, time.UTC)), "order-1", uint64(i+1), prev.Hash)
			r.Position = event.Position(i + 1)
			recs, prev = append(recs, r), r
		}
		broken := errors.New("the source broke")
		err := s.Import(ctx, 50, func(yield func(event.Record, error) bool) {
			for _, r := range recs {
				if !yield(r, nil) {
					return
				}
			}
			if fail {
				yield(event.Record{}, broken)
			}
		})
		if fail != errors.Is(err, broken) || (!fail && err != nil) {
			t.Fatalf("import (failing: %v): %v", fail, err)
		}
		if after := plainIndexes(t, dsn); !reflect.DeepEqual(after, before) {
			t.Fatalf("indexes after the import (failing: %v):\n%v\nbefore:\n%v", fail, after, before)
		}
	}
}
