package memory

import (
	"encoding/json"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"
)

// field is one top-level member of a document as the queries see it: a JSON string as its
// value, any other scalar (and a nested object or array) as its JSON text. Names and values are
// substrings of the document's own text wherever no escape had to be decoded, so the cache costs
// little more than the slice.
type field struct {
	name, value string
}

// parseFields returns the top-level members of a JSON object, leaving out those whose value is
// null (as PostgreSQL's ->> does). Anything that is not an object has no fields. The text comes
// from encoding/json, so it is valid; the scanner still stops quietly on anything unexpected.
func parseFields(s string) []field {
	i := skipSpace(s, 0)
	if i >= len(s) || s[i] != '{' {
		return nil
	}
	i++
	var out []field
	for {
		i = skipSpace(s, i)
		if i >= len(s) || s[i] == '}' {
			return out
		}
		if s[i] == ',' {
			i++
			continue
		}
		name, end, ok := readString(s, i)
		if !ok {
			return out
		}
		name = intern(name)
		i = skipSpace(s, end)
		if i >= len(s) || s[i] != ':' {
			return out
		}
		i = skipSpace(s, i+1)
		end = skipValue(s, i)
		if end <= i {
			return out
		}
		switch s[i] {
		case 'n': // null reads as absent
		case '"':
			value, _, _ := readString(s, i)
			out = append(out, field{name, value})
		default:
			out = append(out, field{name, s[i:end]})
		}
		i = end
	}
}

// names interns field names. A query compares names on every document it scans; with one copy
// of each name the comparison is a pointer check instead of a read of the document's text, which
// is far away in memory. Documents with open-ended keys could grow the table without end, so it
// stops taking names at a bound.
var names sync.Map

const maxInternedNames = 4096

var internedNames atomic.Int64

func intern(name string) string {
	if v, ok := names.Load(name); ok {
		return v.(string)
	}
	if len(name) > 64 || internedNames.Add(1) > maxInternedNames {
		return name
	}
	name = strings.Clone(name)
	v, _ := names.LoadOrStore(name, name)
	return v.(string)
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
func containsFold(hay, lowerNeedle string) bool {
	for i := 0; i < len(hay); {
		c := hay[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				return strings.Contains(strings.ToLower(hay), lowerNeedle)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(hay[i:])
		if unicode.ToLower(r) != r {
			return strings.Contains(strings.ToLower(hay), lowerNeedle)
		}
		i += n
	}
	return strings.Contains(hay, lowerNeedle)
}
