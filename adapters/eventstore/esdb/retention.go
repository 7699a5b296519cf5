package esdb

import (
	"context"
	"encoding/json"
	"math"
	"time"

	esdbclient "github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"yorozu/domain/event"
)

// DeleteStream tombstones stream: reads of it are empty from now on, appends fail with
// event.ErrStreamDeleted, and its name can never be used again. The events leave $all for this
// store's readers at once (visibility.go) and leave the disk at the next scavenge; the tombstone
// itself stays.
func (s *Store) DeleteStream(ctx context.Context, stream string) error {
	if err := s.check(); err != nil {
		return err
	}
	_, err := s.client.TombstoneStream(ctx, stream, esdbclient.TombstoneStreamOptions{ExpectedRevision: esdbclient.Any{}})
	if err != nil && !isStreamDeleted(err) {
		return s.failure(ctx, "delete "+stream, err)
	}
	s.visible.remember(stream, streamVisibility{deleted: true})
	return nil
}

// TruncateBefore removes the events of stream with a version below version by raising the
// stream's $tb ("truncate before") metadata: reads stop returning them at once, a scavenge
// reclaims their space. $tb never passes the end of the stream, so events appended later stay
// readable; when it removes every event, the last version and hash go into the metadata for the
// next append to chain to.
func (s *Store) TruncateBefore(ctx context.Context, stream string, version uint64) error {
	if err := s.check(); err != nil {
		return err
	}
	if version <= 1 {
		return nil
	}
	last, err := s.readStream(ctx, stream, esdbclient.End{}, esdbclient.Backwards, 1)
	switch {
	case isStreamDeleted(err):
		return nil
	case err != nil:
		return s.failure(ctx, "read "+stream, err)
	case len(last) == 0:
		return nil // nothing left to remove
	}
	r, ours, err := decode(last[0])
	if err != nil || !ours {
		return err
	}
	keep := min(version, r.StreamVersion+1)
	var end *event.Record
	if keep > r.StreamVersion {
		end = &r
	}
	if err := s.truncate(ctx, stream, keep, end); err != nil {
		return s.failure(ctx, "truncate "+stream, err)
	}
	return nil
}

// truncate raises $tb of stream so that versions below keep are removed. When that removes every
// event, end is the last one: its version and hash go into the metadata for the next append.
func (s *Store) truncate(ctx context.Context, stream string, keep uint64, end *event.Record) error {
	meta, err := s.readMeta(ctx, stream)
	if err != nil {
		return err
	}
	tb := revisionOf(keep)
	err = s.updateMeta(ctx, stream, meta, func(m *streamMeta) bool {
		if cur, ok := m.truncateBefore(); ok && cur >= tb {
			return false
		}
		m.setTruncateBefore(tb)
		if end != nil {
			m.setTip(end.StreamVersion, end.Hash)
		}
		return true
	})
	s.visible.forget(stream)
	return err
}

// partitionedStreams lists the time-partitioned streams, one event per stream written before its
// first event (and again if it ever shows no event), so that ExpireBefore finds them without
// reading $all. It is a system stream, so it never shows in ReadAll.
const partitionedStreams = "$yorozu-time-partitioned"

const partitionedEventType = "TimePartitionedStreamStarted"

type partitionedDoc struct {
	Stream string `json:"stream"`
}

// registerPartitioned adds stream to partitionedStreams.
func (s *Store) registerPartitioned(ctx context.Context, stream string) error {
	data, err := json.Marshal(partitionedDoc{Stream: stream})
	if err != nil {
		return err
	}
	_, err = s.client.AppendToStream(ctx, partitionedStreams, esdbclient.AppendToStreamOptions{ExpectedRevision: esdbclient.Any{}},
		esdbclient.EventData{EventID: uuid.New(), EventType: partitionedEventType, ContentType: esdbclient.ContentTypeJson, Data: data})
	return err
}

// ExpireBefore removes the events of time-partitioned streams recorded before the UTC day that
// contains cutoff, by raising each such stream's $tb to its first version recorded on or after
// that day (past its end when there is none), so that reads stop returning them at once. The
// $maxAge those streams carry does the same on the server's clock, and a scavenge reclaims the
// space of both. A stream's events go as a prefix: an event recorded before the day but stored
// after one recorded on it stays.
//
// The streams come from the list Append keeps (partitionedStreams), not from $all: every
// telemetry event matches a "telemetry-" filter, so even a server-side filtered read of $all
// would go through all the telemetry retention keeps, while each stream read here starts at its
// first event still readable, which after the previous run is about a day old.
func (s *Store) ExpireBefore(ctx context.Context, cutoff time.Time) error {
	if err := s.check(); err != nil {
		return err
	}
	c := cutoff.UTC()
	day := time.Date(c.Year(), c.Month(), c.Day(), 0, 0, 0, 0, time.UTC)

	evs, err := s.readStream(ctx, partitionedStreams, esdbclient.Start{}, esdbclient.Forwards, math.MaxUint64)
	if err != nil {
		return s.failure(ctx, "read "+partitionedStreams, err)
	}
	seen := make(map[string]bool, len(evs))
	var names []string
	for _, ev := range evs {
		var doc partitionedDoc
		if json.Unmarshal(ev.Data, &doc) != nil || doc.Stream == "" || seen[doc.Stream] {
			continue
		}
		seen[doc.Stream] = true
		names = append(names, doc.Stream)
	}
	return forEach(len(names), 8, func(i int) error {
		if err := s.expireStream(ctx, names[i], day); err != nil && !isStreamDeleted(err) {
			return s.failure(ctx, "expire "+names[i], err)
		}
		return nil
	})
}

// expirePage is how many events of a stream ExpireBefore reads at a time.
const expirePage = 256

// expireStream truncates stream before its first event recorded on or after day.
func (s *Store) expireStream(ctx context.Context, stream string, day time.Time) error {
	var from esdbclient.StreamPosition = esdbclient.Start{}
	var last event.Record
	for {
		evs, err := s.readStream(ctx, stream, from, esdbclient.Forwards, expirePage)
		if err != nil {
			return err
		}
		for _, ev := range evs {
			r, ours, err := decode(ev)
			if err != nil {
				return err
			}
			if !ours {
				continue
			}
			if !r.RecordedAt.Before(day) {
				if last.StreamVersion == 0 {
					return nil // its first readable event is recent enough: nothing to remove
				}
				return s.truncate(ctx, stream, r.StreamVersion, nil)
			}
			last = r
		}
		if len(evs) < expirePage {
			break
		}
		from = esdbclient.Revision(evs[len(evs)-1].EventNumber + 1)
	}
	if last.StreamVersion == 0 {
		return nil // shows no event
	}
	return s.truncate(ctx, stream, last.StreamVersion+1, &last)
}
