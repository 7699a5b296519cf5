package esdb

import (
	"context"
	"errors"
	"io"
	"math"

	esdbclient "github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"yorozu/domain/event"
)

// Page sizes of reads of $all. ReadAll skips server events (projection links, metadata, our
// claims) client-side, so a page of events of ours costs several pages of $all.
const (
	allPage  = 512
	headPage = 64
)

// ReadStream returns up to limit events of stream from version from on, as the server shows
// them: without the events removed by TruncateBefore, ExpireBefore or $maxAge. A stream that
// never existed or was deleted reads as empty.
func (s *Store) ReadStream(ctx context.Context, stream string, from uint64, limit int) ([]event.Record, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	from = max(from, 1)
	count := uint64(math.MaxUint64)
	if limit > 0 {
		count = uint64(limit)
	}
	evs, err := s.readStream(ctx, stream, esdbclient.Revision(revisionOf(from)), esdbclient.Forwards, count)
	if isStreamDeleted(err) {
		return nil, nil
	}
	if err != nil {
		return nil, s.failure(ctx, "read "+stream, err)
	}
	out := make([]event.Record, 0, len(evs))
	for _, ev := range evs {
		r, ours, err := decode(ev)
		if err != nil {
			return nil, err
		}
		if ours {
			out = append(out, r)
		}
	}
	return out, nil
}

// ReadAll returns up to limit events of ours with Position > after, in commit order; limit <= 0
// means all. $all is read without a server-side filter because ReadAllOptions of the client
// (v4.2.0) has none: server events are skipped here, and so are the events a deletion,
// truncation or retention removed but a scavenge has not reclaimed yet (see visibility.go).
func (s *Store) ReadAll(ctx context.Context, after event.Position, limit int) ([]event.Record, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	want := limit
	if limit <= 0 {
		want = math.MaxInt
	}
	var out []event.Record
	from, seen := allPositionAfter(after), uint64(after)
	for len(out) < want {
		page, err := s.readAll(ctx, from, esdbclient.Forwards, allPage)
		if err != nil {
			return nil, s.failure(ctx, "read $all", err)
		}
		var recs []event.Record
		for _, ev := range page {
			// Reading $all from a position includes the event at it.
			if ev.Position.Commit <= seen {
				continue
			}
			seen = ev.Position.Commit
			r, ours, err := decode(ev)
			if err != nil {
				return nil, err
			}
			if ours {
				recs = append(recs, r)
			}
		}
		if recs, err = s.onlyVisible(ctx, recs); err != nil {
			return nil, s.failure(ctx, "read $all", err)
		}
		out = append(out, recs[:min(len(recs), want-len(out))]...)
		if len(page) < allPage {
			break
		}
		// The server's own position of the last event, which it accepts back as a start.
		from = page[len(page)-1].Position
	}
	return out, nil
}

// Head is the position of the last event ReadAll would return (0 when there is none).
func (s *Store) Head(ctx context.Context) (event.Position, error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	var from esdbclient.AllPosition = esdbclient.End{}
	below := uint64(math.MaxUint64)
	for {
		page, err := s.readAll(ctx, from, esdbclient.Backwards, headPage)
		if err != nil {
			return 0, s.failure(ctx, "read $all", err)
		}
		for _, ev := range page {
			if ev.Position.Commit >= below {
				continue
			}
			below = ev.Position.Commit
			r, ours, err := decode(ev)
			if err != nil {
				return 0, err
			}
			if !ours {
				continue
			}
			// A projection whose checkpoint must reach Head would wait forever for a removed
			// event that Subscribe never delivers.
			kept, err := s.onlyVisible(ctx, []event.Record{r})
			if err != nil {
				return 0, s.failure(ctx, "read $all", err)
			}
			if len(kept) == 1 {
				return r.Position, nil
			}
		}
		if len(page) < headPage {
			return 0, nil
		}
		// Reading backwards from a position excludes the event at it.
		from = page[len(page)-1].Position
	}
}

// Subscribe delivers the events of ours after `after`: those stored, then each new one as it
// commits, through one catch-up subscription to $all that the server switches to live. The
// server filters out $-prefixed streams; server events in user streams and removed events are
// skipped here as in ReadAll. It returns fn's error, ctx's error when ctx ends, ErrClosed after
// Close, or the error that dropped the subscription (the caller resumes from its checkpoint).
func (s *Store) Subscribe(ctx context.Context, after event.Position, fn func(event.Record) error) error {
	if err := s.check(); err != nil {
		return err
	}
	sub, err := s.client.SubscribeToAll(ctx, esdbclient.SubscribeToAllOptions{
		// Unlike a read, a subscription starts after the position it is given.
		From:   allPositionAfter(after),
		Filter: userStreams(),
	})
	if err != nil {
		return s.failure(ctx, "subscribe to $all", err)
	}
	defer sub.Close()
	for {
		msg := sub.Recv()
		switch {
		case msg.SubscriptionDropped != nil:
			err := msg.SubscriptionDropped.Error
			if err == nil {
				err = errors.New("subscription dropped")
			}
			return s.failure(ctx, "subscription to $all", err)
		case msg.EventAppeared == nil || msg.EventAppeared.Event == nil:
			continue // checkpoints, caught-up and fell-behind notices
		}
		ev := msg.EventAppeared.Event
		if ev.Position.Commit <= uint64(after) {
			continue
		}
		r, ours, err := decode(ev)
		if err != nil {
			return err
		}
		if !ours {
			continue
		}
		kept, err := s.onlyVisible(ctx, []event.Record{r})
		if err != nil {
			return s.failure(ctx, "subscription to $all", err)
		}
		if len(kept) == 0 {
			continue
		}
		if err := fn(r); err != nil {
			return err
		}
		after = r.Position
	}
}

// userStreams is the server-side filter of Subscribe: streams not starting with '$'.
func userStreams() *esdbclient.SubscriptionFilter {
	return &esdbclient.SubscriptionFilter{Type: esdbclient.StreamFilterType, Regex: `^[^$]`}
}

// allPositionAfter is where reading or subscribing for events after p starts. Every position the
// store hands out is the commit position of an event written through gRPC, whose prepare
// position is the same, so (p, p) is that event's exact place in the log.
func allPositionAfter(p event.Position) esdbclient.AllPosition {
	if p == 0 {
		return esdbclient.Start{}
	}
	return esdbclient.Position{Commit: uint64(p), Prepare: uint64(p)}
}

// readStream reads up to count events of a server stream. A stream that does not exist (or whose
// every event is removed) reads as no events; a deleted one fails with the client's
// StreamDeleted error.
func (s *Store) readStream(ctx context.Context, stream string, from esdbclient.StreamPosition, dir esdbclient.Direction, count uint64) ([]*esdbclient.RecordedEvent, error) {
	rs, err := s.client.ReadStream(ctx, stream, esdbclient.ReadStreamOptions{From: from, Direction: dir}, count)
	if err != nil {
		return nil, err
	}
	return drain(rs)
}

// readAll reads up to count events of $all, server events included.
func (s *Store) readAll(ctx context.Context, from esdbclient.AllPosition, dir esdbclient.Direction, count uint64) ([]*esdbclient.RecordedEvent, error) {
	rs, err := s.client.ReadAll(ctx, esdbclient.ReadAllOptions{From: from, Direction: dir}, count)
	if err != nil {
		return nil, err
	}
	return drain(rs)
}

func drain(rs *esdbclient.ReadStream) ([]*esdbclient.RecordedEvent, error) {
	defer rs.Close()
	var out []*esdbclient.RecordedEvent
	for {
		ev, err := rs.Recv()
		switch {
		case errors.Is(err, io.EOF):
			return out, nil
		case isNotFound(err):
			return nil, nil
		case err != nil:
			return nil, err
		case ev.Event != nil:
			out = append(out, ev.Event)
		}
	}
}

// eventAt is the event at version v of stream as readers see it now, or nil when the stream
// holds none there (never written, removed, or the stream deleted).
func (s *Store) eventAt(ctx context.Context, stream string, v uint64) (*esdbclient.RecordedEvent, error) {
	evs, err := s.readStream(ctx, stream, esdbclient.Revision(revisionOf(v)), esdbclient.Forwards, 1)
	if isStreamDeleted(err) {
		return nil, nil
	}
	if err != nil || len(evs) == 0 {
		return nil, err
	}
	// Reading from a removed revision starts at the first one kept.
	if evs[0].EventNumber != revisionOf(v) {
		return nil, nil
	}
	return evs[0], nil
}
