// Package projections builds the read models from the global event log. Each projection reads
// the log from its own checkpoint; the runner calls the projection's Apply for every event, in
// log order, inside a read-model unit of work that commits the projection's writes together with
// its new checkpoint (exactly-once read models).
package projections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"yorozu/domain/event"
	"yorozu/projections/readmodel"
)

// Projection builds one read model.
type Projection interface {
	// Name is the checkpoint key: renaming a projection rebuilds its read model from scratch.
	Name() string
	// Apply folds one stored event into the read model through unit, the unit of work of the page
	// being applied (nil for a volatile projection). Events the projection does not follow pass
	// by with a nil error. An error rolls the page back.
	Apply(ctx context.Context, unit readmodel.Tx, rec event.Record) error
}

// Volatile is implemented by projections whose state lives in this process only (the staff
// directory): they replay the log from its start at every run and store neither documents nor a
// checkpoint.
type Volatile interface {
	Volatile() bool
}

// ApplyError names the stored event a projection failed on. A projection that fails stops there
// alone: the others, and the read-your-writes wait, go on without it (see WaitFor).
type ApplyError struct {
	Projection string
	Type       string
	Stream     string
	Version    uint64
	Position   event.Position
	Err        error
}

func (e *ApplyError) Error() string {
	return fmt.Sprintf("projection %s failed on %s at %s@%d (position %d): %v",
		e.Projection, e.Type, e.Stream, e.Version, e.Position, e.Err)
}

func (e *ApplyError) Unwrap() error { return e.Err }

// Config wires a Runner.
type Config struct {
	Log    event.Log
	Models readmodel.Store
	Logger *slog.Logger
	// Integrity, when set, checks every event before a projection applies it (see Integrity):
	// a projection stops on an event that fails, as on one it cannot apply.
	Integrity *Integrity
	// PageSize is how many events one unit of work covers (default 2000): large enough that the
	// per-unit costs (a transaction, the checkpoint write) vanish per event, small enough that a
	// unit's writes stay a few megabytes.
	PageSize int
	// Poll bounds how long an event appended by another process goes unnoticed (default 1 s).
	Poll time.Duration
}

func (c *Config) setDefaults() {
	if c.PageSize <= 0 {
		c.PageSize = 2000
	}
	if c.Poll <= 0 {
		c.Poll = time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Validate reports every missing part at once.
func (c Config) Validate() error {
	var errs []error
	if c.Log == nil {
		errs = append(errs, errors.New("projections: Config.Log is required"))
	}
	if c.Models == nil {
		errs = append(errs, errors.New("projections: Config.Models is required"))
	}
	return errors.Join(errs...)
}

// Runner feeds every registered projection.
type Runner struct {
	cfg    Config
	states []*state

	head     atomic.Uint64
	newEvent signal // an event was appended
	progress signal // a projection advanced, or stopped on an event
}

type state struct {
	p        Projection
	volatile bool

	checkpoint atomic.Uint64
	caughtUp   atomic.Bool
	events     atomic.Uint64
	// stalled is the *ApplyError of the event the projection is stopped on, nil while healthy.
	stalled atomic.Pointer[ApplyError]
	mu      sync.Mutex
	lastErr error
}

// Status is what /readyz and /metrics show of one projection.
type Status struct {
	Name       string
	Checkpoint event.Position
	Head       event.Position
	Lag        uint64
	CaughtUp   bool
	// Err is the last failure (nil while healthy); Stalled names the event it is stopped on,
	// when the failure was applying one.
	Err     error
	Stalled *ApplyError
}

// NewRunner builds a runner; add projections before Run.
func NewRunner(cfg Config) (*Runner, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	return &Runner{cfg: cfg}, nil
}

// Add registers a projection.
func (r *Runner) Add(p Projection) error {
	for _, st := range r.states {
		if st.p.Name() == p.Name() {
			return fmt.Errorf("projections: two projections named %q", p.Name())
		}
	}
	st := &state{p: p}
	if v, ok := p.(Volatile); ok {
		st.volatile = v.Volatile()
	}
	r.states = append(r.states, st)
	return nil
}

// Names lists the registered projections.
func (r *Runner) Names() []string {
	out := make([]string, len(r.states))
	for i, s := range r.states {
		out[i] = s.p.Name()
	}
	return out
}

// Run feeds every projection until ctx ends.
func (r *Runner) Run(ctx context.Context) error {
	h, err := r.cfg.Log.Head(ctx)
	if err != nil {
		return err
	}
	r.head.Store(uint64(h))
	var wg sync.WaitGroup
	wg.Go(func() { r.watchHead(ctx, h) })
	for _, st := range r.states {
		wg.Go(func() { _ = r.feed(ctx, st, 0) })
	}
	wg.Wait()
	return ctx.Err()
}

// watchHead follows the log live to know its head (for lag and readiness) and to wake the feeders.
func (r *Runner) watchHead(ctx context.Context, from event.Position) {
	for ctx.Err() == nil {
		err := r.cfg.Log.Subscribe(ctx, from, func(rec event.Record) error {
			r.head.Store(uint64(rec.Position))
			from = rec.Position
			r.newEvent.notify()
			return nil
		})
		if ctx.Err() == nil {
			r.cfg.Logger.Warn("event log subscription ended, resubscribing", "err", err)
			sleep(ctx, time.Second)
		}
	}
}

// feed runs one projection. With stopAt > 0 it returns once the projection reached that
// position (a rebuild); otherwise it runs until ctx ends. A failure is retried from the
// checkpoint with back-off: a database that was down comes back, and an event the projection
// cannot apply keeps failing, named in the status and the log, without holding the others up.
func (r *Runner) feed(ctx context.Context, st *state, stopAt event.Position) error {
	log := r.cfg.Logger.With("projection", st.p.Name())
	backoff := time.Second
	for ctx.Err() == nil {
		var err error
		if !st.volatile {
			var cp event.Position
			if cp, err = r.cfg.Models.Checkpoint(ctx, st.p.Name()); err == nil {
				st.checkpoint.Store(uint64(cp))
				r.progress.notify() // waiters for read-your-writes: another worker may have done it
			}
		}
		if err == nil {
			err = r.catchUp(ctx, st, stopAt)
		}
		var moved *checkpointMoved
		if errors.As(err, &moved) {
			// Another worker (a replica) projected these events first: go on from its checkpoint.
			log.Info("projection advanced elsewhere; continuing from its checkpoint", "checkpoint", moved.stored)
			continue
		}
		if err == nil || ctx.Err() != nil {
			return err
		}
		st.fail(err)
		r.progress.notify()
		if stopAt > 0 {
			return err
		}
		var stalled *ApplyError
		if errors.As(err, &stalled) {
			log.Error("projection stopped on an event; retrying from its checkpoint", "type", stalled.Type,
				"stream", stalled.Stream, "streamVersion", stalled.Version, "position", stalled.Position, "err", stalled.Err, "retryIn", backoff)
		} else {
			log.Error("projection failed; retrying from its checkpoint", "err", err, "retryIn", backoff)
		}
		sleep(ctx, backoff)
		backoff = min(backoff*2, 30*time.Second)
	}
	return ctx.Err()
}

func (r *Runner) catchUp(ctx context.Context, st *state, stopAt event.Position) error {
	var ahead *readAhead
	for {
		wake := r.newEvent.wait()
		after := event.Position(st.checkpoint.Load())
		if stopAt > 0 && after >= stopAt {
			return nil
		}
		var pg page
		if ahead != nil && ahead.after == after {
			pg = <-ahead.done
		} else {
			pg = r.read(ctx, st, after)
		}
		ahead = nil
		if pg.err != nil {
			return pg.err
		}
		recs, failed := pg.recs, pg.failed
		if len(recs) == 0 && failed != nil {
			return failed
		}
		if len(recs) == r.cfg.PageSize && failed == nil && (stopAt == 0 || recs[len(recs)-1].Position < stopAt) {
			// A full page: more is waiting (a start, a rebuild). Read and check the next page
			// while this one is applied, on another CPU.
			ahead = r.readAhead(ctx, st, recs[len(recs)-1].Position)
		}
		if len(recs) == 0 {
			if stopAt > 0 {
				return nil
			}
			if after >= event.Position(r.head.Load()) {
				st.caughtUp.Store(true)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-wake:
			case <-time.After(r.cfg.Poll):
			}
			continue
		}
		err := r.apply(ctx, st, after, recs)
		if errors.As(err, &failed) && failed.Position > recs[0].Position {
			// Keep what came before the failing event, so that the checkpoint (and the lag) shows
			// exactly where the projection stopped.
			i := 0
			for recs[i].Position < failed.Position {
				i++
			}
			recs = recs[:i]
			err = r.apply(ctx, st, after, recs)
		}
		if err != nil {
			return err
		}
		last := recs[len(recs)-1].Position
		st.checkpoint.Store(uint64(last))
		st.events.Add(uint64(len(recs)))
		if uint64(last) > r.head.Load() {
			r.head.Store(uint64(last))
		}
		if failed == nil {
			st.recover()
		}
		r.progress.notify()
		if failed != nil {
			return failed
		}
	}
}

// page is a page of the log as a projection is to apply it: the events that passed the
// integrity check and, when one did not, the failure to stop on after them.
type page struct {
	recs   []event.Record
	failed *ApplyError
	err    error
}

// read reads and checks the page after `after` for st's projection.
func (r *Runner) read(ctx context.Context, st *state, after event.Position) page {
	recs, err := r.cfg.Log.ReadAll(ctx, after, r.cfg.PageSize)
	if err != nil || r.cfg.Integrity == nil {
		return page{recs: recs, err: err}
	}
	var refused *IntegrityError
	if recs, err = r.cfg.Integrity.Check(ctx, after, recs); errors.As(err, &refused) {
		// Apply what passed, then stop on the refused event as on one that cannot be applied:
		// it is named in the status and nothing after it is applied.
		return page{recs: recs, failed: &ApplyError{Projection: st.p.Name(), Type: refused.Type, Stream: refused.Stream,
			Version: refused.StreamVersion, Position: refused.Position, Err: refused}}
	}
	return page{recs: recs, err: err}
}

// readAhead is a page being read in the background.
type readAhead struct {
	after event.Position
	done  chan page
}

func (r *Runner) readAhead(ctx context.Context, st *state, after event.Position) *readAhead {
	a := &readAhead{after: after, done: make(chan page, 1)} // buffered: an unused page is dropped
	go func() { a.done <- r.read(ctx, st, after) }()
	return a
}

// apply hands a page of events to a projection in one unit of work, which commits only if the
// projection's stored checkpoint is still where the page starts (exactly once, even with
// competing replicas). A volatile projection has no unit: its state is in memory.
func (r *Runner) apply(ctx context.Context, st *state, after event.Position, recs []event.Record) error {
	if st.volatile {
		return r.deliver(ctx, st, nil, recs)
	}
	last := recs[len(recs)-1].Position
	return r.cfg.Models.Update(ctx, st.p.Name(), last, func(tx readmodel.Tx) error {
		stored, err := tx.Checkpoint(ctx)
		if err != nil {
			return err
		}
		if stored != after {
			return &checkpointMoved{stored: stored}
		}
		return r.deliver(ctx, st, tx, recs)
	})
}

// checkpointMoved: the stored checkpoint is not where this runner's page starts.
type checkpointMoved struct{ stored event.Position }

func (e *checkpointMoved) Error() string {
	return fmt.Sprintf("projection checkpoint moved to %d by another worker", e.stored)
}

func (r *Runner) deliver(ctx context.Context, st *state, unit readmodel.Tx, recs []event.Record) error {
	for _, rec := range recs {
		if err := st.p.Apply(ctx, unit, rec); err != nil {
			return &ApplyError{Projection: st.p.Name(), Type: rec.Type, Stream: rec.Stream, Version: rec.StreamVersion,
				Position: rec.Position, Err: err}
		}
	}
	return nil
}

func (s *state) fail(err error) {
	s.mu.Lock()
	s.lastErr = err
	s.mu.Unlock()
	var stalled *ApplyError
	if errors.As(err, &stalled) {
		s.stalled.Store(stalled)
	}
}

func (s *state) recover() {
	s.mu.Lock()
	s.lastErr = nil
	s.mu.Unlock()
	s.stalled.Store(nil)
}

// WaitFor blocks until every projection (or, with names, the projections named) has processed
// the event at pos, or ctx ends. A projection stopped on an event at or before pos is not waited
// for: it will not get there by itself, and the commands of everyone else must not wait on it
// (its status says why).
func (r *Runner) WaitFor(ctx context.Context, pos event.Position, names ...string) error {
	for {
		wake := r.progress.wait()
		done := true
		for _, st := range r.states {
			if len(names) > 0 && !slices.Contains(names, st.p.Name()) {
				continue
			}
			if event.Position(st.checkpoint.Load()) >= pos {
				continue
			}
			if s := st.stalled.Load(); s != nil && s.Position <= pos {
				continue
			}
			done = false
			break
		}
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wake:
		}
	}
}

// Ready reports whether every projection has caught up with the log once, or is stopped on an
// event (which waiting will not fix).
func (r *Runner) Ready() bool {
	for _, st := range r.states {
		if !st.caughtUp.Load() && st.stalled.Load() == nil {
			return false
		}
	}
	return true
}

// Statuses reports every projection's progress.
func (r *Runner) Statuses() []Status {
	head := event.Position(r.head.Load())
	out := make([]Status, len(r.states))
	for i, st := range r.states {
		cp := event.Position(st.checkpoint.Load())
		st.mu.Lock()
		err := st.lastErr
		st.mu.Unlock()
		lag := uint64(0)
		if head > cp {
			lag = uint64(head - cp)
		}
		out[i] = Status{Name: st.p.Name(), Checkpoint: cp, Head: head, Lag: lag, CaughtUp: st.caughtUp.Load(),
			Err: err, Stalled: st.stalled.Load()}
	}
	return out
}

// ErrUnknownProjection: no projection has that name.
var ErrUnknownProjection = errors.New("projections: unknown projection")

// Rebuild resets the named projections (all when names is empty) and replays the log into them
// up to the current head. Run must not be feeding them meanwhile.
func (r *Runner) Rebuild(ctx context.Context, names ...string) (map[string]uint64, error) {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	head, err := r.cfg.Log.Head(ctx)
	if err != nil {
		return nil, err
	}
	r.head.Store(uint64(head))
	counts := map[string]uint64{}
	found := 0
	for _, st := range r.states {
		if len(want) > 0 && !want[st.p.Name()] {
			continue
		}
		found++
		if st.volatile {
			// Its state is rebuilt at every start; replaying into it again would only repeat it.
			counts[st.p.Name()] = st.events.Load()
			continue
		}
		if err := r.cfg.Models.Reset(ctx, st.p.Name()); err != nil {
			return nil, err
		}
		st.checkpoint.Store(0)
		st.events.Store(0)
		if head > 0 {
			if err := r.feed(ctx, st, head); err != nil {
				return nil, fmt.Errorf("rebuild %s: %w", st.p.Name(), err)
			}
		}
		counts[st.p.Name()] = st.events.Load()
	}
	if found < len(want) {
		return nil, fmt.Errorf("%w: have %v", ErrUnknownProjection, r.Names())
	}
	return counts, nil
}

// signal wakes every waiting goroutine when something happened. The zero value is ready.
type signal struct {
	mu sync.Mutex
	ch chan struct{}
}

// wait returns a channel closed by the next notify. Take it before looking, so that a change
// between the look and the wait is not missed.
func (s *signal) wait() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}

func (s *signal) notify() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch != nil {
		close(s.ch)
		s.ch = nil
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
