package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"yorozu/domain/event"
)

// Errors of a relay step, for errors.Is. Each wraps the cause.
var (
	// ErrInvalidConfig: NewRelay, Open or NewSubscriber was given a configuration that cannot work.
	ErrInvalidConfig = errors.New("outbox: invalid configuration")
	// ErrTranslate: a record of a translated type could not be turned into messages. The relay
	// stops at that record and retries it: skipping it would lose an integration event for good.
	ErrTranslate = errors.New("outbox: cannot translate a record")
	// ErrPublish: the transport refused or failed to take the messages.
	ErrPublish = errors.New("outbox: cannot publish")
	// ErrCursor: the relay's position could not be read or saved.
	ErrCursor = errors.New("outbox: relay position")
)

// Translator turns one kind of stored event into one kind of integration event. Adding an
// integration event to a relay is adding a Translator to its Config.
type Translator struct {
	// EventType is the stored type (event.TypeName) of the records Translate reads; the relay
	// hands it no others.
	EventType string
	// Topic is the watermill topic the messages go to: letters, digits, '_' and '-' (it names a
	// watermill-sql table and is part of a NATS subject and consumer name).
	Topic string
	// Translate returns the messages one record stands for, in order; none is fine. A message's
	// UUID must be stable (derived from the business key, not random): the NATS transport
	// de-duplicates by it and consumers may too.
	Translate func(event.Record) ([]*message.Message, error)
}

// topicName is what every transport accepts as a topic.
var topicName = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

func (t Translator) validate() error {
	var errs []error
	if t.EventType == "" {
		errs = append(errs, errors.New("EventType is empty"))
	}
	if !topicName.MatchString(t.Topic) {
		errs = append(errs, fmt.Errorf("Topic %q is not letters, digits, '_' and '-'", t.Topic))
	}
	if t.Translate == nil {
		errs = append(errs, errors.New("Translate is nil"))
	}
	return errors.Join(errs...)
}

// CursorStore keeps how far each relay has forwarded the log (at-least-once transports).
type CursorStore interface {
	// Load returns the relay's position: 0, the start of the log, for a relay never saved.
	Load(ctx context.Context, relay string) (event.Position, error)
	// Save records the relay's position; it is durable when Save returns nil.
	Save(ctx context.Context, relay string, pos event.Position) error
}

// Transactional keeps the messages and the relay's position in one store and commits them
// together: exactly once (the sql transport).
type Transactional interface {
	// Prepare readies what Forward needs for the relay and the topics it writes (its position,
	// the topics' tables). It is idempotent; the relay calls it once, before its first Forward.
	Prepare(ctx context.Context, relay string, topics []string) error
	// Forward runs fn in one transaction, with the relay's position and a publisher bound to the
	// transaction, and keeps the position fn returns in that same transaction: what fn published
	// becomes visible with the new position or not at all. Forwards of the same relay (from
	// several replicas) run one at a time.
	Forward(ctx context.Context, relay string, fn func(after event.Position, pub message.Publisher) (event.Position, error)) error
}

// Defaults of a relay Config.
const (
	DefaultPageSize        = 200
	DefaultPollInterval    = 500 * time.Millisecond
	DefaultRetryBackoff    = time.Second
	DefaultMaxRetryBackoff = time.Minute
)

// Config configures a Relay. Zero sizes and durations take the defaults. Set either Publisher
// and Cursors (at least once) or Transactional (exactly once); Endpoint.NewRelay sets them from
// the transport.
type Config struct {
	// Name keys the relay's position (its row in integration_relays, its entry in the cursor
	// file). It names what the relay forwards ("invoice-finalized"), not the process: replicas
	// of the service share it.
	Name string
	// Log is the outbox: the global event log, read in commit order.
	Log event.Log
	// Translators turn the records the relay cares about into messages. A record no translator
	// reads is passed over (the position moves past it); a record two translators read gives
	// the messages of both, in this order.
	Translators []Translator

	// Publisher takes the messages; then the position is saved in Cursors. A crash between the
	// two publishes the page again on restart, so this is at least once.
	Publisher message.Publisher
	Cursors   CursorStore
	// Transactional replaces Publisher and Cursors with a store that commits both together.
	Transactional Transactional

	// PageSize is how many log events one step reads (default 200). An InvoicesFinalized event
	// holds up to billing.InvoicesPerPart invoices, so a page can make many messages.
	PageSize int
	// PollInterval is how long the relay waits, once it has caught up, before it looks at the
	// log again (default 500ms).
	PollInterval time.Duration
	// RetryBackoff is the wait after a failed step (default 1s); it doubles with each failure in
	// a row up to MaxRetryBackoff (default 1 minute), so that an unreachable broker is not
	// hammered nor the log flooded.
	RetryBackoff    time.Duration
	MaxRetryBackoff time.Duration
	// Logger receives the failures (default slog.Default()).
	Logger *slog.Logger
}

func (c *Config) setDefaults() {
	if c.PageSize == 0 {
		c.PageSize = DefaultPageSize
	}
	if c.PollInterval == 0 {
		c.PollInterval = DefaultPollInterval
	}
	if c.RetryBackoff == 0 {
		c.RetryBackoff = DefaultRetryBackoff
	}
	if c.MaxRetryBackoff == 0 {
		c.MaxRetryBackoff = max(DefaultMaxRetryBackoff, c.RetryBackoff)
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Validate reports every problem of c at once. Zero values are valid: they take the defaults.
func (c Config) Validate() error {
	var errs []error
	if c.Name == "" {
		errs = append(errs, errors.New("missing Name"))
	}
	if c.Log == nil {
		errs = append(errs, errors.New("missing Log"))
	}
	if len(c.Translators) == 0 {
		errs = append(errs, errors.New("missing Translators"))
	}
	for i, t := range c.Translators {
		if err := t.validate(); err != nil {
			errs = append(errs, fmt.Errorf("Translators[%d]: %w", i, err))
		}
	}
	switch {
	case c.Transactional != nil && (c.Publisher != nil || c.Cursors != nil):
		errs = append(errs, errors.New("set Publisher and Cursors, or Transactional, not both"))
	case c.Transactional == nil && c.Publisher == nil:
		errs = append(errs, errors.New("missing Publisher (or Transactional)"))
	case c.Transactional == nil && c.Cursors == nil:
		errs = append(errs, errors.New("missing Cursors: a Publisher needs a CursorStore"))
	}
	if c.PageSize < 0 {
		errs = append(errs, errors.New("PageSize must not be negative"))
	}
	if c.PollInterval < 0 {
		errs = append(errs, errors.New("PollInterval must not be negative"))
	}
	if c.RetryBackoff < 0 {
		errs = append(errs, errors.New("RetryBackoff must not be negative"))
	}
	if c.MaxRetryBackoff < 0 {
		errs = append(errs, errors.New("MaxRetryBackoff must not be negative"))
	}
	if c.MaxRetryBackoff > 0 && c.MaxRetryBackoff < c.RetryBackoff {
		errs = append(errs, errors.New("MaxRetryBackoff must not be below RetryBackoff"))
	}
	return errors.Join(errs...)
}

// Relay forwards integration events from the log to a transport. Run (or Step) it from one
// goroutine; replicas of the service, each with its relay, are safe with each other (see the
// transports).
type Relay struct {
	cfg      Config
	byType   map[string][]Translator
	topics   []string
	prepared bool
}

// NewRelay checks cfg (after defaults) and returns a relay. It touches nothing yet.
func NewRelay(cfg Config) (*Relay, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%w: relay %q: %w", ErrInvalidConfig, cfg.Name, err)
	}
	cfg.Logger = cfg.Logger.With("relay", cfg.Name)
	r := &Relay{cfg: cfg, byType: make(map[string][]Translator)}
	for _, t := range cfg.Translators {
		r.byType[t.EventType] = append(r.byType[t.EventType], t)
		if !slices.Contains(r.topics, t.Topic) {
			r.topics = append(r.topics, t.Topic)
		}
	}
	return r, nil
}

// Name is the relay's cursor key.
func (r *Relay) Name() string { return r.cfg.Name }

// Topics are the topics the relay writes, in the order of its translators.
func (r *Relay) Topics() []string { return slices.Clone(r.topics) }

// Run forwards until ctx ends, then returns ctx's error. A failed step is logged and retried
// after the back-off; every failure is retried, since the relay has no one to hand it to and the
// log keeps what was not forwarded.
func (r *Relay) Run(ctx context.Context) error {
	backoff := r.cfg.RetryBackoff
	for ctx.Err() == nil {
		more, err := r.Step(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			r.cfg.Logger.Error("forwarding integration events failed; retrying", "err", err, "retryIn", backoff)
			sleep(ctx, backoff)
			backoff = min(2*backoff, r.cfg.MaxRetryBackoff)
		case err != nil:
			// ctx ended mid-step: nothing to report.
		default:
			backoff = r.cfg.RetryBackoff
			if !more {
				sleep(ctx, r.cfg.PollInterval)
			}
		}
	}
	return ctx.Err()
}

// Step forwards one page of the log: it reads up to PageSize events after the relay's position,
// publishes their messages and moves the position past the page. more reports a full page (step
// again at once). On an error the position stays where it was, so the next step retries the page.
func (r *Relay) Step(ctx context.Context) (more bool, err error) {
	if r.cfg.Transactional != nil {
		if !r.prepared {
			if err := r.cfg.Transactional.Prepare(ctx, r.cfg.Name, r.topics); err != nil {
				return false, fmt.Errorf("outbox: relay %q: prepare: %w", r.cfg.Name, err)
			}
			r.prepared = true
		}
		err = r.cfg.Transactional.Forward(ctx, r.cfg.Name, func(after event.Position, pub message.Publisher) (event.Position, error) {
			next, full, err := r.forward(ctx, after, pub)
			more = full
			return next, err
		})
		if err != nil {
			return false, fmt.Errorf("outbox: relay %q: %w", r.cfg.Name, err)
		}
		return more, nil
	}

	// At least once: publish, then save. A failure of the save leaves the old position, so the
	// page goes out again; its messages keep their IDs, which is what de-duplication relies on.
	after, err := r.cfg.Cursors.Load(ctx, r.cfg.Name)
	if err != nil {
		return false, fmt.Errorf("%w: relay %q: load: %w", ErrCursor, r.cfg.Name, err)
	}
	next, more, err := r.forward(ctx, after, r.cfg.Publisher)
	if err != nil {
		return false, fmt.Errorf("outbox: relay %q: %w", r.cfg.Name, err)
	}
	if next == after {
		return false, nil
	}
	if err := r.cfg.Cursors.Save(ctx, r.cfg.Name, next); err != nil {
		return false, fmt.Errorf("%w: relay %q: save %d: %w", ErrCursor, r.cfg.Name, next, err)
	}
	return more, nil
}

// publishChunk is the most messages handed to the publisher at once.
const publishChunk = 500

// run is the messages of one topic, in log order.
type run struct {
	topic string
	msgs  []*message.Message
}

// forward publishes the messages of the page after `after` and returns the position past it.
// The whole page is translated before anything is published, so that a record that cannot be
// translated publishes nothing of its page.
func (r *Relay) forward(ctx context.Context, after event.Position, pub message.Publisher) (next event.Position, more bool, err error) {
	recs, err := r.cfg.Log.ReadAll(ctx, after, r.cfg.PageSize)
	if err != nil {
		return after, false, fmt.Errorf("read the log after %d: %w", after, err)
	}
	if len(recs) == 0 {
		return after, false, nil
	}
	var runs []run
	count := 0
	for _, rec := range recs {
		for _, t := range r.byType[rec.Type] {
			msgs, err := t.Translate(rec)
			if err != nil {
				return after, false, fmt.Errorf("%w: %s %s@%d (position %d): %w", ErrTranslate, rec.Type, rec.Stream, rec.StreamVersion, rec.Position, err)
			}
			if len(msgs) == 0 {
				continue
			}
			if len(runs) == 0 || runs[len(runs)-1].topic != t.Topic {
				runs = append(runs, run{topic: t.Topic})
			}
			runs[len(runs)-1].msgs = append(runs[len(runs)-1].msgs, msgs...)
			count += len(msgs)
		}
	}
	for _, run := range runs {
		// watermill's Publish takes no context: publish in chunks and look at ctx between them,
		// so that stopping the service does not wait for a whole month's close to be sent. The
		// messages carry ctx too, for the publishers that use it (watermill-sql does).
		for msgs := run.msgs; len(msgs) > 0; {
			if err := ctx.Err(); err != nil {
				return after, false, err
			}
			n := min(len(msgs), publishChunk)
			for _, m := range msgs[:n] {
				m.SetContext(ctx)
			}
			if err := pub.Publish(run.topic, msgs[:n]...); err != nil {
				return after, false, fmt.Errorf("%w: %d messages to %s: %w", ErrPublish, n, run.topic, err)
			}
			msgs = msgs[n:]
		}
	}
	next = recs[len(recs)-1].Position
	if count > 0 {
		r.cfg.Logger.Debug("forwarded integration events", "messages", count, "after", after, "position", next)
	}
	return next, len(recs) == r.cfg.PageSize, nil
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
