// Package postgres is the event.Store on PostgreSQL (pgx/v5, pgxpool). The schema lives in
// adapters/postgres/migrate (sql/0001_event_store.sql); read models share the database and the
// pool (Store.Pool).
//
// Global order. A sequence alone does not give commit order: a transaction can take position 10,
// another 11 and commit first, and a reader of "position > 9" that sees 11 moves past 10 for
// good. So every append transaction takes pg_advisory_xact_lock(appendLock) before it reads the
// position sequence, and holds it until it has committed: positions are handed out in commit
// order, across processes too, and ReadAll is a plain "WHERE position > $1 ORDER BY position".
// The price, one writer at a time per database, is paid back by group commit: in this process
// a groupcommit.Writer gathers concurrent appends into one transaction (one lock, one fsync).
//
// The writer. It has a connection of its own, outside the pool, and runs a batch in two
// pipelined round trips: BEGIN, the lock and every read (stream heads, event IDs already
// stored, the sequence, missing day partitions); then, after the rules of event.Store were
// applied in memory (decide), the inserts, the stream heads, the sequence, NOTIFY and COMMIT.
// Batches of 64 events or more are sent by binary COPY first (copy.go). A failure of the
// connection in the first round trip, before anything was written, is retried once on a new
// connection, so a server restart does not fail the appends waiting at that moment.
//
// Storage. events is LIST-partitioned on event.TimePartitioned(stream): ordinary business
// streams go to the plain table events_plain, with unique ids and (stream, version); telemetry
// goes to events_timed, RANGE-partitioned by the UTC day of recorded_at, so that ExpireBefore is a
// DROP TABLE per day. Day partitions are created on demand inside the writer's transaction (under
// the advisory lock, so two processes never race to create one). ReadAll reads the parent table:
// PostgreSQL merges the partitions' position indexes. event_streams holds each stream's version,
// last hash and tombstone; the writer reads and updates it under the lock. The duplicate-ID check
// probes the id index of every partition, so its cost grows with the number of kept days.
//
// Plans. Every query whose best plan depends on table sizes is planned for its actual
// arguments each time (unnamed statements, or plan_cache_mode on the writer's session): a
// generic plan cached while the log was small (a sequential scan) would be kept while it grows
// (measured: appends ten times slower at 20,000 events).
//
// Subscribe is catchup.Subscribe woken three ways: by this process's own commits, by NOTIFY from
// other processes (LISTEN on a dedicated connection), and by a poll tick in case a notification
// is lost (a dropped listener connection).
package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"yorozu/adapters/eventstore/catchup"
	"yorozu/adapters/eventstore/groupcommit"
	"yorozu/adapters/postgres/migrate"
	"yorozu/domain/event"
)

// appendLock is the advisory lock key that serialises writers of the event log in one database.
// It is part of the storage contract: every process writing the same database must use it.
const appendLock int64 = 0x796f726f7a750001

// notifyChannel is the LISTEN/NOTIFY channel a commit is announced on (payload: last position).
const notifyChannel = "yorozu_events"

// Options tune a Store. The zero value is usable.
type Options struct {
	// Migrate runs migrate.Up when Open connects.
	Migrate bool
	// PollInterval bounds how long a subscriber can miss a commit by another process if its
	// notification is lost. Default 1s.
	PollInterval time.Duration
	// MaxBatch is how many waiting appends one transaction takes. Default 512.
	MaxBatch int
	// CommitTimeout bounds one group-commit transaction. Default 1 minute.
	CommitTimeout time.Duration
}

// Validate reports options that make no sense.
func (o Options) Validate() error {
	var errs []error
	if o.PollInterval < 0 {
		errs = append(errs, errors.New("PollInterval must not be negative"))
	}
	if o.MaxBatch < 0 {
		errs = append(errs, errors.New("MaxBatch must not be negative"))
	}
	if o.CommitTimeout < 0 {
		errs = append(errs, errors.New("CommitTimeout must not be negative"))
	}
	return errors.Join(errs...)
}

func (o Options) withDefaults() Options {
	if o.PollInterval == 0 {
		o.PollInterval = time.Second
	}
	if o.MaxBatch == 0 {
		o.MaxBatch = 512
	}
	if o.CommitTimeout == 0 {
		o.CommitTimeout = time.Minute
	}
	return o
}

// Store is the PostgreSQL event store.
type Store struct {
	pool    *pgxpool.Pool
	ownPool bool
	opts    Options
	writer  *groupcommit.Writer
	wconn   *pgx.Conn // the writer's connection, see writerConn
	signal  catchup.Signal
	closed  atomic.Bool
	// importing is set while Import runs; appends of this Store are refused meanwhile.
	importing atomic.Bool

	// ctx ends at Close; it stops the listener.
	ctx    context.Context
	cancel context.CancelFunc

	listenOnce sync.Once
	listenDone chan struct{}
}

var _ event.Store = (*Store)(nil)

// Open connects to dsn (a URL or keyword/value string pgxpool accepts, pool_max_conns included)
// and returns a store that owns the pool: Close closes it. With opts.Migrate it first brings the
// schema up to date.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("postgres event store: %w", err)
	}
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres event store: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres event store: %w", err)
	}
	if opts.Migrate {
		if err := migrate.Up(ctx, pool); err != nil {
			pool.Close()
			return nil, err
		}
	}
	s := New(pool, opts)
	s.ownPool = true
	return s, nil
}

// New returns a store on pool, whose database must already be migrated (migrate.Up). The
// caller keeps the pool: Close leaves it open. Invalid options are replaced by defaults.
func New(pool *pgxpool.Pool, opts Options) *Store {
	if opts.Validate() != nil {
		opts = Options{Migrate: opts.Migrate}
	}
	opts = opts.withDefaults()
	s := &Store{pool: pool, opts: opts, listenDone: make(chan struct{})}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.writer = groupcommit.New(s.commit, opts.MaxBatch)
	return s
}

// Pool is the store's connection pool; read models in the same database share it.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Close finishes the appends already queued, stops the listener and, if Open made the pool,
// closes it. Calls after Close fail with event.ErrClosed.
func (s *Store) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return event.ErrClosed
	}
	s.writer.Close()
	if s.wconn != nil {
		_ = s.wconn.Close(context.Background())
	}
	s.cancel()
	s.listenOnce.Do(func() { close(s.listenDone) }) // never started: nothing to wait for
	<-s.listenDone
	// Wake subscribers: their next read fails with ErrClosed and ends them.
	s.signal.Notify()
	if s.ownPool {
		s.pool.Close()
	}
	return nil
}

func (s *Store) usable(ctx context.Context) error {
	if s.closed.Load() {
		return event.ErrClosed
	}
	return ctx.Err()
}

// Head implements event.Store: the position of the last event still stored.
func (s *Store) Head(ctx context.Context) (event.Position, error) {
	if err := s.usable(ctx); err != nil {
		return 0, err
	}
	var pos int64
	err := s.pool.QueryRow(ctx, "SELECT position FROM events ORDER BY position DESC LIMIT 1", customPlan).Scan(&pos)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, s.mapErr(fmt.Errorf("postgres event store: head: %w", err))
	}
	return event.Position(pos), nil
}

// Subscribe implements event.Store.
func (s *Store) Subscribe(ctx context.Context, after event.Position, fn func(event.Record) error) error {
	if err := s.usable(ctx); err != nil {
		return err
	}
	s.listenOnce.Do(func() { go s.listen() })
	return catchup.Subscribe(ctx, s, &s.signal, s.opts.PollInterval, after, fn)
}

// listen holds a dedicated connection (not one of the pool's) that LISTENs for commits of other
// processes, reconnecting with backoff until Close.
func (s *Store) listen() {
	defer close(s.listenDone)
	cfg := s.pool.Config().ConnConfig.Copy()
	cfg.RuntimeParams["application_name"] = "yorozu event listener"
	backoff := 100 * time.Millisecond
	for s.ctx.Err() == nil {
		if s.listenOn(cfg) {
			backoff = 100 * time.Millisecond
		}
		select {
		case <-s.ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// listenOn listens on one connection until it fails; it reports whether it got as far as LISTEN.
func (s *Store) listenOn(cfg *pgx.ConnConfig) bool {
	conn, err := pgx.ConnectConfig(s.ctx, cfg)
	if err != nil {
		return false
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(s.ctx, "LISTEN "+notifyChannel); err != nil {
		return false
	}
	// Whatever committed while nobody listened.
	s.signal.Notify()
	for {
		if _, err := conn.WaitForNotification(s.ctx); err != nil {
			return true
		}
		s.signal.Notify()
	}
}

// mapErr turns the error of a call that raced with Close into event.ErrClosed.
func (s *Store) mapErr(err error) error {
	if s.closed.Load() {
		return errors.Join(event.ErrClosed, err)
	}
	return err
}
