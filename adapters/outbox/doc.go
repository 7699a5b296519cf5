// Package outbox sends integration events out of the service: the event log is the outbox, a
// Relay the forwarder.
//
// Use cases append domain events atomically and know nothing of messaging. A Relay reads the
// global log (event.Log) after a persisted position, turns the records it cares about into
// watermill messages (Translator: one per kind of integration event, InvoiceFinalized today),
// publishes them, then moves its position. What "then" means depends on the transport:
//
//   - sql (PostgreSQL): messages and position commit in one transaction (Transactional), so
//     every message reaches its watermill-sql topic exactly once, in log order.
//   - nats (JetStream): publish, then save the position (Publisher and Cursors): at least once.
//     Each message has a stable ID, sent as JetStream's Nats-Msg-Id, so that the stream drops
//     a re-publish (after a crash between the two) within its duplicate window.
//   - channel (in process, the embedded default): a GoChannel, from the log head at start; its
//     consumers live in the process, so there is nothing to remember across restarts.
//
// The composition root opens a transport once (Open, from a Transport config), builds its relays
// on it (Endpoint.NewRelay) and runs them (Relay.Run); consumers subscribe through the same
// endpoint (Endpoint.Subscribe, Endpoint.NewSubscriber) with a consumer group.
//
// Adding an integration event is adding a Translator: a function from a stored record to
// messages, the event type it reads and the topic it writes (see InvoiceFinalized).
package outbox
