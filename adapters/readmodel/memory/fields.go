package memory

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode"
	"unicode/utf8"
)

// value is one document's value of a field as the queries see it: a JSON string as its text, any
// other scalar (and a nested object or array) as its JSON text. An absent field and a null one
// are not ok, as with PostgreSQL's ->>. s is a substring of the document's own text wherever no
// escape had to be decoded, so a column costs little more than its slice.
type value struct {
	s  string
	ok bool
}

// lookup finds a top-level field of a JSON object without decoding the rest. The text comes from
// encoding/json, so it is valid; the scanner still stops quietly on anything unexpected. Of
// duplicate names the last wins, as in jsonb.
func lookup(s, name string) value {
	i := skipSpace(s, 0)
	if i >= len(s) || s[i] != '{' {
		return value{}
	}
	i++
	var found value
	for {
		i = skipSpace(s, i)
		if i >= len(s) || s[i] == '}' {
			return found
		}
		if s[i] == ',' {
			i++
			continue
		}
		key, end, ok := readString(s, i)
		if !ok {
			return found
		}
		i = skipSpace(s, end)
		if i >= len(s) || s[i] != ':' {
			return found
		}
		i = skipSpace(s, i+1)
		end = skipValue(s, i)
		if end <= i {
			return found
		}
		if key == name {
			switch s[i] {
			case 'n': // null reads as absent
				found = value{}
			case '"':
				v, _, ok := readString(s, i)
				found = value{v, ok}
			default:
				found = value{s[i:end], true}
			}
		}
		i = end
	}
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// readString reads the JSON string starting at s[i] == '"' and returns its decoded value and the
// index just after its closing quote.
func readString(s string, i int) (string, int, bool) {
	if i >= len(s) || s[i] != '"' {
		return "", i, false
	}
	j := i + 1
	escaped := false
	for j < len(s) {
		k := strings.IndexAny(s[j:], `"\`)
		if k < 0 {
			return "", len(s), false
		}
		j += k
		if s[j] == '"' {
			break
		}
		escaped = true
		j += 2 // the backslash and the character it escapes
	}
	if j >= len(s) {
		return "", len(s), false
	}
	if !escaped {
		return s[i+1 : j], j + 1, true
	}
	var v string
	if err := json.Unmarshal([]byte(s[i:j+1]), &v); err != nil {
		return "", j + 1, false
	}
	return v, j + 1, true
}

// skipValue returns the index just after the JSON value starting at s[i].
func skipValue(s string, i int) int {
	if i >= len(s) {
		return i
	}
	switch s[i] {
	case '"':
		_, end, _ := readString(s, i)
		return end
	case '{', '[':
		depth := 0
		for i < len(s) {
			switch s[i] {
			case '"':
				_, i, _ = readString(s, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	default:
		for i < len(s) {
			switch s[i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return i
			}
			i++
		}
		return i
	}
}

// containsFold reports whether hay contains lowerNeedle (already lower-cased) without regard to
// case. Most values need no lower-casing at all, so it only allocates for those that do.
func containsFold(hay, lowerNeedle []byte) bool {
	for i := 0; i < len(hay); {
		c := hay[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				return bytes.Contains(bytes.ToLower(hay), lowerNeedle)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(hay[i:])
		if unicode.ToLower(r) != r {
			return bytes.Contains(bytes.ToLower(hay), lowerNeedle)
		}
		i += n
	}
	return bytes.Contains(hay, lowerNeedle)
}
