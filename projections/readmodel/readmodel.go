// Package readmodel is the storage port of the projections: JSON documents in named
// collections, owned by one projection each, written in units of work that commit the
// projection's checkpoint together with its documents (exactly-once read models).
//
// Two adapters pass the one conformance suite in readmodeltest: memory (the embedded default,
// rebuilt from the log at start) and PostgreSQL (adapters/postgres/readmodel).
package readmodel

import (
	"context"
	"encoding/json"
	"errors"

	"yorozu/domain/event"
)

// ErrBadCursor: the After cursor of a query was not made by this store for this query.
var ErrBadCursor = errors.New("read model: bad cursor")

// Op compares a document field with a value. Fields are top-level JSON keys; values compare as
// strings (dates as YYYY-MM-DD and instants as RFC 3339 UTC compare correctly that way), or as
// JSON booleans/numbers written in their JSON text form ("true", "42").
type Op uint8

const (
	Eq       Op = iota // field == value
	Gte                // field >= value (string order)
	Lt                 // field < value (string order)
	Contains           // field contains value, without regard to case
)

// Cond is one condition on a top-level field.
type Cond struct {
	Field string
	Op    Op
	Value string
}

// Query selects documents of one collection: every condition of Where must hold, and if AnyOf
// is not empty at least one of its conditions must hold too (a text search over several fields).
type Query struct {
	Collection string
	Where      []Cond
	AnyOf      []Cond
	// OrderBy is a top-level field compared as a string; empty means insertion order (the order
	// in which documents were first put). Ties are broken by document id.
	OrderBy string
	Desc    bool
	// After is the Next cursor of a previous page of the same query.
	After string
	// Limit is the page size; <= 0 means 100.
	Limit int
}

// Page is one page of a query. Next is empty on the last page.
type Page struct {
	Docs []json.RawMessage
	Next string
}

// RawJSON is a document its projection has already encoded as valid, compact JSON. Stores take it
// as it is, without marshalling it again: the audit trail writes one for every event of the log,
// and encoding by hand is most of what makes its rebuild fast.
type RawJSON []byte

// Encode returns the JSON of a document: RawJSON as it is, anything else marshalled.
func Encode(v any) ([]byte, error) {
	if raw, ok := v.(RawJSON); ok {
		return raw, nil
	}
	return json.Marshal(v)
}

// Tx is a unit of work of one projection. Reads see the unit's own writes.
type Tx interface {
	Get(ctx context.Context, collection, id string) (json.RawMessage, bool, error)
	// Put stores v (marshalled to JSON, or a RawJSON as it is) under id, replacing a document
	// with the same id but keeping its insertion place.
	Put(ctx context.Context, collection, id string, v any) error
	Delete(ctx context.Context, collection, id string) error
	// Checkpoint is the projection's committed checkpoint as this unit of work sees it, under
	// the unit's hold on the projection: a runner that checks it is the position its events start
	// from never applies an event twice, even when replicas compete for one projection.
	Checkpoint(ctx context.Context) (event.Position, error)
}

// Store holds the read models of every projection.
type Store interface {
	// Update runs fn in one unit of work and, if fn succeeds, commits its writes together with the
	// projection's checkpoint set to `through`. If fn fails nothing of it is kept.
	Update(ctx context.Context, projection string, through event.Position, fn func(Tx) error) error
	// Checkpoint is the position through which the projection has committed (0 if never).
	Checkpoint(ctx context.Context, projection string) (event.Position, error)
	// Reset deletes every document and the checkpoint of a projection, for a rebuild.
	Reset(ctx context.Context, projection string) error
	// Get reads one committed document.
	Get(ctx context.Context, projection, collection, id string) (json.RawMessage, bool, error)
	// Find runs a query over committed documents.
	Find(ctx context.Context, projection string, q Query) (Page, error)
}

// ValidField accepts the names read models use for their fields: a letter or underscore, then
// letters, digits and underscores, at most 63 bytes (a PostgreSQL identifier). Every adapter
// refuses anything else, so a query that works on one works on the other.
func ValidField(name string) bool {
	if name == "" || len(name) > 63 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '_', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
