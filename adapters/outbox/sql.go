package outbox

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"yorozu/domain/event"
)

// SQLOutlet is the exactly-once outlet on PostgreSQL: each Forward is one transaction that locks
// the relay's row in integration_relays, inserts the messages with a watermill-sql publisher
// bound to that transaction and moves the position. A crash before the commit forwards nothing,
// after it everything: each message reaches its topic once, in log order, and the row lock makes
// replicas take turns.
type SQLOutlet struct {
	pool   *pgxpool.Pool
	logger watermill.LoggerAdapter
}

var _ Transactional = (*SQLOutlet)(nil)

// NewSQLOutlet returns the outlet of a migrated database (the integration_relays table).
func NewSQLOutlet(pool *pgxpool.Pool, logger watermill.LoggerAdapter) *SQLOutlet {
	if logger == nil {
		logger = watermill.NopLogger{}
	}
	return &SQLOutlet{pool: pool, logger: logger}
}

// sqlSchema is the watermill-sql layout of the topics, shared by the outlet and the subscribers.
var sqlSchema = wsql.DefaultPostgreSQLSchema{}

// sqlBatch bounds the messages of one INSERT (three parameters each; PostgreSQL takes 65,535).
const sqlBatch = 1000

// Prepare creates the relay's row and the topics' tables. The tables are created the way
// watermill's subscribers create them: a publisher bound to a transaction must not (a CREATE
// TABLE in the relay's transaction would take locks for its whole length).
func (o *SQLOutlet) Prepare(ctx context.Context, relay string, topics []string) error {
	if _, err := o.pool.Exec(ctx, `INSERT INTO integration_relays (name, position) VALUES ($1, 0) ON CONFLICT DO NOTHING`, relay); err != nil {
		return fmt.Errorf("%w: %w", ErrCursor, err)
	}
	sub, err := wsql.NewSubscriber(wsql.BeginnerFromPgx(o.pool), wsql.SubscriberConfig{
		SchemaAdapter:  sqlSchema,
		OffsetsAdapter: wsql.DefaultPostgreSQLOffsetsAdapter{},
	}, o.logger)
	if err != nil {
		return err
	}
	defer sub.Close()
	for _, topic := range topics {
		if err := sub.SubscribeInitialize(topic); err != nil {
			return fmt.Errorf("initialize topic %s: %w", topic, err)
		}
	}
	return nil
}

// Forward implements Transactional.
func (o *SQLOutlet) Forward(ctx context.Context, relay string, fn func(after event.Position, pub message.Publisher) (event.Position, error)) error {
	return pgx.BeginFunc(ctx, o.pool, func(tx pgx.Tx) error {
		var after int64
		err := tx.QueryRow(ctx, `SELECT position FROM integration_relays WHERE name = $1 FOR UPDATE`, relay).Scan(&after)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%w: no row %q in integration_relays (Prepare creates it)", ErrCursor, relay)
		}
		if err != nil {
			return fmt.Errorf("%w: %w", ErrCursor, err)
		}
		pub, err := wsql.NewPublisher(wsql.TxFromPgx(tx), wsql.PublisherConfig{SchemaAdapter: sqlSchema}, o.logger)
		if err != nil {
			return err
		}
		next, err := fn(event.Position(after), batchedPublisher{pub})
		if err != nil || next == event.Position(after) {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE integration_relays SET position = $2 WHERE name = $1`, relay, int64(next)); err != nil {
			return fmt.Errorf("%w: %w", ErrCursor, err)
		}
		return nil
	})
}

// batchedPublisher splits a publish into INSERTs of at most sqlBatch messages: a close of 100,000
// invoices would otherwise exceed PostgreSQL's parameter limit.
type batchedPublisher struct{ message.Publisher }

func (p batchedPublisher) Publish(topic string, msgs ...*message.Message) error {
	for len(msgs) > 0 {
		n := min(len(msgs), sqlBatch)
		if err := p.Publisher.Publish(topic, msgs[:n]...); err != nil {
			return err
		}
		msgs = msgs[n:]
	}
	return nil
}

// newSQLSubscriber reads watermill-sql topics as consumerGroup: every group gets every message
// once, in order, across restarts; the members of one group share them.
func newSQLSubscriber(pool *pgxpool.Pool, consumerGroup string, poll time.Duration, logger watermill.LoggerAdapter) (message.Subscriber, error) {
	return wsql.NewSubscriber(wsql.BeginnerFromPgx(pool), wsql.SubscriberConfig{
		ConsumerGroup:    consumerGroup,
		PollInterval:     poll,
		SchemaAdapter:    sqlSchema,
		OffsetsAdapter:   wsql.DefaultPostgreSQLOffsetsAdapter{},
		InitializeSchema: true,
	}, logger)
}
