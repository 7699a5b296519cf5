package commands

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/components/cqrs"
	"github.com/ThreeDotsLabs/watermill/components/requestreply"
	"github.com/ThreeDotsLabs/watermill/message"
)

// Bus sends commands through watermill's CQRS command bus to their handlers and waits for the
// Outcome. The transport is whatever Pub/Sub the composition root gives (an in-process
// GoChannel by default); replies come back through an in-process requestreply backend, which
// keeps the handler's error typed (a domain sentinel stays matchable with errors.Is) instead of
// flattening it into a string as a serialising backend would.
type Bus struct {
	bus       *cqrs.CommandBus
	processor *cqrs.CommandProcessor
	replies   *replyBackend
	timeout   time.Duration
}

// BusConfig wires the bus to a transport.
type BusConfig struct {
	Router     *message.Router
	Publisher  message.Publisher
	Subscriber message.Subscriber
	Logger     watermill.LoggerAdapter
	// ReplyTimeout bounds how long Send waits for a handler; default 30 s.
	ReplyTimeout time.Duration
}

var marshaler = cqrs.JSONMarshaler{GenerateName: cqrs.StructName}

func commandTopic(name string) string { return "commands." + name }

// NewBus builds the command bus and processor; handlers are added with Register before the
// router runs.
func NewBus(c BusConfig) (*Bus, error) {
	if c.ReplyTimeout <= 0 {
		c.ReplyTimeout = 30 * time.Second
	}
	bus, err := cqrs.NewCommandBusWithConfig(c.Publisher, cqrs.CommandBusConfig{
		GeneratePublishTopic: func(p cqrs.CommandBusGeneratePublishTopicParams) (string, error) {
			return commandTopic(p.CommandName), nil
		},
		Marshaler: marshaler,
		Logger:    c.Logger,
	})
	if err != nil {
		return nil, fmt.Errorf("command bus: %w", err)
	}
	proc, err := cqrs.NewCommandProcessorWithConfig(c.Router, cqrs.CommandProcessorConfig{
		GenerateSubscribeTopic: func(p cqrs.CommandProcessorGenerateSubscribeTopicParams) (string, error) {
			return commandTopic(p.CommandName), nil
		},
		SubscriberConstructor: func(cqrs.CommandProcessorSubscriberConstructorParams) (message.Subscriber, error) {
			return c.Subscriber, nil
		},
		Marshaler: marshaler,
		Logger:    c.Logger,
	})
	if err != nil {
		return nil, fmt.Errorf("command processor: %w", err)
	}
	return &Bus{bus: bus, processor: proc, replies: newReplyBackend(), timeout: c.ReplyTimeout}, nil
}

// Register adds the handler of one command type. Its name is the command's struct name.
func Register[C Command](b *Bus, handle func(ctx context.Context, cmd C) (Outcome, error)) error {
	var zero C
	name := cqrs.StructName(zero)
	_, err := b.processor.AddHandler(requestreply.NewCommandHandlerWithResult[C, Outcome](name, b.replies,
		func(ctx context.Context, cmd *C) (Outcome, error) { return handle(ctx, *cmd) }))
	return err
}

// Send delivers cmd to its handler and returns the handler's Outcome and error.
func (b *Bus) Send(ctx context.Context, cmd Command) (Outcome, error) {
	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	reply, err := requestreply.SendWithReply[Outcome](ctx, b.bus, b.replies, cmd)
	if err != nil {
		return Outcome{}, fmt.Errorf("command %s: %w", cqrs.StructName(cmd), err)
	}
	return reply.HandlerResult, reply.Error
}

// replyBackend hands each handler's result to the goroutine waiting in Send, in memory.
type replyBackend struct {
	mu      sync.Mutex
	waiting map[requestreply.OperationID]chan requestreply.Reply[Outcome]
}

func newReplyBackend() *replyBackend {
	return &replyBackend{waiting: make(map[requestreply.OperationID]chan requestreply.Reply[Outcome])}
}

func (r *replyBackend) ListenForNotifications(ctx context.Context, p requestreply.BackendListenForNotificationsParams) (<-chan requestreply.Reply[Outcome], error) {
	ch := make(chan requestreply.Reply[Outcome], 1)
	r.mu.Lock()
	r.waiting[p.OperationID] = ch
	r.mu.Unlock()
	go func() {
		<-ctx.Done()
		r.mu.Lock()
		delete(r.waiting, p.OperationID)
		r.mu.Unlock()
	}()
	return ch, nil
}

// OnCommandProcessed always acks: the command was handled and its error, if any, went to the
// sender. Redelivering a refused command would only refuse it again.
func (r *replyBackend) OnCommandProcessed(_ context.Context, p requestreply.BackendOnCommandProcessedParams[Outcome]) error {
	if p.CommandMessage == nil {
		return errors.New("reply backend: command message missing")
	}
	op := requestreply.OperationID(p.CommandMessage.Metadata.Get(requestreply.OperationIDMetadataKey))
	r.mu.Lock()
	ch, ok := r.waiting[op]
	r.mu.Unlock()
	if ok {
		select {
		case ch <- requestreply.Reply[Outcome]{HandlerResult: p.HandlerResult, Error: p.HandleErr}:
		default:
		}
	}
	return nil
}
