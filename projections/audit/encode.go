package audit

import (
	"strconv"
	"unicode/utf8"

	"yorozu/domain/event"
	"yorozu/projections/readmodel"
)

// encodeEntry writes the JSON of EntryOf(r, customerNumber), byte for byte what json.Marshal
// writes (FuzzEncodeEntryMatchesMarshal checks it), by appending to one buffer: the trail encodes
// every event of the log, and reflection-driven marshalling was a fifth of a rebuild.
func encodeEntry(r event.Record, customerNumber string) readmodel.RawJSON {
	b := make([]byte, 0, 400+len(r.Data))
	b = append(b, `{"eventId":"`...)
	b = append(b, r.ID.String()...)
	b = append(b, `","type":`...)
	b = appendString(b, r.Type)
	b = append(b, `,"schemaVersion":`...)
	b = strconv.AppendInt(b, int64(r.SchemaVersion), 10)
	b = append(b, `,"stream":`...)
	b = appendString(b, r.Stream)
	b = append(b, `,"streamVersion":`...)
	b = strconv.AppendUint(b, r.StreamVersion, 10)
	b = append(b, `,"position":`...)
	b = strconv.AppendUint(b, uint64(r.Position), 10)
	b = append(b, `,"effectiveAt":"`...)
	b = append(b, instant(r.EffectiveAt)...)
	b = append(b, `","recordedAt":"`...)
	b = append(b, instant(r.RecordedAt)...)
	b = append(b, `","actor":`...)
	b = appendString(b, r.Actor)
	if r.CommandID != "" {
		b = append(b, `,"commandId":`...)
		b = appendString(b, r.CommandID)
	}
	if r.CorrelationID != "" {
		b = append(b, `,"correlationId":`...)
		b = appendString(b, r.CorrelationID)
	}
	if r.CausationID != "" {
		b = append(b, `,"causationId":`...)
		b = appendString(b, r.CausationID)
	}
	if customerNumber != "" {
		b = append(b, `,"customerNumber":`...)
		b = appendString(b, customerNumber)
	}
	b = append(b, `,"hash":"`...)
	b = append(b, r.Hash.String()...)
	b = append(b, `","prevHash":"`...)
	b = append(b, r.PrevHash.String()...)
	b = append(b, `","data":`...)
	if len(r.Data) == 0 {
		b = append(b, "null"...)
	} else {
		// The store keeps the data as the codec wrote it: compact JSON (json.Marshal of a
		// json.RawMessage would only compact it again).
		b = append(b, r.Data...)
	}
	return append(b, '}')
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string the way encoding/json does: <, >, & and the line
// separators U+2028/U+2029 escaped, invalid UTF-8 replaced by U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
