package backup_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"yorozu/adapters/backup"
	"yorozu/domain/event"
)

// oneEvent is a log of one sealed record.
type oneEvent struct{ rec event.Record }

func (o oneEvent) ReadAll(_ context.Context, after event.Position, _ int) ([]event.Record, error) {
	if after >= o.rec.Position {
		return nil, nil
	}
	return []event.Record{o.rec}, nil
}
func (o oneEvent) Head(context.Context) (event.Position, error) { return o.rec.Position, nil }
func (o oneEvent) Subscribe(context.Context, event.Position, func(event.Record) error) error {
	panic("not used")
}

// FuzzEventLineRoundTrip: any envelope with UTF-8 text and any payload is written as a line that
// encoding/json reads as the same values, and read back by the backup reader byte for byte.
func FuzzEventLineRoundTrip(f *testing.F) {
	f.Add("order-1", "OrderReceived", "system", "cmd", "", "\x00\x1f\"\\", []byte(`{"a":"<&>"}`))
	f.Add("staff-斎藤", "StaffAdded", "担当者\u2028", "", "x\ny", "\t", []byte("{\n}"))
	f.Add("s", "t", "a", "c", "c2", "c3", []byte{0xff, 0})
	f.Add("s", "t", "a", "c", "c2", "c3", []byte(`"\u00e9\ud83d\ude00"`))
	f.Fuzz(func(t *testing.T, stream, typ, actor, command, correlation, causation string, data []byte) {
		for _, s := range []string{stream, typ, actor, command, correlation, causation} {
			if !utf8.ValidString(s) {
				return // refused by the writer, as it cannot be carried byte for byte
			}
		}
		if stream == "" || typ == "" || len(data) == 0 {
			return
		}
		d := event.Draft{ID: uuid.New(), Type: typ, SchemaVersion: 3, EffectiveAt: time.Unix(-5, 1000), RecordedAt: time.Unix(1e9, 123456000),
			Actor: actor, CommandID: command, CorrelationID: correlation, CausationID: causation, Data: data}
		rec := event.Seal(d, stream, 1, event.Hash{})
		rec.Position = 7
		var buf bytes.Buffer
		if _, err := backup.Write(context.Background(), &buf, oneEvent{rec}, "fuzz", time.Unix(0, 0)); err != nil {
			t.Fatalf("write: %v", err)
		}
		lines := strings.Split(buf.String(), "\n")
		var m map[string]any
		if err := json.Unmarshal([]byte(lines[1]), &m); err != nil {
			t.Fatalf("event line is not JSON: %v\n%s", err, lines[1])
		}
		for k, want := range map[string]string{"stream": stream, "type": typ, "actor": actor, "commandId": command,
			"correlationId": correlation, "causationId": causation, "id": rec.ID.String(), "hash": rec.Hash.String()} {
			if m[k] != want {
				t.Fatalf("encoding/json reads %s = %q, want %q", k, m[k], want)
			}
		}
		if raw, ok := m["dataBase64"].(string); ok {
			if b, _ := base64.StdEncoding.DecodeString(raw); !bytes.Equal(b, data) {
				t.Fatalf("dataBase64 is not the data")
			}
		} else {
			var want any
			if err := json.Unmarshal(data, &want); err != nil || !reflect.DeepEqual(m["data"], want) {
				t.Fatalf("embedded data reads %v (%v)", m["data"], err)
			}
		}
		r, err := backup.NewReader(&buf)
		if err != nil {
			t.Fatal(err)
		}
		var got []event.Record
		for rec, err := range r.Events() {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, rec)
		}
		if len(got) != 1 || !reflect.DeepEqual(got[0], rec) {
			t.Fatalf("read back %+v\nwant %+v", got, rec)
		}
	})
}
