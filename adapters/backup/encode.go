package backup

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"yorozu/domain/event"
)

// The lines are encoded by hand into one buffer: a backup encodes every event of the log, and
// reflection-driven marshalling would be most of its cost. FuzzEventLineMatchesMarshal checks
// that an event line is what encoding/json makes of the same fields.

// timeLayout is RFC 3339 with as many fractional digits as needed (none to nine).
const timeLayout = time.RFC3339Nano

func appendHeader(b []byte, h Header) []byte {
	b = append(b, `{"format":`...)
	b = appendString(b, h.Format)
	b = append(b, `,"version":`...)
	b = strconv.AppendInt(b, int64(h.Version), 10)
	b = append(b, `,"engine":`...)
	b = appendString(b, h.Engine)
	b = append(b, `,"head":`...)
	b = strconv.AppendUint(b, uint64(h.Head), 10)
	b = append(b, `,"createdAt":"`...)
	b = h.CreatedAt.UTC().AppendFormat(b, timeLayout)
	return append(b, "\"}\n"...)
}

func appendEnd(b []byte, events int, sum []byte) []byte {
	b = append(b, `{"end":true,"events":`...)
	b = strconv.AppendInt(b, int64(events), 10)
	b = append(b, `,"sha256":"`...)
	b = hex.AppendEncode(b, sum)
	return append(b, "\"}\n"...)
}

// appendEvent writes the line of r. It fails on a text field that is not valid UTF-8, which JSON
// cannot carry byte for byte.
func appendEvent(b []byte, r *event.Record) ([]byte, error) {
	for _, s := range [...]string{r.Stream, r.Type, r.Actor, r.CommandID, r.CorrelationID, r.CausationID} {
		if !utf8.ValidString(s) {
			return b, fmt.Errorf("event %s (%q version %d) has a text field that is not UTF-8 and cannot be written", r.ID, r.Stream, r.StreamVersion)
		}
	}
	b = append(b, `{"position":`...)
	b = strconv.AppendUint(b, uint64(r.Position), 10)
	b = append(b, `,"id":"`...)
	b = appendUUID(b, r.ID)
	b = append(b, `","stream":`...)
	b = appendString(b, r.Stream)
	b = append(b, `,"streamVersion":`...)
	b = strconv.AppendUint(b, r.StreamVersion, 10)
	b = append(b, `,"type":`...)
	b = appendString(b, r.Type)
	b = append(b, `,"schemaVersion":`...)
	b = strconv.AppendInt(b, int64(r.SchemaVersion), 10)
	b = append(b, `,"effectiveAt":"`...)
	b = r.EffectiveAt.UTC().AppendFormat(b, timeLayout)
	b = append(b, `","recordedAt":"`...)
	b = r.RecordedAt.UTC().AppendFormat(b, timeLayout)
	b = append(b, `","actor":`...)
	b = appendString(b, r.Actor)
	b = append(b, `,"commandId":`...)
	b = appendString(b, r.CommandID)
	b = append(b, `,"correlationId":`...)
	b = appendString(b, r.CorrelationID)
	b = append(b, `,"causationId":`...)
	b = appendString(b, r.CausationID)
	b = append(b, `,"prevHash":"`...)
	b = hex.AppendEncode(b, r.PrevHash[:])
	b = append(b, `","hash":"`...)
	b = hex.AppendEncode(b, r.Hash[:])
	if embeddable(r.Data) {
		b = append(b, `","data":`...)
		b = append(b, r.Data...)
		b = append(b, '}')
	} else {
		b = append(b, `","dataBase64":"`...)
		b = base64.StdEncoding.AppendEncode(b, r.Data)
		b = append(b, `"}`...)
	}
	return append(b, '\n'), nil
}

// embeddable reports whether data can be written as a JSON value and read back byte for byte:
// valid JSON on one line, without surrounding white space.
func embeddable(data []byte) bool {
	if len(data) == 0 || bytes.IndexByte(data, '\n') >= 0 || bytes.IndexByte(data, '\r') >= 0 {
		return false
	}
	if isSpace(data[0]) || isSpace(data[len(data)-1]) {
		return false
	}
	return json.Valid(data)
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func appendUUID(b []byte, id [16]byte) []byte {
	var s [36]byte
	hex.Encode(s[0:8], id[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], id[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], id[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], id[8:10])
	s[23] = '-'
	hex.Encode(s[24:], id[10:])
	return append(b, s[:]...)
}

// appendString writes s as a JSON string, escaping only what JSON requires (quote, backslash,
// control characters); s must be valid UTF-8.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
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
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"
