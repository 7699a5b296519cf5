package memory

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"

	"yorozu/projections/readmodel"
)

// cursor is where a page ended: the insertion sequence of its last document, or, for an ordered
// query, that document's order value and id. Shape ties it to the query that made it, so that a
// cursor replayed against another query is refused instead of silently skipping documents.
type cursor struct {
	Shape uint64 `json:"q"`
	Seq   uint64 `json:"s,omitempty"`
	Value string `json:"v,omitempty"`
	ID    string `json:"i,omitempty"`
}

func (c cursor) encode() string {
	b, _ := json.Marshal(c) // a struct of strings and numbers always marshals
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string, shape uint64) (cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return cursor{}, readmodel.ErrBadCursor
	}
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil || c.Shape != shape {
		return cursor{}, readmodel.ErrBadCursor
	}
	return c, nil
}

// shapeOf fingerprints everything of a query that decides which documents come in which order;
// After and Limit are left out, as pages of one listing may differ in size.
func shapeOf(q readmodel.Query) uint64 {
	h := fnv.New64a()
	put := func(s string) {
		var n [binary.MaxVarintLen64]byte
		h.Write(n[:binary.PutUvarint(n[:], uint64(len(s)))])
		h.Write([]byte(s))
	}
	put("memory/1")
	put(q.Collection)
	put(q.OrderBy)
	put(fmt.Sprint(q.Desc))
	for _, group := range [][]readmodel.Cond{q.Where, q.AnyOf} {
		put(fmt.Sprint(len(group)))
		for _, c := range group {
			put(c.Field)
			put(fmt.Sprint(c.Op))
			put(c.Value)
		}
	}
	return h.Sum64()
}
