package esdb

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	esdbclient "github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"yorozu/domain/event"
)

// Keys of a stream's metadata document. The first two are the server's; the tip is ours.
const (
	metaTruncateBefore = "$tb"     // revision below which events are removed
	metaMaxAge         = "$maxAge" // seconds after which events are removed
	// metaTip is the version and hash of the stream's last event, written when a truncation
	// removes every event: the server still knows the stream's revision but no longer returns
	// the event whose hash the next append must chain to.
	metaTip = "yorozuTip"
)

// streamMeta is a stream's metadata document (the last event of "$$stream"), kept as raw JSON so
// that keys this package does not know (ACLs, $maxCount, another tool's keys) survive a rewrite.
type streamMeta struct {
	fields map[string]json.RawMessage
	// exists and revision say where the document was read from, for the optimistic write back.
	exists   bool
	revision uint64
}

type tipDoc struct {
	Version uint64 `json:"version"`
	Hash    string `json:"hash"`
}

func metastream(stream string) string { return "$$" + stream }

func parseStreamMeta(data []byte) (streamMeta, error) {
	m := streamMeta{fields: map[string]json.RawMessage{}}
	if len(data) == 0 {
		return m, nil
	}
	if err := json.Unmarshal(data, &m.fields); err != nil {
		return m, fmt.Errorf("stream metadata: %w", err)
	}
	if m.fields == nil { // the document was JSON null
		m.fields = map[string]json.RawMessage{}
	}
	return m, nil
}

func (m streamMeta) encode() ([]byte, error) {
	if m.fields == nil {
		return []byte("{}"), nil
	}
	return json.Marshal(m.fields)
}

func (m *streamMeta) set(key string, v any) {
	b, _ := json.Marshal(v) // integers and tipDoc always marshal
	if m.fields == nil {
		m.fields = map[string]json.RawMessage{}
	}
	m.fields[key] = b
}

// uint reads a non-negative integer key. Other clients may have written it as 1.0 or 1e3.
func (m streamMeta) uint(key string) (uint64, bool) {
	raw, ok := m.fields[key]
	// A quoted number would decode into json.Number, but the server does not read it as one.
	if !ok || len(raw) == 0 || raw[0] == '"' {
		return 0, false
	}
	var n json.Number
	if json.Unmarshal(raw, &n) != nil {
		return 0, false
	}
	if v, err := strconv.ParseUint(n.String(), 10, 64); err == nil {
		return v, true
	}
	if f, err := n.Float64(); err == nil && f >= 0 {
		return uint64(f), true
	}
	return 0, false
}

// truncateBefore is $tb: the first revision still readable.
func (m streamMeta) truncateBefore() (uint64, bool) { return m.uint(metaTruncateBefore) }

func (m *streamMeta) setTruncateBefore(revision uint64) { m.set(metaTruncateBefore, revision) }

func (m streamMeta) maxAge() (time.Duration, bool) {
	secs, ok := m.uint(metaMaxAge)
	return time.Duration(secs) * time.Second, ok
}

// setMaxAge sets $maxAge, which the server counts in whole seconds (at least one).
func (m *streamMeta) setMaxAge(d time.Duration) { m.set(metaMaxAge, max(int64(d/time.Second), 1)) }

func (m streamMeta) tip() (version uint64, hash event.Hash, ok bool) {
	raw, found := m.fields[metaTip]
	if !found {
		return 0, hash, false
	}
	var t tipDoc
	if json.Unmarshal(raw, &t) != nil || t.Version == 0 {
		return 0, hash, false
	}
	hash, err := event.ParseHash(t.Hash)
	if err != nil {
		return 0, hash, false
	}
	return t.Version, hash, true
}

func (m *streamMeta) setTip(version uint64, hash event.Hash) {
	m.set(metaTip, tipDoc{Version: version, Hash: hash.String()})
}

// readMeta reads the metadata document of stream; a stream without one has an empty document.
func (s *Store) readMeta(ctx context.Context, stream string) (streamMeta, error) {
	evs, err := s.readStream(ctx, metastream(stream), esdbclient.End{}, esdbclient.Backwards, 1)
	if err != nil {
		return streamMeta{}, err
	}
	if len(evs) == 0 {
		return parseStreamMeta(nil)
	}
	m, err := parseStreamMeta(evs[0].Data)
	if err != nil {
		return m, fmt.Errorf("eventstoredb: %s: %w", stream, err)
	}
	m.exists, m.revision = true, evs[0].EventNumber
	return m, nil
}

// updateMeta applies change to the metadata document m of stream and writes it back if change
// reports a change. The write expects the document m was read from; when another writer got
// there first the document is read again and change applied to it again, so change must decide
// from the document alone.
func (s *Store) updateMeta(ctx context.Context, stream string, m streamMeta, change func(*streamMeta) bool) error {
	for try := 0; try < 5; try++ {
		if !change(&m) {
			return nil
		}
		data, err := m.encode()
		if err != nil {
			return err
		}
		var expected esdbclient.ExpectedRevision = esdbclient.NoStream{}
		if m.exists {
			expected = esdbclient.StreamRevision{Value: m.revision}
		}
		_, err = s.client.AppendToStream(ctx, metastream(stream),
			esdbclient.AppendToStreamOptions{ExpectedRevision: expected},
			esdbclient.EventData{EventID: uuid.New(), EventType: "$metadata", ContentType: esdbclient.ContentTypeJson, Data: data})
		if !isWrongExpectedVersion(err) {
			return err
		}
		if m, err = s.readMeta(ctx, stream); err != nil {
			return err
		}
	}
	return fmt.Errorf("eventstoredb: metadata of %s keeps changing under us", stream)
}
