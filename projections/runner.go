// Package projections builds the read models from the global event log. Each projection reads
// the log from its own checkpoint; the runner hands every event to the projection through
// watermill (typed handlers via the CQRS event group processor, or a plain router handler for
// projections that see every event), inside a read-model unit of work that commits the
// projection's writes together with its new checkpoint.
package projections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill/components/cqrs"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"

	"yorozu/adapters/eventstore/catchup"
	"yorozu/domain/event"
	"yorozu/projections/readmodel"
)

// Projection builds one read model. Its Name is its checkpoint key and its watermill consumer
// group: renaming it rebuilds it from scratch.
type Projection interface {
	Name() string
}

// TypedProjection handles the domain events it knows with typed watermill handlers
// (cqrs.NewGroupEventHandler); other events pass by. Handlers reach the unit of work with Tx(ctx)
// and the event's envelope with Record(ctx).
type TypedProjection interface {
	Projection
	Handlers() []cqrs.GroupEventHandler
}

// RecordProjection sees every stored record, whatever its type (the audit trail).
type RecordProjection interface {
	Projection
	HandleRecord(ctx context.Context, tx readmodel.Tx, r event.Record) error
}

// Tx is the read-model unit of work of the event being handled.
func Tx(ctx context.Context) readmodel.Tx { return unitFrom(ctx).tx }

// Record is the envelope of the event being handled.
func Record(ctx context.Context) event.Record { return unitFrom(ctx).rec }

type unitKey struct{}

type unit struct {
	tx  readmodel.Tx
	rec event.Record
	err error
}

func unitFrom(ctx context.Context) *unit {
	u, _ := ctx.Value(unitKey{}).(*unit)
	if u == nil {
		panic("projections: handler called outside a projection unit of work")
	}
	return u
}

// Config wires a Runner.
type Config struct {
	Events event.Store
	Models readmodel.Store
	Router *message.Router
	Logger *slog.Logger
	// PageSize is how many events one unit of work covers; default 500.
	PageSize int
	// Poll bounds how long an event appended by another process goes unnoticed; default 1 s.
	Poll time.Duration
}

// Runner feeds every registered projection.
type Runner struct {
	cfg    Config
	pubsub *gochannel.GoChannel
	groups *cqrs.EventGroupProcessor
	states []*state

	head     atomic.Uint64
	newEvent catchup.Signal // an event was appended
	progress catchup.Signal // a projection advanced
}

type state struct {
	p Projection
	// volatile projections keep their state in this process only (see Volatile): they start
	// from the beginning of the log and store neither documents nor a checkpoint.
	volatile bool
	// current is the unit being delivered to a record projection.
	current    atomic.Pointer[unit]
	topic      string
	checkpoint atomic.Uint64
	caughtUp   atomic.Bool
	events     atomic.Uint64
	mu         sync.Mutex
	lastErr    error
}

// Status is what /readyz and /metrics show of one projection.
type Status struct {
	Name       string
	Checkpoint event.Position
	Head       event.Position
	Lag        uint64
	CaughtUp   bool
	Err        error
}

// NewRunner builds a runner; add projections before the router runs.
func NewRunner(cfg Config) (*Runner, error) {
	if cfg.PageSize <= 0 {
		cfg.PageSize = 2000
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	// Blocking publish makes each projection see its events one at a time, in log order;
	// preserving the context carries the unit of work to the handler.
	ps := gochannel.NewGoChannel(gochannel.Config{BlockPublishUntilSubscriberAck: true, PreserveContext: true}, nil)
	r := &Runner{cfg: cfg, pubsub: ps}
	groups, err := cqrs.NewEventGroupProcessorWithConfig(cfg.Router, cqrs.EventGroupProcessorConfig{
		GenerateSubscribeTopic: func(p cqrs.EventGroupProcessorGenerateSubscribeTopicParams) (string, error) {
			return topic(p.EventGroupName), nil
		},
		SubscriberConstructor: func(cqrs.EventGroupProcessorSubscriberConstructorParams) (message.Subscriber, error) {
			return ps, nil
		},
		// A failing handler must not be redelivered forever (that would block the projection
		// inside watermill): its error goes to the runner, which rolls the unit back and retries.
		OnHandle: func(p cqrs.EventGroupProcessorOnHandleParams) error {
			u := unitFrom(p.Message.Context())
			if err := p.Handler.Handle(p.Message.Context(), p.Event); err != nil && u.err == nil {
				u.err = err
			}
			return nil
		},
		AckOnUnknownEvent: true,
		Marshaler:         cqrs.JSONMarshaler{GenerateName: cqrs.StructName},
	})
	if err != nil {
		return nil, err
	}
	r.groups = groups
	return r, nil
}

func topic(name string) string { return "projection." + name }

// Add registers a projection.
func (r *Runner) Add(p Projection) error {
	st := &state{p: p, topic: topic(p.Name())}
	if v, ok := p.(interface{ Volatile() bool }); ok {
		st.volatile = v.Volatile()
	}
	switch p := p.(type) {
	case TypedProjection:
		if err := r.groups.AddHandlersGroup(p.Name(), p.Handlers()...); err != nil {
			return err
		}
	case RecordProjection:
		r.cfg.Router.AddConsumerHandler(p.Name(), st.topic, r.pubsub, func(msg *message.Message) error {
			// The unit being delivered: publishing blocks until this handler acks, so a
			// projection has one message in flight, and the runner's pointer names it without a
			// walk up the message context.
			u := st.current.Load()
			if err := p.HandleRecord(msg.Context(), u.tx, u.rec); err != nil && u.err == nil {
				u.err = err
			}
			return nil
		})
	default:
		return fmt.Errorf("projections: %s has neither typed handlers nor a record handler", p.Name())
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

// Run feeds every projection until ctx ends. Call it once the router is running.
func (r *Runner) Run(ctx context.Context) error {
	h, err := r.cfg.Events.Head(ctx)
	if err != nil {
		return err
	}
	r.head.Store(uint64(h))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		r.watchHead(ctx, h)
	}()
	for _, st := range r.states {
		wg.Add(1)
		go func(st *state) {
			defer wg.Done()
			r.feed(ctx, st, 0)
		}(st)
	}
	wg.Wait()
	return ctx.Err()
}

// watchHead follows the log live to know its head (for lag and readiness) and to wake the feeders.
func (r *Runner) watchHead(ctx context.Context, from event.Position) {
	for ctx.Err() == nil {
		err := r.cfg.Events.Subscribe(ctx, from, func(rec event.Record) error {
			r.head.Store(uint64(rec.Position))
			from = rec.Position
			r.newEvent.Notify()
			return nil
		})
		if ctx.Err() == nil {
			r.cfg.Logger.Warn("event log subscription ended, resubscribing", "err", err)
			sleep(ctx, time.Second)
		}
	}
}

// feed runs one projection. With stopAt > 0 it returns once the projection reached that
// position (a rebuild); otherwise it runs until ctx ends.
func (r *Runner) feed(ctx context.Context, st *state, stopAt event.Position) error {
	log := r.cfg.Logger.With("projection", st.p.Name())
	backoff := time.Second
	for ctx.Err() == nil {
		var err error
		if !st.volatile {
			var cp event.Position
			if cp, err = r.cfg.Models.Checkpoint(ctx, st.p.Name()); err == nil {
				st.checkpoint.Store(uint64(cp))
				r.progress.Notify() // waiters for read-your-writes: another worker may have done it
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
		st.setErr(err)
		if stopAt > 0 {
			return err
		}
		log.Error("projection failed; retrying from its checkpoint", "err", err, "retryIn", backoff)
		sleep(ctx, backoff)
		backoff = min(backoff*2, 30*time.Second)
	}
	return ctx.Err()
}

func (r *Runner) catchUp(ctx context.Context, st *state, stopAt event.Position) error {
	for {
		wake := r.newEvent.Wait()
		after := event.Position(st.checkpoint.Load())
		if stopAt > 0 && after >= stopAt {
			return nil
		}
		recs, err := r.cfg.Events.ReadAll(ctx, after, r.cfg.PageSize)
		if err != nil {
			return err
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
		last := recs[len(recs)-1].Position
		if err := r.apply(ctx, st, after, last, recs); err != nil {
			return err
		}
		st.checkpoint.Store(uint64(last))
		st.events.Add(uint64(len(recs)))
		if uint64(last) > r.head.Load() {
			r.head.Store(uint64(last))
		}
		st.setErr(nil)
		r.progress.Notify()
	}
}

// apply hands a page of events to a projection in one unit of work, which commits only if the
// projection's stored checkpoint is still where the page starts (exactly once, even with
// competing replicas). A volatile projection has no unit: its state is in memory.
func (r *Runner) apply(ctx context.Context, st *state, after, last event.Position, recs []event.Record) error {
	if st.volatile {
		return r.deliver(ctx, st, nil, recs)
	}
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

func (r *Runner) deliver(ctx context.Context, st *state, tx readmodel.Tx, recs []event.Record) error {
	for _, rec := range recs {
		u := &unit{tx: tx, rec: rec}
		msg := message.NewMessage(rec.ID.String(), message.Payload(rec.Data))
		msg.Metadata.Set("name", rec.Type)
		msg.SetContext(context.WithValue(ctx, unitKey{}, u))
		st.current.Store(u)
		if err := r.pubsub.Publish(st.topic, msg); err != nil {
			return err
		}
		if u.err != nil {
			return fmt.Errorf("%s at %s@%d (position %d): %w", rec.Type, rec.Stream, rec.StreamVersion, rec.Position, u.err)
		}
	}
	return nil
}

func (s *state) setErr(err error) {
	s.mu.Lock()
	s.lastErr = err
	s.mu.Unlock()
}

// WaitFor blocks until every projection has processed the event at pos, or ctx ends.
func (r *Runner) WaitFor(ctx context.Context, pos event.Position) error {
	for {
		wake := r.progress.Wait()
		done := true
		for _, st := range r.states {
			if event.Position(st.checkpoint.Load()) < pos {
				done = false
				break
			}
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
		out[i] = Status{Name: st.p.Name(), Checkpoint: cp, Head: head, Lag: lag, CaughtUp: st.caughtUp.Load(), Err: err}
	}
	return out
}

// ErrUnknownProjection: no projection has that name.
var ErrUnknownProjection = errors.New("projections: unknown projection")

// Rebuild resets the named projections (all when names is empty) and replays the log into them
// up to the current head. The router must be running; Run must not be feeding them meanwhile.
func (r *Runner) Rebuild(ctx context.Context, names ...string) (map[string]uint64, error) {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	head, err := r.cfg.Events.Head(ctx)
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

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
