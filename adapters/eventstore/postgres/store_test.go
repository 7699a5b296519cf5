package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"yorozu/adapters/eventstore/postgres"
	"yorozu/adapters/eventstore/storetest"
	"yorozu/adapters/postgres/pgtest"
	"yorozu/domain/event"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// open returns a store on a fresh, migrated database.
var openHook func(t testing.TB, opts postgres.Options) (*postgres.Store, string)

func open(t testing.TB, opts postgres.Options) (*postgres.Store, string) {
	t.Helper()
	if openHook != nil {
		return openHook(t, opts)
	}
	dsn := pgtest.NewDatabase(t)
	opts.Migrate = true
	s, err := postgres.Open(context.Background(), dsn, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s, dsn
}

// openMore opens another store on the same database: another process, as far as ordering,
// locking and notifications go (its own pool, writer and listener).
func openMore(t testing.TB, dsn string, opts postgres.Options) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), dsn, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) event.Store {
		s, _ := open(t, postgres.Options{})
		return s
	})
}

func TestTransferConformance(t *testing.T) {
	storetest.RunTransfer(t, func(t *testing.T) event.Store {
		s, _ := open(t, postgres.Options{})
		return s
	}, storetest.ImportOptions{})
}

func TestCrash(t *testing.T) {
	storetest.RunCrash(t, storetest.CrashTarget{
		Prepare: func(t *testing.T) string {
			dsn := pgtest.NewDatabase(t)
			s, err := postgres.Open(context.Background(), dsn, postgres.Options{Migrate: true})
			if err != nil {
				t.Fatal(err)
			}
			_ = s.Close()
			return dsn
		},
		Open: func(t *testing.T, dsn string) event.Store {
			s, err := postgres.Open(context.Background(), dsn, postgres.Options{})
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		Rounds: 3,
	})
}

func draft(n int, recordedAt time.Time) event.Draft { return storetest.Draft(n, recordedAt) }

// Two processes appending at once must still hand out positions in commit order: a reader that
// follows "position > last seen" from a third process never misses an event.
func TestTwoProcessesKeepCommitOrder(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, dsn := open(t, postgres.Options{})
	defer a.Close()
	b := openMore(t, dsn, postgres.Options{})
	reader := openMore(t, dsn, postgres.Options{PollInterval: 5 * time.Millisecond})

	const perWriter, writers = 150, 8
	var wg sync.WaitGroup
	for w := range writers {
		s := a
		if w%2 == 1 {
			s = b
		}
		wg.Go(func() {
			st := fmt.Sprintf("order-%d-%s", w, uuid.NewString())
			for i := range perWriter {
				if _, err := s.Append(ctx, st, event.Exactly(uint64(i)), []event.Draft{draft(i, time.Now())}); err != nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
			}
		})
	}
	// A tailing reader, as a projection would be: it never re-reads below what it has seen. It
	// stops at the first empty page after the writers are done.
	seen := make(map[uuid.UUID]bool)
	var writersDone atomic.Bool
	done := make(chan error, 1)
	go func() {
		var last event.Position
		for {
			finished := writersDone.Load()
			recs, err := reader.ReadAll(ctx, last, 50)
			if err != nil {
				done <- err
				return
			}
			if len(recs) == 0 && finished {
				done <- nil
				return
			}
			for _, r := range recs {
				if r.Position <= last {
					done <- fmt.Errorf("position %d after %d", r.Position, last)
					return
				}
				last = r.Position
				seen[r.ID] = true
			}
		}
	}()
	wg.Wait()
	writersDone.Store(true)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(seen) != perWriter*writers {
		t.Fatalf("the tailing reader saw %d of %d events: it skipped late commits", len(seen), perWriter*writers)
	}
}

// A commit by another process wakes a subscriber through NOTIFY, long before its poll tick.
func TestSubscriberWokenByAnotherProcess(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sub, dsn := open(t, postgres.Options{PollInterval: time.Hour})
	defer sub.Close()
	writer := openMore(t, dsn, postgres.Options{})

	got := make(chan event.Record, 1)
	go func() {
		_ = sub.Subscribe(ctx, 0, func(r event.Record) error { got <- r; return nil })
	}()
	// Let the subscription reach its wait, and the listener its LISTEN.
	time.Sleep(300 * time.Millisecond)
	res, err := writer.Append(ctx, "order-"+uuid.NewString(), event.NoStream(), []event.Draft{draft(1, time.Now())})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-got:
		if r.Position != res.LastPosition {
			t.Fatalf("delivered position %d, appended at %d", r.Position, res.LastPosition)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a commit by another process did not wake the subscriber")
	}
}

// Retention drops whole day tables; nothing of a kept day is touched.
func TestRetentionDropsDayPartitions(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t, postgres.Options{})
	defer s.Close()
	day := func(d int) time.Time { return time.Date(2026, 3, d, 12, 0, 0, 0, time.UTC) }
	st := "telemetry-" + uuid.NewString()
	for d := 1; d <= 4; d++ {
		if _, err := s.Append(ctx, st, event.Any(), []event.Draft{draft(d, day(d))}); err != nil {
			t.Fatal(err)
		}
	}
	partitions := func() []string {
		rows, err := s.Pool().Query(ctx, `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
			WHERE i.inhparent = 'events_timed'::regclass ORDER BY 1`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var names []string
		for rows.Next() {
			var n string
			_ = rows.Scan(&n)
			names = append(names, n)
		}
		return names
	}
	if got := partitions(); len(got) != 4 {
		t.Fatalf("partitions %v, want one per day", got)
	}
	// Cutoff late on day 3: days 1 and 2 go, day 3 (which contains the cutoff) stays.
	if err := s.ExpireBefore(ctx, day(3).Add(11*time.Hour)); err != nil {
		t.Fatal(err)
	}
	got := partitions()
	want := []string{"events_timed_p20260303", "events_timed_p20260304"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("partitions after expiry %v, want %v", got, want)
	}
	// A late event for an expired day gets its partition back; the stream continues its chain.
	res, err := s.Append(ctx, st, event.Exactly(4), []event.Draft{draft(9, day(1))})
	if err != nil || res.FirstVersion != 5 {
		t.Fatalf("append after expiry: %+v, %v", res, err)
	}
}

func TestTimesComeBackInUTCWithMicroseconds(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t, postgres.Options{})
	defer s.Close()
	jst := time.FixedZone("JST", 9*3600)
	d := draft(1, time.Date(2026, 5, 20, 9, 30, 0, 123456789, jst))
	d.EffectiveAt = time.Time{} // not known: stays the zero time
	st := "order-" + uuid.NewString()
	if _, err := s.Append(ctx, st, event.NoStream(), []event.Draft{d}); err != nil {
		t.Fatal(err)
	}
	recs, err := s.ReadStream(ctx, st, 1, 0)
	if err != nil || len(recs) != 1 {
		t.Fatalf("read: %d, %v", len(recs), err)
	}
	r := recs[0]
	want := time.Date(2026, 5, 20, 0, 30, 0, 123456000, time.UTC)
	if r.RecordedAt != want || !r.EffectiveAt.IsZero() {
		t.Fatalf("recordedAt %#v effectiveAt %v, want %v and zero", r.RecordedAt, r.EffectiveAt, want)
	}
	if r.Hash != event.ComputeHash(&r) {
		t.Fatal("stored record does not hash to its stored hash")
	}
}

func TestClosedStoreRefusesCalls(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t, postgres.Options{})
	sub := make(chan error, 1)
	go func() { sub <- s.Subscribe(ctx, 0, func(event.Record) error { return nil }) }()
	time.Sleep(100 * time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-sub:
		if !errors.Is(err, event.ErrClosed) {
			t.Fatalf("subscription ended with %v, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not end a running subscription")
	}
	if _, err := s.Append(ctx, "order-x", event.Any(), []event.Draft{draft(1, time.Now())}); !errors.Is(err, event.ErrClosed) {
		t.Fatalf("append after close: %v", err)
	}
	if _, err := s.ReadAll(ctx, 0, 10); !errors.Is(err, event.ErrClosed) {
		t.Fatalf("read after close: %v", err)
	}
	if err := s.Close(); !errors.Is(err, event.ErrClosed) {
		t.Fatalf("second close: %v", err)
	}
}

// A batch mixing accepted and refused appends stores exactly the accepted ones.
func TestGroupCommitRefusesOnlyTheConflictingAppend(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t, postgres.Options{})
	defer s.Close()
	st := "order-" + uuid.NewString()
	var wg sync.WaitGroup
	errs := make([]error, 64)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = s.Append(ctx, st, event.NoStream(), []event.Draft{draft(i, time.Now())})
		})
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, event.ErrConcurrency):
			t.Fatalf("unexpected error: %v", err)
		}
	}
	recs, _ := s.ReadStream(ctx, st, 1, 0)
	if won != 1 || len(recs) != 1 {
		t.Fatalf("%d appends won and the stream holds %d events, want 1 and 1", won, len(recs))
	}
}

// A transaction that fails half-way leaves neither events nor a stuck connection behind.
func TestFailedBatchLeavesTheStoreUsable(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t, postgres.Options{})
	defer s.Close()
	_, err := s.Pool().Exec(ctx, `
		CREATE FUNCTION refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.actor = 'boom' THEN RAISE EXCEPTION 'boom refused'; END IF;
			RETURN NEW;
		END $$;
		CREATE TRIGGER refuse_boom BEFORE INSERT ON events_plain FOR EACH ROW EXECUTE FUNCTION refuse_boom();`)
	if err != nil {
		t.Fatal(err)
	}
	st := "order-" + uuid.NewString()
	bad := draft(1, time.Now())
	bad.Actor = "boom"
	for range 3 { // more often than the pool has connections
		if _, err := s.Append(ctx, st, event.NoStream(), []event.Draft{bad}); err == nil {
			t.Fatal("append through the failing trigger succeeded")
		}
	}
	res, err := s.Append(ctx, st, event.NoStream(), []event.Draft{draft(2, time.Now())})
	if err != nil || res.FirstVersion != 1 {
		t.Fatalf("append after failed batches: %+v, %v", res, err)
	}
	// The failed batch stored nothing, and its stream row did not move.
	recs, _ := s.ReadStream(ctx, st, 1, 0)
	if len(recs) != 1 || recs[0].ID == bad.ID {
		t.Fatalf("stream holds %d events after failed appends", len(recs))
	}
}

func TestTextPostgreSQLCannotStoreIsRefusedUpFront(t *testing.T) {
	s, _ := open(t, postgres.Options{})
	defer s.Close()
	d := draft(1, time.Now())
	d.Actor = "staff\x00"
	if _, err := s.Append(context.Background(), "order-"+uuid.NewString(), event.Any(), []event.Draft{d}); !errors.Is(err, event.ErrInvalidDraft) {
		t.Fatalf("NUL in actor: err = %v, want ErrInvalidDraft", err)
	}
}

// Large batches take the COPY path; what comes back must be what a small batch gives.
func TestLargeBatchesRoundTrip(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t, postgres.Options{})
	defer s.Close()
	for _, st := range []string{"order-" + uuid.NewString(), "telemetry-" + uuid.NewString()} {
		ds := make([]event.Draft, 500)
		for i := range ds {
			// Telemetry spread over two days: one COPY fills two partitions.
			ds[i] = draft(i, time.Date(2026, 4, 1, 23, 0, 0, 0, time.UTC).Add(time.Duration(i)*10*time.Second))
		}
		ds[0].EffectiveAt = time.Time{}                                                                   // before PostgreSQL's epoch
		ds[1].EffectiveAt = time.Date(1999, 12, 31, 23, 59, 59, 999999999, time.FixedZone("JST", 9*3600)) // nanoseconds dropped
		ds[2].SchemaVersion = 7
		res, err := s.Append(ctx, st, event.NoStream(), ds)
		if err != nil {
			t.Fatal(err)
		}
		if res.FirstVersion != 1 || res.LastVersion != 500 {
			t.Fatalf("%s: result %+v", st, res)
		}
		recs, err := s.ReadStream(ctx, st, 1, 0)
		if err != nil || len(recs) != 500 {
			t.Fatalf("%s: read %d events, %v", st, len(recs), err)
		}
		v := event.NewChainVerifier()
		for i, r := range recs {
			d := ds[i]
			if r.ID != d.ID || string(r.Data) != string(d.Data) || r.CausationID != d.CausationID || r.Type != d.Type ||
				r.RecordedAt != d.RecordedAt.UTC().Truncate(event.TimePrecision) ||
				r.EffectiveAt != d.EffectiveAt.UTC().Truncate(event.TimePrecision) ||
				(i == 2 && r.SchemaVersion != 7) {
				t.Fatalf("%s: event %d came back different: %+v", st, i, r)
			}
			if !v.Add(r) {
				t.Fatalf("%s: chain broken: %+v", st, v.Broken())
			}
		}
		if recs[499].Position != res.LastPosition {
			t.Fatalf("%s: last position %d, result says %d", st, recs[499].Position, res.LastPosition)
		}
		// And the retry of the whole batch is recognised.
		again, err := s.Append(ctx, st, event.Any(), ds)
		if err != nil || again != res {
			t.Fatalf("%s: retry of a large batch: %+v, %v; want %+v", st, again, err, res)
		}
	}
}

// terminate ends the server side of the store's own connections with that application_name.
func terminate(t *testing.T, s *postgres.Store, app string) {
	t.Helper()
	var n int
	err := s.Pool().QueryRow(context.Background(),
		"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()", app).Scan(&n)
	if err != nil || n == 0 {
		t.Fatalf("terminate %q: %d backends, %v", app, n, err)
	}
}

// A server restart or a killed backend between two appends costs no append: the writer
// notices in the first round trip, before anything was written, and reconnects.
func TestWriterReconnects(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t, postgres.Options{})
	defer s.Close()
	st := "order-" + uuid.NewString()
	if _, err := s.Append(ctx, st, event.NoStream(), []event.Draft{draft(1, time.Now())}); err != nil {
		t.Fatal(err)
	}
	terminate(t, s, "yorozu event writer")
	time.Sleep(50 * time.Millisecond) // let the termination reach the socket
	res, err := s.Append(ctx, st, event.Exactly(1), []event.Draft{draft(2, time.Now())})
	if err != nil || res.FirstVersion != 2 {
		t.Fatalf("append after the writer's connection was killed: %+v, %v", res, err)
	}
}

// A lost LISTEN connection is replaced; meanwhile the poll tick still delivers.
func TestSubscriberSurvivesALostListener(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sub, dsn := open(t, postgres.Options{PollInterval: 200 * time.Millisecond})
	defer sub.Close()
	writer := openMore(t, dsn, postgres.Options{})
	got := make(chan event.Record, 4)
	go func() { _ = sub.Subscribe(ctx, 0, func(r event.Record) error { got <- r; return nil }) }()
	time.Sleep(300 * time.Millisecond)
	terminate(t, sub, "yorozu event listener")
	for i := range 2 {
		if _, err := writer.Append(ctx, "order-"+uuid.NewString(), event.NoStream(), []event.Draft{draft(i, time.Now())}); err != nil {
			t.Fatal(err)
		}
		select {
		case <-got:
		case <-time.After(10 * time.Second):
			t.Fatalf("event %d of another process not delivered after the listener was killed", i)
		}
		time.Sleep(500 * time.Millisecond) // the second one after the listener is back
	}
}
