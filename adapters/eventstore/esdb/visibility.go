package esdb

import (
	"context"
	"sync"
	"time"

	esdbclient "github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"yorozu/domain/event"
)

// visibility answers, for an event read from $all, whether ReadStream would still return it.
//
// $all bypasses stream metadata and tombstones: an event removed by DeleteStream, TruncateBefore,
// ExpireBefore or $maxAge stays in $all until a scavenge rewrites its chunk, and the chunk being
// written is never scavenged. The port promises that removed events are gone from the global log
// too, and a projection replaying $all must not see telemetry it already saw expire.
//
// So for each stream met in $all the store asks the server once which revision a read of the
// stream starts at (one event read forwards from the start), and keeps the answer for a while:
//
//   - a deleted stream hides all its events, for good;
//   - a stream whose first readable revision is f hides the revisions below f. Removal only
//     ever raises f, so an event at or after f may have been removed since the answer: the
//     cache's time to live bounds how long such an event can still be shown;
//   - a stream with no readable event hides every revision up to the highest one asked about;
//     a higher revision was appended since and is asked about again.
//
// Removals made through this Store update the cache at once.
type visibility struct {
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex
	streams map[string]streamVisibility
}

// maxVisibilityEntries bounds the cache; when it is full it starts over, which costs one read
// per stream met afterwards and nothing else.
const maxVisibilityEntries = 100_000

type streamVisibility struct {
	deleted    bool
	readable   bool   // a read of the stream returns events, from revision first on
	first      uint64 // readable: the first revision returned
	hiddenUpTo uint64 // neither deleted nor readable: revisions up to this one are removed
	at         time.Time
}

func newVisibility(ttl time.Duration, now func() time.Time) *visibility {
	return &visibility{ttl: ttl, now: now, streams: make(map[string]streamVisibility)}
}

// shows reports whether revision is readable according to e; known is false when e cannot tell.
func (e streamVisibility) shows(revision uint64) (visible, known bool) {
	switch {
	case e.deleted:
		return false, true
	case e.readable:
		return revision >= e.first, true
	case revision <= e.hiddenUpTo:
		return false, true
	}
	return false, false
}

func (v *visibility) lookup(stream string) (streamVisibility, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	e, ok := v.streams[stream]
	if !ok || (!e.deleted && v.now().Sub(e.at) >= v.ttl) {
		return e, false
	}
	return e, true
}

func (v *visibility) remember(stream string, e streamVisibility) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.streams) >= maxVisibilityEntries {
		v.streams = make(map[string]streamVisibility)
	}
	e.at = v.now()
	v.streams[stream] = e
}

func (v *visibility) forget(stream string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	delete(v.streams, stream)
}

// onlyVisible keeps the records that a read of their stream would return now.
func (s *Store) onlyVisible(ctx context.Context, recs []event.Record) ([]event.Record, error) {
	if len(recs) == 0 {
		return recs, nil
	}
	known := make(map[string]streamVisibility)
	ask := make(map[string]uint64) // stream → highest revision to ask about
	for _, r := range recs {
		rev := revisionOf(r.StreamVersion)
		e, ok := known[r.Stream]
		if !ok {
			if e, ok = s.visible.lookup(r.Stream); ok {
				known[r.Stream] = e
			}
		}
		if ok {
			if _, sure := e.shows(rev); sure {
				continue
			}
		}
		ask[r.Stream] = max(ask[r.Stream], rev)
	}
	if len(ask) > 0 {
		names := make([]string, 0, len(ask))
		for name := range ask {
			names = append(names, name)
		}
		answers := make([]streamVisibility, len(names))
		err := forEach(len(names), 16, func(i int) error {
			e, err := s.readableFrom(ctx, names[i], ask[names[i]])
			answers[i] = e
			return err
		})
		if err != nil {
			return nil, err
		}
		for i, name := range names {
			s.visible.remember(name, answers[i])
			known[name] = answers[i]
		}
	}
	out := make([]event.Record, 0, len(recs))
	for _, r := range recs {
		if ok, sure := known[r.Stream].shows(revisionOf(r.StreamVersion)); ok || !sure {
			out = append(out, r)
		}
	}
	return out, nil
}

// readableFrom asks the server where a read of stream starts; revision is the highest revision
// of it the caller holds, which exists, so a stream without readable events hides it.
func (s *Store) readableFrom(ctx context.Context, stream string, revision uint64) (streamVisibility, error) {
	evs, err := s.readStream(ctx, stream, esdbclient.Start{}, esdbclient.Forwards, 1)
	switch {
	case isStreamDeleted(err):
		return streamVisibility{deleted: true}, nil
	case err != nil:
		return streamVisibility{}, err
	case len(evs) == 0:
		return streamVisibility{hiddenUpTo: revision}, nil
	}
	return streamVisibility{readable: true, first: evs[0].EventNumber}, nil
}
