package backup

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"

	"yorozu/domain/event"
)

// A line is one flat JSON object whose values are strings, integers, true, or (for "data") any
// JSON value, kept as its bytes. The parser below reads exactly that, fast, and refuses anything
// else; it is not a general JSON parser.

// field is one member of a line: its key and its value's bytes (a string value still quoted).
type field struct {
	key, val []byte
}

// scanObject splits a line (without its "\n") into its members.
func scanObject(line []byte, dst []field) ([]field, error) {
	dst = dst[:0]
	i := skipSpace(line, 0)
	if i >= len(line) || line[i] != '{' {
		return nil, errors.New("not a JSON object")
	}
	i = skipSpace(line, i+1)
	if i < len(line) && line[i] == '}' {
		if skipSpace(line, i+1) != len(line) {
			return nil, errors.New("text after the object")
		}
		return dst, nil
	}
	for {
		if i >= len(line) || line[i] != '"' {
			return nil, errors.New("expected a key")
		}
		end, err := skipString(line, i)
		if err != nil {
			return nil, err
		}
		key := line[i+1 : end-1]
		i = skipSpace(line, end)
		if i >= len(line) || line[i] != ':' {
			return nil, fmt.Errorf("expected ':' after %q", key)
		}
		i = skipSpace(line, i+1)
		vend, err := skipValue(line, i)
		if err != nil {
			return nil, fmt.Errorf("value of %q: %w", key, err)
		}
		dst = append(dst, field{key: key, val: line[i:vend]})
		i = skipSpace(line, vend)
		if i >= len(line) {
			return nil, errors.New("unterminated object")
		}
		switch line[i] {
		case ',':
			i = skipSpace(line, i+1)
		case '}':
			if skipSpace(line, i+1) != len(line) {
				return nil, errors.New("text after the object")
			}
			return dst, nil
		default:
			return nil, fmt.Errorf("unexpected %q after %q", line[i], key)
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// skipString returns the index after the string that starts at b[i] == '"'. It finds each
// quote with bytes.IndexByte (which scans many bytes at a time) and looks back for the
// backslashes that would escape it. Raw control characters are not looked for: lines are split
// on "\n" already, and whatever else a string holds is covered by the file's checksum and the
// event's hash.
func skipString(b []byte, i int) (int, error) {
	for j := i + 1; j < len(b); {
		q := bytes.IndexByte(b[j:], '"')
		if q < 0 {
			break
		}
		j += q
		escapes := 0
		for k := j - 1; k > i && b[k] == '\\'; k-- {
			escapes++
		}
		if escapes%2 == 0 {
			return j + 1, nil
		}
		j++
	}
	return 0, errors.New("unterminated string")
}

// skipValue returns the index after the JSON value that starts at b[i]. Objects and arrays are
// matched by depth, outside strings; the bytes are not otherwise validated (the event's hash
// covers them).
func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errors.New("missing value")
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, err := skipString(b, j)
				if err != nil {
					return 0, err
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, errors.New("unterminated object or array")
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && !isSpace(b[j]) {
		j++
	}
	if j == i {
		return 0, errors.New("missing value")
	}
	return j, nil
}

// str decodes a JSON string value.
func str(v []byte) (string, error) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return "", errors.New("not a string")
	}
	inner := v[1 : len(v)-1]
	if bytes.IndexByte(inner, '\\') >= 0 {
		var s string
		err := json.Unmarshal(v, &s)
		return s, err
	}
	return string(inner), nil
}

func uintVal(v []byte) (uint64, error) {
	n, err := strconv.ParseUint(string(v), 10, 64)
	if err != nil {
		return 0, errors.New("not a non-negative integer")
	}
	return n, nil
}

func timeVal(v []byte) (time.Time, error) {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		if t, ok := parseUTC(v[1 : len(v)-1]); ok {
			return t, nil
		}
	}
	s, err := str(v)
	if err != nil {
		return time.Time{}, err
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, errors.New("not an RFC 3339 time")
	}
	return t.UTC(), nil
}

// parseUTC reads what the writer writes, "2006-01-02T15:04:05[.fraction]Z", without the
// generality (and the cost) of time.Parse; anything else is left to time.Parse.
func parseUTC(b []byte) (time.Time, bool) {
	if len(b) < 20 || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' || b[len(b)-1] != 'Z' {
		return time.Time{}, false
	}
	num := func(s []byte) (int, bool) {
		n := 0
		for _, c := range s {
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	year, ok1 := num(b[0:4])
	month, ok2 := num(b[5:7])
	day, ok3 := num(b[8:10])
	hour, ok4 := num(b[11:13])
	minute, ok5 := num(b[14:16])
	sec, ok6 := num(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	nsec := 0
	if frac := b[19 : len(b)-1]; len(frac) > 0 {
		if frac[0] != '.' || len(frac) < 2 || len(frac) > 10 {
			return time.Time{}, false
		}
		n, ok := num(frac[1:])
		if !ok {
			return time.Time{}, false
		}
		for range 10 - len(frac) {
			n *= 10
		}
		nsec = n
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	if t.Day() != day { // February 30th and the like
		return time.Time{}, false
	}
	return t, true
}

func hashVal(v []byte) (event.Hash, error) {
	var h event.Hash
	if len(v) != 2+2*len(h) || v[0] != '"' || v[len(v)-1] != '"' {
		return h, errors.New("not a SHA-256 in hex")
	}
	if _, err := hex.Decode(h[:], v[1:len(v)-1]); err != nil {
		return h, errors.New("not a SHA-256 in hex")
	}
	return h, nil
}

// interner shares the strings that repeat from line to line, so that reading millions of events
// does not allocate each of them again: streams, types and actors up to a bound, and the IDs of
// the last command (the events of one command, and often its correlation and causation IDs).
type interner struct {
	common map[string]string
	last   [3]string // the last stream, type and actor: consecutive events often share them
	recent [3]string
	// slab is where payloads are copied, many to an allocation: one allocation per payload
	// was a tenth of the cost of reading a file.
	slab []byte
}

// copyData returns a copy of b that shares its allocation with other payloads.
func (in *interner) copyData(b []byte) []byte {
	if len(b) > 4<<10 {
		return append([]byte(nil), b...)
	}
	if cap(in.slab)-len(in.slab) < len(b) {
		in.slab = make([]byte, 0, 256<<10)
	}
	n := len(in.slab)
	in.slab = append(in.slab, b...)
	return in.slab[n:len(in.slab):len(in.slab)]
}

func newInterner() *interner { return &interner{common: make(map[string]string)} }

func (in *interner) str(kind int, v []byte) (string, error) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return "", errors.New("not a string")
	}
	raw := v[1 : len(v)-1]
	if in.last[kind] == string(raw) {
		return in.last[kind], nil
	}
	s, ok := in.common[string(raw)]
	if !ok {
		var err error
		if s, err = str(v); err != nil {
			return "", err
		}
		if len(in.common) < 4096 {
			in.common[string(raw)] = s
		}
	}
	in.last[kind] = s
	return s, nil
}

// Kinds of interned strings.
const (
	internStream = iota
	internType
	internActor
)

// id is for command, correlation and causation IDs: it reuses one of the last three.
func (in *interner) id(v []byte) (string, error) {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		raw := v[1 : len(v)-1]
		for _, s := range in.recent {
			if s == string(raw) {
				return s, nil
			}
		}
	}
	s, err := str(v)
	if err == nil && s != "" {
		in.recent[2], in.recent[1], in.recent[0] = in.recent[1], in.recent[0], s
	}
	return s, err
}

// decodeEvent reads an event line's members into r.
func decodeEvent(fields []field, r *event.Record, in *interner) error {
	*r = event.Record{}
	const (
		fPosition = 1 << iota
		fID
		fStream
		fVersion
		fType
		fSchema
		fEffective
		fRecorded
		fActor
		fCommand
		fCorrelation
		fCausation
		fPrev
		fHash
		fData
		all = 1<<iota - 1
	)
	seen := 0
	for _, f := range fields {
		var bit int
		var err error
		switch string(f.key) {
		case "position":
			bit = fPosition
			var n uint64
			n, err = uintVal(f.val)
			r.Position = event.Position(n)
		case "id":
			bit = fID
			var s string
			if s, err = str(f.val); err == nil {
				r.ID, err = uuid.Parse(s)
			}
		case "stream":
			bit = fStream
			r.Stream, err = in.str(internStream, f.val)
		case "streamVersion":
			bit = fVersion
			r.StreamVersion, err = uintVal(f.val)
		case "type":
			bit = fType
			r.Type, err = in.str(internType, f.val)
		case "schemaVersion":
			bit = fSchema
			var n uint64
			if n, err = uintVal(f.val); err == nil && n > 1<<31-1 {
				err = errors.New("too large")
			}
			r.SchemaVersion = int(n)
		case "effectiveAt":
			bit = fEffective
			r.EffectiveAt, err = timeVal(f.val)
		case "recordedAt":
			bit = fRecorded
			r.RecordedAt, err = timeVal(f.val)
		case "actor":
			bit = fActor
			r.Actor, err = in.str(internActor, f.val)
		case "commandId":
			bit = fCommand
			r.CommandID, err = in.id(f.val)
		case "correlationId":
			bit = fCorrelation
			r.CorrelationID, err = in.id(f.val)
		case "causationId":
			bit = fCausation
			r.CausationID, err = in.id(f.val)
		case "prevHash":
			bit = fPrev
			r.PrevHash, err = hashVal(f.val)
		case "hash":
			bit = fHash
			r.Hash, err = hashVal(f.val)
		case "data":
			bit = fData
			r.Data = in.copyData(f.val)
		case "dataBase64":
			bit = fData
			var s string
			if s, err = str(f.val); err == nil {
				r.Data, err = base64.StdEncoding.DecodeString(s)
			}
		default:
			return fmt.Errorf("unknown field %q", f.key)
		}
		if err != nil {
			return fmt.Errorf("field %q: %w", f.key, err)
		}
		if seen&bit != 0 {
			return fmt.Errorf("field %q twice", f.key)
		}
		seen |= bit
	}
	if seen != all {
		return errors.New("an event line lacks fields")
	}
	return nil
}

func decodeHeader(fields []field) (Header, error) {
	var h Header
	seen := map[string]bool{}
	for _, f := range fields {
		var err error
		k := string(f.key)
		switch k {
		case "format":
			h.Format, err = str(f.val)
		case "version":
			var n uint64
			n, err = uintVal(f.val)
			h.Version = int(min(n, 1<<31-1))
		case "engine":
			h.Engine, err = str(f.val)
		case "head":
			var n uint64
			n, err = uintVal(f.val)
			h.Head = event.Position(n)
		case "createdAt":
			h.CreatedAt, err = timeVal(f.val)
		default:
			err = errors.New("unknown field")
		}
		if err != nil {
			return h, fmt.Errorf("header field %q: %w", k, err)
		}
		if seen[k] {
			return h, fmt.Errorf("header field %q twice", k)
		}
		seen[k] = true
	}
	if h.Format != Format {
		return h, fmt.Errorf("not a YOROZU backup (no %q header)", Format)
	}
	if h.Version != Version {
		return h, fmt.Errorf("format version %d; this program reads version %d", h.Version, Version)
	}
	if len(seen) != 5 {
		return h, errors.New("the header lacks fields")
	}
	return h, nil
}

// end is the last line of a file.
type end struct {
	events int
	sum    []byte
}

// isEnd reports whether a line's first member is "end".
func isEnd(fields []field) bool { return len(fields) > 0 && string(fields[0].key) == "end" }

func decodeEnd(fields []field) (end, error) {
	var e end
	seen := map[string]bool{}
	for _, f := range fields {
		var err error
		if seen[string(f.key)] {
			return e, fmt.Errorf("end field %q twice", f.key)
		}
		seen[string(f.key)] = true
		switch string(f.key) {
		case "end":
			if string(f.val) != "true" {
				err = errors.New("not true")
			}
		case "events":
			var n uint64
			n, err = uintVal(f.val)
			e.events = int(min(n, 1<<62))
		case "sha256":
			var h event.Hash
			h, err = hashVal(f.val)
			e.sum = h[:]
		default:
			err = errors.New("unknown field")
		}
		if err != nil {
			return e, fmt.Errorf("end field %q: %w", f.key, err)
		}
	}
	if len(seen) != 3 {
		return e, errors.New("the end line lacks fields")
	}
	return e, nil
}
