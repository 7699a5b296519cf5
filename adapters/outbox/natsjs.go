package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wmjetstream "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/jetstream"
	wmnats "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/nats"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// natsLink is the service's side of NATS JetStream: one connection for the relays' publisher and
// the stream management, and one more per subscriber (a watermill subscriber drains and closes
// the connection it is given).
type natsLink struct {
	cfg    NATSConfig
	log    *slog.Logger            // our own reports
	logger watermill.LoggerAdapter // watermill's
	conn   *nats.Conn
	js     jetstream.JetStream
	pub    *wmnats.Publisher

	mu          sync.Mutex
	streamReady bool
}

// dialNATS connects without waiting for the server: an unreachable broker must not stop the
// service from starting, since the log keeps what the relay has not forwarded yet. The client
// reconnects for ever; meanwhile publishes fail and the relay retries them.
func dialNATS(cfg NATSConfig, role string) (*nats.Conn, error) {
	return nats.Connect(cfg.URL,
		nats.Name("yorozu-"+role),
		nats.Timeout(cfg.ConnectTimeout),
		nats.RetryOnFailedConnect(true),
		nats.MaxReconnects(-1),
	)
}

func openNATS(ctx context.Context, cfg NATSConfig, log *slog.Logger, logger watermill.LoggerAdapter) (*natsLink, error) {
	conn, err := dialNATS(cfg, "outbox")
	if err != nil {
		return nil, fmt.Errorf("outbox: nats %s: %w", cfg.URL, err)
	}
	js, err := jetstream.New(conn)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("outbox: nats jetstream: %w", err)
	}
	// watermill-nats' nats publisher with JetStream on, rather than its jetstream one: only this
	// one sends the message UUID as Nats-Msg-Id (TrackMsgId).
	pub, err := wmnats.NewPublisherWithNatsConn(conn, wmnats.PublisherPublishConfig{
		Marshaler:         subjectMarshaler{prefix: cfg.SubjectPrefix},
		SubjectCalculator: wmnats.DefaultSubjectCalculator,
		JetStream: wmnats.JetStreamConfig{
			// Nats-Msg-Id = the message UUID, stable per integration event: the stream drops a
			// re-publish within its duplicate window (the relay publishes before it saves).
			TrackMsgId: true,
			// The stream is ours to create (ensureStream), with our name and subjects.
			AutoProvision: false,
			// A publish waits for the stream's acknowledgement at most this long.
			ConnectOptions: []nats.JSOpt{nats.MaxWait(cfg.PublishTimeout)},
			// A subject captured by some other stream is an error, not a silent misdelivery.
			PublishOptions: []nats.PubOpt{nats.ExpectStream(cfg.Stream)},
		},
	}, logger)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("outbox: nats publisher: %w", err)
	}
	l := &natsLink{cfg: cfg, log: log, logger: logger, conn: conn, js: js, pub: pub}
	// Try now, so that a reachable broker has its stream before any consumer subscribes; an
	// unreachable one is retried with the first publish.
	if err := l.ensureStream(ctx); err != nil {
		log.Warn("NATS JetStream not ready; the relay will retry", "url", cfg.URL, "err", err)
	}
	return l, nil
}

// ensureStream creates the stream if it is missing. An existing stream is left as its owner
// configured it; a duplicate window shorter than ours is reported, since it narrows the
// de-duplication the relay's at-least-once delivery relies on.
func (l *natsLink) ensureStream(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.streamReady {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, l.cfg.PublishTimeout)
	defer cancel()
	if err := ensureStream(ctx, l.js, l.cfg, l.log); err != nil {
		return err
	}
	l.streamReady = true
	return nil
}

func ensureStream(ctx context.Context, js jetstream.JetStream, cfg NATSConfig, log *slog.Logger) error {
	s, err := js.Stream(ctx, cfg.Stream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		_, err = js.CreateStream(ctx, jetstream.StreamConfig{
			Name:        cfg.Stream,
			Description: "YOROZU integration events (adapters/outbox)",
			Subjects:    []string{cfg.SubjectPrefix + ">"},
			Retention:   jetstream.LimitsPolicy,
			Storage:     jetstream.FileStorage,
			Duplicates:  cfg.DuplicateWindow,
		})
		if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			return nil // another replica was first
		}
		if err != nil {
			return fmt.Errorf("outbox: create stream %s: %w", cfg.Stream, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("outbox: stream %s: %w", cfg.Stream, err)
	}
	if got := s.CachedInfo().Config.Duplicates; got < cfg.DuplicateWindow {
		log.Warn("the existing stream de-duplicates over a shorter window than configured: a relay restarted later "+
			"than that after a crash sends some messages twice", "stream", cfg.Stream, "window", got, "configured", cfg.DuplicateWindow)
	}
	return nil
}

// Publish implements message.Publisher for the relays.
func (l *natsLink) Publish(topic string, msgs ...*message.Message) error {
	if err := l.ensureStream(context.Background()); err != nil {
		return err
	}
	return l.pub.Publish(topic, msgs...)
}

// Close closes the publisher's connection.
func (l *natsLink) Close() error { return l.pub.Close() }

// subjectMarshaler is watermill's header marshaler (metadata as NATS headers, the UUID in
// _watermill_message_uuid) sending a topic to the subject SubjectPrefix+topic, inside the stream.
type subjectMarshaler struct{ prefix string }

func (m subjectMarshaler) Marshal(topic string, msg *message.Message) (*nats.Msg, error) {
	return (&wmnats.NATSMarshaler{}).Marshal(m.prefix+topic, msg)
}

// natsUnmarshaler reads a stream message as subjectMarshaler wrote it, and tolerates what
// another publisher on the subject may send: without the watermill UUID header the Nats-Msg-Id
// is the ID, and of a repeated header the first value is kept. (watermill's own unmarshaler
// fails on a repeated header, and its subscriber does not survive an unmarshal failure.)
type natsUnmarshaler struct{}

func (natsUnmarshaler) Unmarshal(m jetstream.Msg) (*message.Message, error) {
	hdr := m.Headers()
	id := hdr.Get(wmnats.WatermillUUIDHdr)
	if id == "" {
		id = hdr.Get(nats.MsgIdHdr)
	}
	md := make(message.Metadata, len(hdr))
	for k, v := range hdr {
		switch k {
		case wmnats.WatermillUUIDHdr, nats.MsgIdHdr, nats.ExpectedLastMsgIdHdr, nats.ExpectedStreamHdr,
			nats.ExpectedLastSubjSeqHdr, nats.ExpectedLastSeqHdr:
			continue
		}
		if len(v) > 0 {
			md.Set(k, v[0])
		}
	}
	msg := message.NewMessage(id, m.Data())
	msg.Metadata = md
	return msg, nil
}

// DurableName is the JetStream durable consumer a consumer group reads a topic through.
func DurableName(consumerGroup, topic string) string { return consumerGroup + "__" + topic }

// newSubscriber reads topics through durable pull consumers named DurableName(group, topic):
// the stream remembers what the group has acknowledged, so a restarted consumer resumes there,
// and the members of a group share the messages. Closing the subscriber keeps the durable.
//
// It is watermill-nats' jetstream subscriber, not its nats one (which the relay publishes
// with): that one lets nats.go create the durable, and nats.go deletes a consumer it created
// when the subscription ends, so the group would start from the beginning at every restart.
// Here the consumer is created beforehand (ResourceInitializer) and outlives the subscriber.
func (l *natsLink) newSubscriber(consumerGroup string) (message.Subscriber, error) {
	conn, err := dialNATS(l.cfg, "consumer-"+consumerGroup)
	if err != nil {
		return nil, fmt.Errorf("outbox: nats %s: %w", l.cfg.URL, err)
	}
	cfg := l.cfg
	sub, err := wmjetstream.NewSubscriber(wmjetstream.SubscriberConfig{
		Conn:           conn,
		Logger:         l.logger,
		AckWaitTimeout: cfg.AckWait,
		Unmarshaler:    natsUnmarshaler{},
		ResourceInitializer: func(ctx context.Context, js jetstream.JetStream, topic string) (jetstream.Consumer, func(context.Context, watermill.LoggerAdapter), error) {
			ctx, cancel := context.WithTimeout(ctx, cfg.PublishTimeout)
			defer cancel()
			if err := ensureStream(ctx, js, cfg, l.log); err != nil {
				return nil, nil, err
			}
			stream, err := js.Stream(ctx, cfg.Stream)
			if err != nil {
				return nil, nil, fmt.Errorf("outbox: stream %s: %w", cfg.Stream, err)
			}
			c, err := stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
				Durable:       DurableName(consumerGroup, topic),
				Description:   "consumer group " + consumerGroup + " of " + topic,
				FilterSubject: cfg.SubjectPrefix + topic,
				DeliverPolicy: jetstream.DeliverAllPolicy,
				AckPolicy:     jetstream.AckExplicitPolicy,
				AckWait:       cfg.AckWait,
			})
			if err != nil {
				return nil, nil, fmt.Errorf("outbox: durable consumer %s: %w", DurableName(consumerGroup, topic), err)
			}
			return c, nil, nil // no cleanup: the durable outlives this subscriber
		},
	})
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("outbox: nats subscriber: %w", err)
	}
	return sub, nil
}

// Defaults of NATSConfig.
const (
	DefaultNATSStream          = "YOROZU_INTEGRATION"
	DefaultNATSSubjectPrefix   = "yorozu.integration."
	DefaultNATSDuplicateWindow = 24 * time.Hour
	DefaultNATSAckWait         = 30 * time.Second
	DefaultNATSConnectTimeout  = 5 * time.Second
	DefaultNATSPublishTimeout  = 10 * time.Second
)
