package audit

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"

	"yorozu/domain/event"
)

func TestInstantsFormatLikeTheLayout(t *testing.T) {
	for _, tm := range []time.Time{
		time.Date(2025, 7, 1, 7, 0, 0, 123456789, time.UTC),
		time.Date(2024, 2, 29, 23, 59, 59, 999999000, time.FixedZone("JST", 9*3600)),
		time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1969, 12, 31, 23, 59, 59, 1000, time.UTC),
		time.Date(2000, 3, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2100, 2, 28, 12, 0, 0, 0, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC),
	} {
		if got, want := instant(tm), tm.UTC().Format(InstantLayout); got != want {
			t.Errorf("instant(%v) = %s, want %s", tm, got, want)
		}
	}
}

func FuzzInstant(f *testing.F) {
	f.Add(int64(0))
	f.Add(int64(1751353200123456))
	f.Fuzz(func(t *testing.T, us int64) {
		tm := time.UnixMicro(us % 253402300800000000) // below year 10000
		if tm.Year() < 0 {
			return
		}
		if got, want := instant(tm), tm.UTC().Format(InstantLayout); got != want {
			t.Fatalf("instant(%d) = %s, want %s", us, got, want)
		}
	})
}

func FuzzEncodeEntryMatchesMarshal(f *testing.F) {
	f.Add("OrderAccepted", "order-1", "staff-1", "cmd", "", "N000000001", `{"a":1}`, int64(1751353200123456))
	f.Add("T<&>\u2028\x00\xff", "s\"\\\n", "ａ", "", "c\td", "", `{}`, int64(-5))
	f.Fuzz(func(t *testing.T, typ, stream, actor, command, correlation, cn, data string, us int64) {
		if !json.Valid([]byte(data)) {
			return
		}
		// Stored data is what the codec's json.Marshal wrote: compact, with <, > and & escaped.
		var compact, escaped bytes.Buffer
		if err := json.Compact(&compact, []byte(data)); err != nil {
			return
		}
		json.HTMLEscape(&escaped, compact.Bytes())
		at := time.UnixMicro(us % 253402300800000000)
		if at.Year() < 0 {
			return
		}
		r := event.Record{ID: uuid.New(), Type: typ, SchemaVersion: 1, Stream: stream, StreamVersion: 7, Position: 42,
			EffectiveAt: at, RecordedAt: at, Actor: actor, CommandID: command, CorrelationID: correlation,
			Data: escaped.Bytes()}
		want, err := json.Marshal(EntryOf(r, cn))
		if err != nil {
			t.Fatal(err)
		}
		if got := encodeEntry(r, cn); !bytes.Equal(got, want) {
			t.Fatalf("encoded\n%s\nmarshalled\n%s", got, want)
		}
	})
}
