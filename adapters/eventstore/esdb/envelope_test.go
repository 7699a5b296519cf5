package esdb

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	esdbclient "github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"yorozu/domain/event"
)

// stored is what the server hands back for a sealed record written at the given position.
func stored(t *testing.T, r event.Record, position uint64) *esdbclient.RecordedEvent {
	t.Helper()
	d, err := eventData(r)
	if err != nil {
		t.Fatal(err)
	}
	return &esdbclient.RecordedEvent{
		EventID:      d.EventID,
		EventType:    d.EventType,
		ContentType:  "application/json",
		StreamID:     r.Stream,
		EventNumber:  revisionOf(r.StreamVersion),
		Position:     esdbclient.Position{Commit: position, Prepare: position},
		CreatedDate:  time.Now(),
		Data:         d.Data,
		UserMetadata: d.Metadata,
	}
}

func sealed(version uint64, prev event.Hash) event.Record {
	return event.Seal(event.Draft{
		ID:            uuid.New(),
		Type:          "OrderAccepted",
		SchemaVersion: 2,
		EffectiveAt:   time.Date(2025, 6, 30, 15, 0, 0, 0, time.FixedZone("JST", 9*3600)),
		RecordedAt:    time.Date(2025, 7, 1, 7, 0, 0, 123456789, time.UTC),
		Actor:         "staff-1",
		CommandID:     "cmd-1",
		CorrelationID: "corr-1",
		CausationID:   "cause-1",
		Data:          json.RawMessage(`{"b":2,"a":"順序  と空白"}`),
	}, "order-1", version, prev)
}

func TestEnvelopeSurvivesTheServer(t *testing.T) {
	first := sealed(1, event.Hash{})
	second := sealed(2, first.Hash)
	for _, want := range []event.Record{first, second} {
		got, ours, err := decode(stored(t, want, 4242))
		if err != nil || !ours {
			t.Fatalf("decode: ours=%v err=%v", ours, err)
		}
		want.Position = 4242
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("record changed on the way through the server (-want +got):\n%s", diff)
		}
		if event.ComputeHash(&got) != got.Hash {
			t.Fatal("decoded record no longer matches its hash")
		}
	}
}

func TestEnvelopeUsesTheServersCorrelationKeys(t *testing.T) {
	d, err := eventData(sealed(1, event.Hash{}))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(d.Metadata, &m); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]any{"$correlationId": "corr-1", "$causationId": "cause-1", "yorozu": 1.0, "version": 1.0} {
		if m[key] != want {
			t.Errorf("metadata[%q] = %v, want %v (metadata %s)", key, m[key], want, d.Metadata)
		}
	}
	if d.ContentType != esdbclient.ContentTypeJson || string(d.Data) != `{"b":2,"a":"順序  と空白"}` {
		t.Errorf("data is not passed byte for byte as JSON: %v %s", d.ContentType, d.Data)
	}
}

func TestEventsThatAreNotOursAreSkipped(t *testing.T) {
	ours := stored(t, sealed(1, event.Hash{}), 1)
	cases := map[string]func(ev *esdbclient.RecordedEvent){
		"projection link":       func(ev *esdbclient.RecordedEvent) { ev.StreamID, ev.EventType = "$ce-order", "$>" },
		"stream metadata":       func(ev *esdbclient.RecordedEvent) { ev.StreamID, ev.EventType = "$$order-1", "$metadata" },
		"our own claim":         func(ev *esdbclient.RecordedEvent) { ev.StreamID = claimStream(uuid.New()) },
		"tombstone":             func(ev *esdbclient.RecordedEvent) { ev.EventType = "$streamDeleted" },
		"no metadata":           func(ev *esdbclient.RecordedEvent) { ev.UserMetadata = nil },
		"binary metadata":       func(ev *esdbclient.RecordedEvent) { ev.UserMetadata = []byte{0xff, 0x00} },
		"another tool's fields": func(ev *esdbclient.RecordedEvent) { ev.UserMetadata = []byte(`{"$correlationId":"x"}`) },
	}
	for name, change := range cases {
		ev := *ours
		change(&ev)
		if _, mine, err := decode(&ev); mine || err != nil {
			t.Errorf("%s: ours=%v err=%v, want skipped without error", name, mine, err)
		}
	}
	if _, mine, err := decode(nil); mine || err != nil {
		t.Errorf("nil event: ours=%v err=%v", mine, err)
	}
}

func TestDamagedEnvelopesAreErrors(t *testing.T) {
	ours := stored(t, sealed(3, event.Hash{1}), 1)
	cases := map[string]func(ev *esdbclient.RecordedEvent){
		"version is not the revision + 1": func(ev *esdbclient.RecordedEvent) { ev.EventNumber = 7 },
		"unknown envelope format":         func(ev *esdbclient.RecordedEvent) { ev.UserMetadata = []byte(`{"yorozu":2}`) },
		"hash is not hex": func(ev *esdbclient.RecordedEvent) {
			ev.UserMetadata = []byte(strings.Replace(string(ev.UserMetadata), `"hash":"`, `"hash":"zz`, 1))
		},
		"time is not a time": func(ev *esdbclient.RecordedEvent) {
			ev.UserMetadata = []byte(strings.Replace(string(ev.UserMetadata), `"recordedAt":"`, `"recordedAt":"x`, 1))
		},
	}
	for name, change := range cases {
		ev := *ours
		change(&ev)
		if _, _, err := decode(&ev); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
}

func TestVersionsAreRevisionsPlusOne(t *testing.T) {
	for _, v := range []uint64{1, 2, 1 << 40} {
		if got := versionOf(revisionOf(v)); got != v {
			t.Errorf("version %d → revision %d → version %d", v, revisionOf(v), got)
		}
	}
	if revisionOf(1) != 0 {
		t.Errorf("version 1 is revision %d, want 0", revisionOf(1))
	}
	if _, ok := expectedRevision(0).(esdbclient.NoStream); !ok {
		t.Errorf("a stream at version 0 is expected as %T, want NoStream", expectedRevision(0))
	}
	if got := expectedRevision(3); got != (esdbclient.StreamRevision{Value: 2}) {
		t.Errorf("a stream at version 3 is expected as %#v, want revision 2", got)
	}
}

func TestReadingAfterAPositionStartsAtThatEvent(t *testing.T) {
	if _, ok := allPositionAfter(0).(esdbclient.Start); !ok {
		t.Errorf("after 0 starts at %#v, want the start of $all", allPositionAfter(0))
	}
	if got := allPositionAfter(977); got != (esdbclient.Position{Commit: 977, Prepare: 977}) {
		t.Errorf("after 977 starts at %#v", got)
	}
}

func TestServerNamesAreRefused(t *testing.T) {
	d := event.Draft{ID: uuid.New(), Type: "OrderAccepted", RecordedAt: time.Now(), Data: json.RawMessage(`{}`)}
	system := d
	system.Type = "$metadata"
	cases := map[string]struct {
		stream string
		drafts []event.Draft
	}{
		"system stream":       {"$ce-order", []event.Draft{d}},
		"metadata stream":     {"$$order-1", []event.Draft{d}},
		"system event type":   {"order-1", []event.Draft{system}},
		"ordinary bad draft":  {"order-1", nil},
		"ordinary empty name": {"", []event.Draft{d}},
	}
	for name, c := range cases {
		if err := validate(c.stream, c.drafts); !errorsIs(err, event.ErrInvalidDraft) {
			t.Errorf("%s: err = %v, want ErrInvalidDraft", name, err)
		}
	}
	if err := validate("telemetry-1", []event.Draft{d}); err != nil {
		t.Errorf("a valid draft is refused: %v", err)
	}
}
