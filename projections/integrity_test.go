package projections_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"yorozu/adapters/eventstore/memory"
	rmmemory "yorozu/adapters/readmodel/memory"
	"yorozu/domain/contract"
	"yorozu/domain/event"
	"yorozu/domain/schema"
	"yorozu/projections"
	"yorozu/projections/readmodel"
)

// Noted is the one event type of these tests.
type Noted struct {
	N int `json:"n"`
}

func codec() *event.Registry {
	r := event.NewRegistry()
	r.Register((*Noted)(nil))
	return r
}

// alteredLog is an event log of which someone changed stored events in place: change is applied
// to every record read, as a store would return an edited row.
type alteredLog struct {
	event.Log
	mu     sync.Mutex
	change func(*event.Record)
}

func (l *alteredLog) set(change func(*event.Record)) {
	l.mu.Lock()
	l.change = change
	l.mu.Unlock()
}

func (l *alteredLog) ReadAll(ctx context.Context, after event.Position, limit int) ([]event.Record, error) {
	recs, err := l.Log.ReadAll(ctx, after, limit)
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := range recs {
		if l.change != nil {
			l.change(&recs[i])
		}
	}
	return recs, err
}

func (l *alteredLog) Subscribe(ctx context.Context, after event.Position, fn func(event.Record) error) error {
	return l.Log.Subscribe(ctx, after, func(r event.Record) error {
		l.mu.Lock()
		if l.change != nil {
			l.change(&r)
		}
		l.mu.Unlock()
		return fn(r)
	})
}

// seen is a projection that records the positions it applied, in a read model (or in memory
// when volatile).
type seen struct {
	name     string
	volatile bool
	mu       sync.Mutex
	applied  []event.Position
}

func (p *seen) Name() string   { return p.name }
func (p *seen) Volatile() bool { return p.volatile }
func (p *seen) Apply(ctx context.Context, unit readmodel.Tx, rec event.Record) error {
	if unit != nil {
		if err := unit.Put(ctx, "seen", fmt.Sprint(rec.Position), map[string]any{"stream": rec.Stream}); err != nil {
			return err
		}
	}
	p.mu.Lock()
	p.applied = append(p.applied, rec.Position)
	p.mu.Unlock()
	return nil
}

func (p *seen) positions() []event.Position {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.applied)
}

// appendNotes appends n events to each of the streams, round robin, one event per append.
func appendNotes(t *testing.T, s event.Store, codec *event.Registry, streams []string, n int) {
	t.Helper()
	at := time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		for _, stream := range streams {
			typ, data, err := codec.Encode(&Noted{N: i})
			if err != nil {
				t.Fatal(err)
			}
			d := event.Draft{ID: uuid.New(), Type: typ, SchemaVersion: 1, EffectiveAt: at, RecordedAt: at, Actor: "t", Data: data}
			if _, err := s.Append(context.Background(), stream, event.Any(), []event.Draft{d}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

type integrityEnv struct {
	t       *testing.T
	store   *memory.Store
	log     *alteredLog
	models  *rmmemory.Store
	codec   *event.Registry
	runner  *projections.Runner
	trail   *seen
	staff   *seen
	cancel  context.CancelFunc
	stopped chan struct{}
}

// startIntegrity runs a runner with the integrity check over log, with a stored projection and
// a volatile one.
func startIntegrity(t *testing.T, e *integrityEnv) *projections.Integrity {
	t.Helper()
	var err error
	integrity := projections.NewIntegrity(e.log, e.codec)
	e.runner, err = projections.NewRunner(projections.Config{Log: e.log, Models: e.models,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), PageSize: 7, Poll: 10 * time.Millisecond,
		Integrity: integrity})
	if err != nil {
		t.Fatal(err)
	}
	e.trail, e.staff = &seen{name: "trail"}, &seen{name: "staff", volatile: true}
	for _, p := range []projections.Projection{e.trail, e.staff} {
		if err := e.runner.Add(p); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel, e.stopped = cancel, make(chan struct{})
	go func() {
		defer close(e.stopped)
		_ = e.runner.Run(ctx)
	}()
	t.Cleanup(e.stop)
	return integrity
}

func (e *integrityEnv) stop() {
	if e.cancel != nil {
		e.cancel()
		<-e.stopped
		e.cancel = nil
	}
}

func newIntegrityEnv(t *testing.T) *integrityEnv {
	s := memory.New()
	t.Cleanup(func() { _ = s.Close() })
	e := &integrityEnv{t: t, store: s, log: &alteredLog{Log: s}, models: rmmemory.New(), codec: codec()}
	appendNotes(t, s, e.codec, []string{"note-a", "note-b", "note-c"}, 10) // positions 1..30
	return e
}

// waitStopped waits until every projection is stopped on an event and returns the statuses.
func (e *integrityEnv) waitStopped() []projections.Status {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		sts := e.runner.Statuses()
		stopped := 0
		for _, st := range sts {
			if st.Stalled != nil {
				stopped++
			}
		}
		if stopped == len(sts) {
			return sts
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("projections not stopped on an event within 10 s: %+v", sts)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func upTo(n event.Position) []event.Position {
	var out []event.Position
	for p := event.Position(1); p <= n; p++ {
		out = append(out, p)
	}
	return out
}

func TestProjectionsStopOnAnAlteredEvent(t *testing.T) {
	cases := []struct {
		name   string
		change func(*event.Record)
		reason string
	}{
		{"data changed in place", func(r *event.Record) {
			r.Data = []byte(strings.Replace(string(r.Data), "5", "6", 1))
		}, event.ReasonHashMismatch},
		{"data changed and its own hash recomputed", func(r *event.Record) {
			// The edit itself hides, but the next event of the stream no longer links to it:
			// that one is refused (position 17 is note-b's 6th event, 20 its 7th).
			r.Data = []byte(`{"n":99}`)
			r.Hash = event.ComputeHash(r)
		}, event.ReasonPrevHash},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newIntegrityEnv(t)
			const altered = event.Position(17) // note-b, version 6
			e.log.set(func(r *event.Record) {
				if r.Position == altered {
					tc.change(r)
				}
			})
			integrity := startIntegrity(t, e)
			sts := e.waitStopped()
			if u := integrity.Undecodable(); u != nil {
				t.Errorf("an altered event reported as undecodable: %v", u)
			}

			wantStop, wantVersion := altered, uint64(6)
			if tc.reason == event.ReasonPrevHash {
				wantStop, wantVersion = 20, 7 // the next event of note-b
			}
			for _, st := range sts {
				s := st.Stalled
				var ie *projections.IntegrityError
				if s.Position != wantStop || s.Stream != "note-b" || s.Version != wantVersion || !errors.As(s.Err, &ie) ||
					!strings.Contains(ie.Reason, tc.reason) || !errors.Is(s.Err, projections.ErrIntegrity) {
					t.Errorf("%s stopped on %+v (%v); want note-b@%d at position %d: %s", st.Name, s, s.Err, wantVersion, wantStop, tc.reason)
				}
				if st.Checkpoint != wantStop-1 {
					t.Errorf("%s checkpoint %d; want %d, just before the refused event", st.Name, st.Checkpoint, wantStop-1)
				}
			}
			for _, p := range []*seen{e.trail, e.staff} {
				if got := p.positions(); !slices.Equal(got, upTo(wantStop-1)) {
					t.Errorf("%s applied %v; want every event before %d and nothing else", p.name, got, wantStop)
				}
			}
			if !e.runner.Ready() {
				t.Error("a runner stopped on a refused event is not ready: waiting will not fix it, the status names it")
			}

			if wantStop != altered {
				// The service has applied the altered event: only a restart after restoring it
				// checks its stream again from the start.
				return
			}
			// Restored from a backup: the next retry passes it and the projections go on.
			e.log.set(nil)
			deadline := time.Now().Add(15 * time.Second)
			for !slices.Equal(e.trail.positions(), upTo(30)) || !slices.Equal(e.staff.positions(), upTo(30)) {
				if time.Now().After(deadline) {
					t.Fatalf("after the event was restored: trail %v, staff %v", e.trail.positions(), e.staff.positions())
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}

// An intact event whose data does not decode (a poison event appended by a bug, or one of a newer
// version) is no tampering: the projections that do not follow its type go on past it, and the
// check reports it, for /readyz to fail naming it.
func TestAnIntactUndecodableEventIsReportedNotStoppedOn(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*event.Record)
		reason string
	}{
		{"undecodable data with a matching hash", func(r *event.Record) {
			r.Data = []byte(`{"n":"seven"}`)
			r.Hash = event.ComputeHash(r)
		}, "data does not decode"},
		{"unknown type", func(r *event.Record) {
			r.Type = "Forged"
			r.Hash = event.ComputeHash(r)
		}, `unknown event type "Forged"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newIntegrityEnv(t)
			// The last event of note-b (version 10): written with that data, so no later event's
			// link disagrees with its hash.
			const poison = event.Position(29)
			e.log.set(func(r *event.Record) {
				if r.Position == poison {
					tc.change(r)
				}
			})
			integrity := startIntegrity(t, e)
			deadline := time.Now().Add(10 * time.Second)
			for !slices.Equal(e.trail.positions(), upTo(30)) || !slices.Equal(e.staff.positions(), upTo(30)) {
				if time.Now().After(deadline) {
					t.Fatalf("past an intact undecodable event: trail %v, staff %v", e.trail.positions(), e.staff.positions())
				}
				time.Sleep(20 * time.Millisecond)
			}
			u := integrity.Undecodable()
			if u == nil || u.Position != poison || u.Stream != "note-b" || u.StreamVersion != 10 || !strings.Contains(u.Reason, tc.reason) {
				t.Fatalf("reported %+v; want note-b@10 at position %d: %s", u, poison, tc.reason)
			}
		})
	}
}

// A runner that starts with a stored checkpoint past an altered event (a restart on
// PostgreSQL) still refuses it: the check reads the log up to the checkpoint first.
func TestACheckpointAheadOfTheCheckDoesNotSkipIt(t *testing.T) {
	e := newIntegrityEnv(t)
	err := e.models.Update(context.Background(), "trail", 25, func(readmodel.Tx) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	e.log.set(func(r *event.Record) {
		if r.Position == 4 {
			r.Data = []byte(`{"n":1000}`)
		}
	})
	startIntegrity(t, e)
	for _, st := range e.waitStopped() {
		if st.Stalled.Position != 4 || st.Stalled.Stream != "note-a" {
			t.Errorf("%s stopped on %+v; want note-a at position 4", st.Name, st.Stalled)
		}
	}
	if got := e.trail.positions(); len(got) != 0 {
		t.Errorf("the stored projection applied %v past its checkpoint", got)
	}
}

func TestIntegrityChecksNewEventsAsTheyArrive(t *testing.T) {
	e := newIntegrityEnv(t)
	startIntegrity(t, e)
	deadline := time.Now().Add(10 * time.Second)
	for len(e.trail.positions()) < 30 || len(e.staff.positions()) < 30 {
		if time.Now().After(deadline) {
			t.Fatal("the intact log was not projected")
		}
		time.Sleep(5 * time.Millisecond)
	}
	e.log.set(func(r *event.Record) {
		if r.Position == 32 {
			r.Actor = "someone else"
		}
	})
	appendNotes(t, e.store, e.codec, []string{"note-d"}, 4) // positions 31..34
	for _, st := range e.waitStopped() {
		if st.Stalled.Position != 32 || st.Stalled.Stream != "note-d" || st.Stalled.Version != 2 {
			t.Errorf("%s stopped on %+v; want note-d@2", st.Name, st.Stalled)
		}
	}
	if got := e.trail.positions(); !slices.Equal(got, upTo(31)) {
		t.Errorf("applied %v; want up to 31", got)
	}
}

// The relay's view of the log: events up to the refused one, then the error.
func TestCheckedLogStopsAtTheRefusedEvent(t *testing.T) {
	e := newIntegrityEnv(t)
	e.log.set(func(r *event.Record) {
		if r.Position == 12 {
			r.CommandID = "forged"
		}
	})
	log := projections.NewIntegrity(e.log, e.codec).Log()
	ctx := context.Background()
	recs, err := log.ReadAll(ctx, 0, 100)
	if err != nil || len(recs) != 11 || recs[10].Position != 11 {
		t.Fatalf("first read: %d events, %v; want the 11 before the altered one", len(recs), err)
	}
	recs, err = log.ReadAll(ctx, 11, 100)
	var ie *projections.IntegrityError
	if len(recs) != 0 || !errors.As(err, &ie) || ie.Position != 12 || ie.Reason != event.ReasonHashMismatch {
		t.Fatalf("second read: %d events, %v; want the integrity error of position 12", len(recs), err)
	}
	var got []event.Position
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	err = log.Subscribe(sctx, 0, func(r event.Record) error {
		got = append(got, r.Position)
		return nil
	})
	if !errors.As(err, &ie) || !slices.Equal(got, upTo(11)) {
		t.Fatalf("subscription delivered %v and ended with %v", got, err)
	}
}

// BenchmarkIntegrityCheck measures the check alone, per event: hash, chain link and decoding of
// staff reads of contracts (the rebuild benchmark's events), 100 per stream, on all CPUs.
func BenchmarkIntegrityCheck(b *testing.B) {
	codec := schema.Registry()
	at := time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)
	const n = 100_000
	recs := make([]event.Record, 0, n)
	var prev event.Hash
	for i := range n {
		cn := fmt.Sprintf("N%09d", i/100+1)
		if i%100 == 0 {
			prev = event.Hash{}
		}
		typ, data, err := codec.Encode(&contract.ContractViewed{CustomerNumber: cn, Viewer: "bench", What: "contract", At: at})
		if err != nil {
			b.Fatal(err)
		}
		r := event.Seal(event.Draft{ID: uuid.New(), Type: typ, SchemaVersion: 1, EffectiveAt: at, RecordedAt: at, Actor: "bench",
			CommandID: "c", Data: data}, contract.ViewStream(cn), uint64(i%100+1), prev)
		r.Position = event.Position(i + 1)
		prev = r.Hash
		recs = append(recs, r)
	}
	b.ResetTimer()
	for b.Loop() {
		check := projections.NewIntegrity(nil, codec)
		for i := 0; i < n; i += 2000 {
			if _, err := check.Check(context.Background(), event.Position(i), recs[i:i+2000]); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
}
