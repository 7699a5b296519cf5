package readmodel

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"hash/fnv"
	"strconv"
)

// Cursor is where a page ended, for the adapters: the insertion sequence of its last document,
// or, for an ordered query, that document's order value and id. Shape ties it to the query that
// made it, so that a cursor replayed against another query is refused instead of silently
// skipping documents.
type Cursor struct {
	Shape uint64 `json:"q"`
	Seq   int64  `json:"s,omitempty"`
	Value string `json:"v,omitempty"`
	ID    string `json:"i,omitempty"`
}

// Encode renders the cursor as the opaque Next of a Page.
func (c Cursor) Encode() string {
	b, _ := json.Marshal(c) // a struct of strings and numbers always marshals
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor reads a cursor made by Encode for a query of the given shape (ErrBadCursor if not).
func DecodeCursor(s string, shape uint64) (Cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Cursor{}, ErrBadCursor
	}
	var c Cursor
	if err := json.Unmarshal(b, &c); err != nil || c.Shape != shape {
		return Cursor{}, ErrBadCursor
	}
	return c, nil
}

// Shape fingerprints everything of a query that decides which documents come in which order;
// After and Limit are left out, as pages of one listing may differ in size. engine keeps one
// adapter's cursors from being accepted by another.
func (q Query) Shape(engine string) uint64 {
	h := fnv.New64a()
	put := func(s string) {
		var n [binary.MaxVarintLen64]byte
		h.Write(n[:binary.PutUvarint(n[:], uint64(len(s)))])
		h.Write([]byte(s))
	}
	put(engine)
	put(q.Collection)
	put(q.OrderBy)
	put(strconv.FormatBool(q.Desc))
	for _, group := range [][]Cond{q.Where, q.AnyOf} {
		put(strconv.Itoa(len(group)))
		for _, c := range group {
			put(c.Field)
			put(strconv.Itoa(int(c.Op)))
			put(c.Value)
		}
	}
	return h.Sum64()
}
