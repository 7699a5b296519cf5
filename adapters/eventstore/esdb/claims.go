package esdb

// Event-ID claims.
//
// EventStoreDB has no index by event ID, and its own idempotence only compares a retried append
// with the events at the expected revision of the same stream. The port asks for more: a batch
// re-appended after other events were added is recognised, and an ID stored in one stream is
// refused in another. So before the events of a stream that is not time-partitioned are appended,
// each of their IDs is claimed: one event in the system stream "$yorozu-eventid-<id>", appended
// only if that stream does not exist yet, naming the stream and version the event is meant for.
//
// A claim is a promise, not a fact: the append after it may lose a race or fail, and its event
// may be removed later. So a claim found in the way is checked against the stream it names:
//
//   - the event with this ID is there: the ID is stored (in this stream, the batch may be a
//     re-append; in another stream, ErrDuplicateEvent);
//   - it names another stream, nothing is at its version, and it is younger than claimGrace:
//     that append may still land, so the ID is refused (ErrDuplicateEvent);
//   - otherwise the claim did not hold (another event took the version, the event was removed,
//     or the append never happened): it is taken over by appending a new claim at the claim
//     stream's current revision, which only one of several writers can do.
//
// Time-partitioned streams (telemetry) are not claimed: that would double their writes, the
// bulk of all writes, and leave a claim stream behind for every expired event. A re-append to
// them is recognised within the last Options.IdempotencyWindow events of the same stream, and an
// ID reused across them is not detected.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	esdbclient "github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"yorozu/domain/event"
)

// claimGrace is how long a claim on another stream whose event is not there is taken to be an
// append still in flight.
const claimGrace = time.Minute

const claimEventType = "EventIdClaimed"

func claimStream(id uuid.UUID) string { return "$yorozu-eventid-" + id.String() }

type claimBody struct {
	Stream  string `json:"stream"`
	Version uint64 `json:"version"`
}

type heldClaim struct {
	body     claimBody
	revision uint64    // of the claim in its claim stream
	at       time.Time // when the server wrote it
}

type claimOutcome int

const (
	claimHeld            claimOutcome = iota // the ID is ours to append
	claimStoredHere                          // the ID is stored in this stream
	claimStoredElsewhere                     // the ID is stored, or about to be, in another stream
)

// claim claims the IDs of drafts for stream, drafts[i] at version base+1+i. stored reports that
// the batch is already in the stream, with the result of its first append.
func (s *Store) claim(ctx context.Context, stream string, base uint64, drafts []event.Draft) (res event.AppendResult, stored bool, err error) {
	outcomes := make([]claimOutcome, len(drafts))
	versions := make([]uint64, len(drafts))
	err = forEach(len(drafts), 16, func(i int) error {
		var err error
		outcomes[i], versions[i], err = s.claimOne(ctx, stream, drafts[i].ID, base+1+uint64(i))
		return err
	})
	if err != nil {
		return res, false, s.failure(ctx, "claim event ids", err)
	}
	here := 0
	for i, o := range outcomes {
		switch o {
		case claimStoredElsewhere:
			return res, false, fmt.Errorf("%w: event %s is stored in another stream", event.ErrDuplicateEvent, drafts[i].ID)
		case claimStoredHere:
			here++
		}
	}
	if here == 0 {
		return res, false, nil
	}
	for i := range drafts {
		if outcomes[i] != claimStoredHere || versions[i] != versions[0]+uint64(i) {
			return res, false, fmt.Errorf("%w: the batch overlaps events stored in %s", event.ErrDuplicateEvent, stream)
		}
	}
	res, err = s.storedBatch(ctx, stream, versions[0], drafts)
	return res, true, err
}

// claimOne claims id for version of stream; for an ID already stored in stream it returns where.
func (s *Store) claimOne(ctx context.Context, stream string, id uuid.UUID, version uint64) (claimOutcome, uint64, error) {
	name := claimStream(id)
	data, err := json.Marshal(claimBody{Stream: stream, Version: version})
	if err != nil {
		return 0, 0, err
	}
	var expected esdbclient.ExpectedRevision = esdbclient.NoStream{}
	for try := 0; try < 3; try++ {
		_, err := s.client.AppendToStream(ctx, name, esdbclient.AppendToStreamOptions{ExpectedRevision: expected},
			esdbclient.EventData{EventID: uuid.New(), EventType: claimEventType, ContentType: esdbclient.ContentTypeJson, Data: data})
		if err == nil {
			return claimHeld, version, nil
		}
		if !isWrongExpectedVersion(err) {
			return 0, 0, err
		}
		held, err := s.readClaim(ctx, name)
		if err != nil {
			return 0, 0, err
		}
		if held == nil { // claim streams have no metadata that could hide their events
			return 0, 0, fmt.Errorf("claim stream %s exists but reads empty", name)
		}
		outcome, stale, err := s.judgeClaim(ctx, stream, id, held)
		if err != nil || !stale {
			return outcome, held.body.Version, err
		}
		expected = esdbclient.StreamRevision{Value: held.revision}
	}
	return 0, 0, fmt.Errorf("the claim of event id %s keeps changing", id)
}

// readClaim reads the claim that holds now; nil when the ID was never claimed.
func (s *Store) readClaim(ctx context.Context, name string) (*heldClaim, error) {
	evs, err := s.readStream(ctx, name, esdbclient.End{}, esdbclient.Backwards, 1)
	if err != nil || len(evs) == 0 {
		return nil, err
	}
	var b claimBody
	if err := json.Unmarshal(evs[0].Data, &b); err != nil || b.Stream == "" || b.Version == 0 {
		return nil, fmt.Errorf("claim stream %s holds %q", name, evs[0].Data)
	}
	return &heldClaim{body: b, revision: evs[0].EventNumber, at: evs[0].CreatedDate}, nil
}

// judgeClaim says what a claim found in the way means for appending id to stream (see the top
// of this file); stale means it did not hold and may be taken over.
func (s *Store) judgeClaim(ctx context.Context, stream string, id uuid.UUID, held *heldClaim) (outcome claimOutcome, stale bool, err error) {
	ev, err := s.eventAt(ctx, held.body.Stream, held.body.Version)
	if err != nil {
		return 0, false, err
	}
	switch {
	case ev != nil && ev.EventID == id && held.body.Stream == stream:
		return claimStoredHere, false, nil
	case ev != nil && ev.EventID == id:
		return claimStoredElsewhere, false, nil
	case ev == nil && held.body.Stream != stream && s.opts.Now().Sub(held.at) < claimGrace:
		return claimStoredElsewhere, false, nil
	}
	return claimHeld, true, nil
}

// claimedBatch looks for drafts[0] through its claim without claiming anything. It is asked when
// an append is refused by its expected version, which is what the retry of an append that did
// succeed looks like.
func (s *Store) claimedBatch(ctx context.Context, stream string, drafts []event.Draft) (res event.AppendResult, found bool, err error) {
	held, err := s.readClaim(ctx, claimStream(drafts[0].ID))
	if err != nil || held == nil {
		return res, false, s.failure(ctx, "read claim", err)
	}
	outcome, stale, err := s.judgeClaim(ctx, stream, drafts[0].ID, held)
	switch {
	case err != nil:
		return res, false, s.failure(ctx, "read claim", err)
	case stale:
		return res, false, nil
	case outcome == claimStoredElsewhere:
		return res, false, fmt.Errorf("%w: event %s is stored in another stream", event.ErrDuplicateEvent, drafts[0].ID)
	}
	res, err = s.storedBatch(ctx, stream, held.body.Version, drafts)
	return res, true, err
}

// storedBatch checks that drafts are the events stored in stream from version first on, in
// order and with the same type and data, and returns the result their append had; otherwise the
// batch only overlaps stored events and is refused.
func (s *Store) storedBatch(ctx context.Context, stream string, first uint64, drafts []event.Draft) (event.AppendResult, error) {
	evs, err := s.readStream(ctx, stream, esdbclient.Revision(revisionOf(first)), esdbclient.Forwards, uint64(len(drafts)))
	if err != nil {
		return event.AppendResult{}, s.failure(ctx, "read "+stream, err)
	}
	overlap := fmt.Errorf("%w: the batch overlaps events stored in %s from version %d", event.ErrDuplicateEvent, stream, first)
	if len(evs) != len(drafts) {
		return event.AppendResult{}, overlap
	}
	for i, d := range drafts {
		ev := evs[i]
		if ev.EventID != d.ID || ev.EventNumber != revisionOf(first)+uint64(i) || ev.EventType != d.Type || !bytes.Equal(ev.Data, d.Data) {
			return event.AppendResult{}, overlap
		}
	}
	return event.AppendResult{
		FirstVersion: first,
		LastVersion:  first + uint64(len(drafts)) - 1,
		LastPosition: event.Position(evs[len(evs)-1].Position.Commit),
	}, nil
}
