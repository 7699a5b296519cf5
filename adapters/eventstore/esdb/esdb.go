// Package esdb is the event store on EventStoreDB / KurrentDB, through EventStore-Client-Go v4
// (gRPC). It implements event.Store and passes the conformance suite in storetest when a server
// is at hand (see docs/eventstoredb.md).
//
// # Mapping
//
// A stream of ours is the EventStoreDB stream of the same name (names of the form "category-id",
// so the server's $ce-category projection groups them). Our 1-based StreamVersion v is the
// server's 0-based revision v-1. The global Position is the commit position of $all: the server
// sorts $all by it, and for every event written through gRPC it is the event's own log position,
// so it is unique per event. The prepare position is never stored or compared.
//
// The event data is Draft.Data byte for byte (content type JSON); the event ID is Draft.ID; the
// rest of the envelope (version, hashes, times, actor, command, correlation and causation IDs,
// schema version) is the event metadata, a JSON object described in envelope.go. Correlation and
// causation IDs use the server's own keys ($correlationId, $causationId).
//
// # What the server does not do for us
//
// EventStoreDB serialises appends per stream (expected revisions) but has no index by event ID,
// and reads of $all bypass stream metadata: events removed with $tb, $maxAge or a tombstone stay
// visible in $all until a scavenge has rewritten their chunk (and a scavenge never touches the
// chunk being written). The store therefore adds three things, each explained where it lives:
//
//   - an event-ID claim per event (claims.go), so an ID is stored once across streams;
//   - a visibility check on $all (visibility.go), so ReadAll, Head and Subscribe show what
//     ReadStream shows;
//   - the last version and hash of a stream whose events are all removed, kept in its metadata
//     (streammeta.go), so the hash chain continues after truncation.
//
// The connection's user must be allowed to read $all and write system streams ("$" prefix), as
// $admins are by default; the store writes its claims and its retention mark there.
package esdb

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	esdbclient "github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"yorozu/domain/event"
)

// Defaults of Options.
const (
	// DefaultTelemetryMaxAge is "three months" that never cuts one short: three consecutive
	// months have at most 92 days.
	DefaultTelemetryMaxAge = 92 * 24 * time.Hour
	// DefaultIdempotencyWindow: how many of its last events a time-partitioned stream is searched
	// for a re-appended batch.
	DefaultIdempotencyWindow = 64
	// DefaultAnyRetries: how often Append with event.Any() tries again after losing a race.
	DefaultAnyRetries = 5
	// DefaultVisibilityTTL: how long the store trusts what it learnt about removed events.
	DefaultVisibilityTTL = time.Minute
)

// Options tune the store. The zero value is the production setting.
type Options struct {
	// TelemetryMaxAge is the $maxAge given to a time-partitioned stream (event.TimePartitioned)
	// before its first event is written: the server then stops returning events of that age by
	// itself, and a scavenge reclaims their space. ExpireBefore cuts at day boundaries on top of
	// it. Zero means DefaultTelemetryMaxAge; a negative value sets no $maxAge.
	TelemetryMaxAge time.Duration
	// IdempotencyWindow is how many of a time-partitioned stream's last events Append searches
	// for a batch that is already stored (see Append). Zero means DefaultIdempotencyWindow.
	IdempotencyWindow int
	// AnyRetries bounds how often an Append with event.Any() reads the stream again and retries
	// after another writer got there first. Zero means DefaultAnyRetries.
	AnyRetries int
	// VisibilityTTL is how long ReadAll, Head and Subscribe trust what they learnt about the
	// removed events of a stream before asking the server again (see visibility.go). Removals made
	// through this Store are seen at once; those made by another process, or by $maxAge as time
	// passes, within this time. Zero means DefaultVisibilityTTL.
	VisibilityTTL time.Duration
	// Logger receives the client library's log lines. Nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock used for claim and cache ages. Nil means time.Now.
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.TelemetryMaxAge == 0 {
		o.TelemetryMaxAge = DefaultTelemetryMaxAge
	}
	if o.IdempotencyWindow <= 0 {
		o.IdempotencyWindow = DefaultIdempotencyWindow
	}
	if o.AnyRetries <= 0 {
		o.AnyRetries = DefaultAnyRetries
	}
	if o.VisibilityTTL <= 0 {
		o.VisibilityTTL = DefaultVisibilityTTL
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Store is an event.Store on one EventStoreDB database (a node or a cluster). It is safe for
// concurrent use, also by several processes on the same database.
type Store struct {
	client  *esdbclient.Client
	opts    Options
	visible *visibility
	closed  atomic.Bool
	closing sync.Once
}

var _ event.Store = (*Store)(nil)

// Open connects to the database named by url, a connection string such as
// "esdb://localhost:2113?tls=false" or "esdb+discover://user:pass@cluster.example:2113". It reads
// the end of $all once, so a wrong address, bad credentials or a user without the right to read
// $all fail here rather than at the first append.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	cfg, err := esdbclient.ParseConnectionString(url)
	if err != nil {
		// The connection string may hold a password: it is not repeated.
		return nil, fmt.Errorf("eventstoredb: invalid connection string: %w", err)
	}
	opts = opts.withDefaults()
	cfg.Logger = clientLogger(opts.Logger)
	client, err := esdbclient.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("eventstoredb: %w", err)
	}
	s := &Store{client: client, opts: opts, visible: newVisibility(opts.VisibilityTTL, opts.Now)}
	if _, err := s.readAll(ctx, esdbclient.End{}, esdbclient.Backwards, 1); err != nil {
		_ = client.Close()
		return nil, fmt.Errorf("eventstoredb: cannot read $all: %w", err)
	}
	return s, nil
}

// Close releases the connection. Calls after Close fail with event.ErrClosed; a running
// Subscribe returns it.
func (s *Store) Close() error {
	s.closing.Do(func() {
		s.closed.Store(true)
		_ = s.client.Close()
	})
	return nil
}

func (s *Store) check() error {
	if s.closed.Load() {
		return event.ErrClosed
	}
	return nil
}

// clientLogger sends the client library's lines to slog at the level the library chose.
func clientLogger(l *slog.Logger) esdbclient.LoggingFunc {
	l = l.With("component", "eventstoredb-client")
	return func(level esdbclient.LogLevel, format string, args ...interface{}) {
		lv := slog.LevelDebug
		switch level {
		case esdbclient.LogInfo:
			lv = slog.LevelInfo
		case esdbclient.LogWarn:
			lv = slog.LevelWarn
		case esdbclient.LogError:
			lv = slog.LevelError
		}
		l.Log(context.Background(), lv, fmt.Sprintf(format, args...))
	}
}

// forEach runs fn(0) … fn(n-1) on at most limit goroutines and returns the first error.
func forEach(n, limit int, fn func(i int) error) error {
	if n == 1 {
		return fn(0)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		slots = make(chan struct{}, limit)
	)
	for i := 0; i < n; i++ {
		slots <- struct{}{}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			defer func() { <-slots }()
			if err := fn(i); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		}(i)
	}
	wg.Wait()
	return first
}
