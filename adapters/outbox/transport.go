package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Kind names a transport.
type Kind string

// The transports.
const (
	// KindChannel: an in-process GoChannel (the embedded default). Consumers live in the
	// process; relays start from the log head at start and keep no position.
	KindChannel Kind = "channel"
	// KindSQL: watermill-sql topics in PostgreSQL, written exactly once with the position.
	KindSQL Kind = "sql"
	// KindNATS: a NATS JetStream stream, at least once, de-duplicated by message ID.
	KindNATS Kind = "nats"
)

// Kinds lists the transports, for flag help.
var Kinds = []Kind{KindChannel, KindSQL, KindNATS}

// ParseKind reads a --integration-transport value.
func ParseKind(s string) (Kind, error) {
	for _, k := range Kinds {
		if string(k) == s {
			return k, nil
		}
	}
	return "", fmt.Errorf("%w: unknown transport %q (channel, sql or nats)", ErrInvalidConfig, s)
}

// Transport chooses where integration events go and how. The zero value is the channel.
type Transport struct {
	// Kind is the transport (default KindChannel).
	Kind Kind
	// NATS configures KindNATS.
	NATS NATSConfig
	// SQLPollInterval is how often a KindSQL subscriber looks for new messages (default 100ms).
	SQLPollInterval time.Duration
}

// DefaultSQLPollInterval is the default Transport.SQLPollInterval.
const DefaultSQLPollInterval = 100 * time.Millisecond

// NATSConfig configures the NATS JetStream transport. Messages of topic T go to the subject
// SubjectPrefix+T, in the stream Stream, which the service creates (subjects SubjectPrefix+">")
// if it does not exist.
type NATSConfig struct {
	// URL is the server (nats://host:4222; several, comma-separated, for a cluster). Required.
	URL string
	// Stream is the JetStream stream (default YOROZU_INTEGRATION).
	Stream string
	// SubjectPrefix ends with '.' (default "yorozu.integration.").
	SubjectPrefix string
	// DuplicateWindow is how long the stream remembers message IDs to drop re-publishes, for a
	// stream the service creates (default 24h): a relay that crashed between publishing and
	// saving its position re-publishes when it restarts, which must happen within the window.
	DuplicateWindow time.Duration
	// AckWait is how long a consumer has to acknowledge a message before the stream delivers it
	// again (default 30s).
	AckWait time.Duration
	// ConnectTimeout bounds one connection attempt (default 5s).
	ConnectTimeout time.Duration
	// PublishTimeout bounds the wait for the stream's acknowledgement of a publish, and stream
	// and consumer set-up (default 10s).
	PublishTimeout time.Duration
}

func (c *NATSConfig) setDefaults() {
	if c.Stream == "" {
		c.Stream = DefaultNATSStream
	}
	if c.SubjectPrefix == "" {
		c.SubjectPrefix = DefaultNATSSubjectPrefix
	}
	if c.DuplicateWindow == 0 {
		c.DuplicateWindow = DefaultNATSDuplicateWindow
	}
	if c.AckWait == 0 {
		c.AckWait = DefaultNATSAckWait
	}
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = DefaultNATSConnectTimeout
	}
	if c.PublishTimeout == 0 {
		c.PublishTimeout = DefaultNATSPublishTimeout
	}
}

// natsName is what JetStream accepts as a stream or consumer name (no '.', '*', '>', spaces or
// path separators); kept to a portable subset.
var natsName = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// subjectToken is one token of a subject prefix.
var subjectToken = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// Validate reports every problem of c at once. Zero values other than URL are valid.
func (c NATSConfig) Validate() error {
	var errs []error
	if c.URL == "" {
		errs = append(errs, errors.New("NATS.URL is required"))
	}
	if c.Stream != "" && !natsName.MatchString(c.Stream) {
		errs = append(errs, fmt.Errorf("NATS.Stream %q is not letters, digits, '_' and '-'", c.Stream))
	}
	if p := c.SubjectPrefix; p != "" {
		tokens := strings.Split(strings.TrimSuffix(p, "."), ".")
		valid := strings.HasSuffix(p, ".")
		for _, tok := range tokens {
			valid = valid && subjectToken.MatchString(tok)
		}
		if !valid {
			errs = append(errs, fmt.Errorf("NATS.SubjectPrefix %q is not dot-separated tokens (letters, digits, '_', '-') ending with '.'", p))
		}
	}
	for name, d := range map[string]time.Duration{"DuplicateWindow": c.DuplicateWindow, "AckWait": c.AckWait,
		"ConnectTimeout": c.ConnectTimeout, "PublishTimeout": c.PublishTimeout} {
		if d < 0 {
			errs = append(errs, fmt.Errorf("NATS.%s must not be negative", name))
		}
	}
	return errors.Join(errs...)
}

// Validate reports every problem of t at once. The NATS settings are checked only for KindNATS.
func (t Transport) Validate() error {
	var errs []error
	switch t.Kind {
	case "", KindChannel, KindSQL:
	case KindNATS:
		if err := t.NATS.Validate(); err != nil {
			errs = append(errs, err)
		}
	default:
		errs = append(errs, fmt.Errorf("unknown Kind %q (channel, sql or nats)", t.Kind))
	}
	if t.SQLPollInterval < 0 {
		errs = append(errs, errors.New("SQLPollInterval must not be negative"))
	}
	return errors.Join(errs...)
}

func (t *Transport) setDefaults() {
	if t.Kind == "" {
		t.Kind = KindChannel
	}
	if t.SQLPollInterval == 0 {
		t.SQLPollInterval = DefaultSQLPollInterval
	}
	t.NATS.setDefaults()
}

// Deps is what a transport takes from the composition root.
type Deps struct {
	// Pool is the service's PostgreSQL, migrated (nil on the embedded engine). KindSQL requires
	// it; KindNATS keeps its relays' positions in it when it is set.
	Pool *pgxpool.Pool
	// DataDir is the embedded engine's data directory: without Pool, KindNATS keeps its relays'
	// positions in DataDir/integration-relays.json.
	DataDir string
	// Logger receives the transport's and watermill's logs (default slog.Default()). Watermill's
	// per-message info logs are lowered to debug.
	Logger *slog.Logger
}

// Endpoint is an opened transport: the relays publish through it and consumers subscribe
// through it. Close it after the relays have stopped.
type Endpoint struct {
	t       Transport
	deps    Deps
	wlogger watermill.LoggerAdapter

	channel *gochannel.GoChannel // KindChannel
	nats    *natsLink            // KindNATS
	cursors CursorStore          // KindNATS

	closeOnce sync.Once
	closeErr  error
}

// Open validates t and opens it. Only a NATS broker is contacted, and its absence is not an
// error here (the relay retries); a missing Pool for KindSQL is.
func Open(ctx context.Context, t Transport, deps Deps) (*Endpoint, error) {
	if err := t.Validate(); err != nil {
		return nil, fmt.Errorf("%w: transport: %w", ErrInvalidConfig, err)
	}
	t.setDefaults()
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	deps.Logger = deps.Logger.With("component", "outbox", "transport", string(t.Kind))
	e := &Endpoint{t: t, deps: deps, wlogger: watermill.NewSlogLoggerWithLevelMapping(deps.Logger,
		map[slog.Level]slog.Level{slog.LevelInfo: slog.LevelDebug})}
	switch t.Kind {
	case KindChannel:
		// Publishing waits for the consumers' acks, so a slow in-process consumer slows the relay
		// instead of losing messages in a buffer.
		e.channel = gochannel.NewGoChannel(gochannel.Config{BlockPublishUntilSubscriberAck: true}, e.wlogger)
	case KindSQL:
		if deps.Pool == nil {
			return nil, fmt.Errorf("%w: the sql transport needs PostgreSQL (--postgres)", ErrInvalidConfig)
		}
	case KindNATS:
		switch {
		case deps.Pool != nil:
			e.cursors = NewPostgresCursors(deps.Pool)
		case deps.DataDir != "":
			fc, err := OpenFileCursors(deps.DataDir)
			if err != nil {
				return nil, err
			}
			e.cursors = fc
		default:
			return nil, fmt.Errorf("%w: the nats transport keeps its positions in PostgreSQL or the data directory: neither was given", ErrInvalidConfig)
		}
		link, err := openNATS(ctx, t.NATS, deps.Logger, e.wlogger)
		if err != nil {
			return nil, err
		}
		e.nats = link
	}
	return e, nil
}

// Kind is the endpoint's transport.
func (e *Endpoint) Kind() Kind { return e.t.Kind }

// NewRelay returns a relay that forwards through the endpoint. cfg names the relay, its log and
// its translators (and may tune it); the endpoint sets Publisher, Cursors or Transactional, which
// must be unset.
func (e *Endpoint) NewRelay(cfg Config) (*Relay, error) {
	if cfg.Publisher != nil || cfg.Cursors != nil || cfg.Transactional != nil {
		return nil, fmt.Errorf("%w: relay %q: the endpoint sets Publisher, Cursors and Transactional", ErrInvalidConfig, cfg.Name)
	}
	if cfg.Logger == nil {
		cfg.Logger = e.deps.Logger
	}
	switch e.t.Kind {
	case KindChannel:
		cfg.Publisher = e.channel
		if cfg.Log != nil {
			cfg.Cursors = NewHeadCursors(cfg.Log)
		}
	case KindSQL:
		cfg.Transactional = NewSQLOutlet(e.deps.Pool, e.wlogger)
	case KindNATS:
		cfg.Publisher, cfg.Cursors = e.nats, e.cursors
	}
	return NewRelay(cfg)
}

// Publisher is what at-least-once relays of this endpoint publish with, for a relay put together
// by hand (NewRelay with a CursorStore of one's own). It is nil for the sql transport, whose
// messages must be written in the relay's transaction (NewSQLOutlet).
func (e *Endpoint) Publisher() message.Publisher {
	switch e.t.Kind {
	case KindChannel:
		return e.channel
	case KindNATS:
		return e.nats
	}
	return nil
}

// Cursors is where the nats transport keeps its relays' positions (PostgresCursors or
// FileCursors); nil for the others.
func (e *Endpoint) Cursors() CursorStore { return e.cursors }

// consumerGroupName is what every transport accepts as a consumer group (it is part of a NATS
// durable consumer's name).
var consumerGroupName = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// NewSubscriber opens a watermill subscriber for consumerGroup:
//
//   - sql: a watermill-sql subscriber of the group: each group gets every message once, in
//     order, across restarts, from the first message of the topic.
//   - nats: durable JetStream consumers named DurableName(group, topic): the same, at least
//     once (a message not acknowledged within AckWait comes again).
//   - channel: an in-process subscription; the group is not used (every subscription gets every
//     message published while it exists), and Close leaves the endpoint's GoChannel open.
//
// A group is letters, digits, '_' and '-'. The caller closes the subscriber.
func (e *Endpoint) NewSubscriber(consumerGroup string) (message.Subscriber, error) {
	if e.t.Kind != KindChannel && !consumerGroupName.MatchString(consumerGroup) {
		return nil, fmt.Errorf("%w: consumer group %q is not letters, digits, '_' and '-'", ErrInvalidConfig, consumerGroup)
	}
	switch e.t.Kind {
	case KindSQL:
		return newSQLSubscriber(e.deps.Pool, consumerGroup, e.t.SQLPollInterval, e.wlogger)
	case KindNATS:
		return e.nats.newSubscriber(consumerGroup)
	default:
		return channelSubscriber{e.channel}, nil
	}
}

// Subscribe subscribes consumerGroup to topic until ctx ends (see NewSubscriber). Ack each
// message once it is handled: on the channel the relay waits for it, elsewhere an unacknowledged
// message comes again.
func (e *Endpoint) Subscribe(ctx context.Context, topic, consumerGroup string) (<-chan *message.Message, error) {
	sub, err := e.NewSubscriber(consumerGroup)
	if err != nil {
		return nil, err
	}
	ch, err := sub.Subscribe(ctx, topic)
	if err != nil {
		_ = sub.Close()
		return nil, err
	}
	context.AfterFunc(ctx, func() { _ = sub.Close() })
	return ch, nil
}

// Close releases the transport: a relay blocked on the channel's consumers is released, the NATS
// connection closed. Stop the relays first.
func (e *Endpoint) Close() error {
	e.closeOnce.Do(func() {
		switch {
		case e.channel != nil:
			e.closeErr = e.channel.Close()
		case e.nats != nil:
			e.closeErr = e.nats.Close()
		}
	})
	return e.closeErr
}

// channelSubscriber subscribes to the endpoint's GoChannel, which it does not own.
type channelSubscriber struct{ ch *gochannel.GoChannel }

func (s channelSubscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	return s.ch.Subscribe(ctx, topic)
}

// Close does nothing: a subscription ends with its context, the GoChannel with the endpoint.
func (channelSubscriber) Close() error { return nil }
