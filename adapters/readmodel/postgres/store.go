// Package postgres is the PostgreSQL read-model store (docs/architecture.md): documents as jsonb rows of
// rm_docs, keyed by projection, collection and id, with the projection's checkpoint in
// projection_checkpoints. The schema comes from adapters/postgres/migrate.
//
// A unit of work is one transaction. It first takes a transaction-level advisory lock on the
// projection, so that units of one projection run one after the other even across processes and
// a unit's reads of committed documents stay true until it commits. Its writes are buffered in
// memory (its own reads see the buffer first, then the database) and flushed at the end in one
// round trip: a DELETE and an INSERT … ON CONFLICT over unnest()ed arrays, and the checkpoint
// upsert. Statements over arrays rather than one per document keep a rebuild of a million
// documents in units of 500 at tens of thousands of documents a second.
package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"yorozu/domain/event"
	port "yorozu/projections/readmodel"
)

// Store is the PostgreSQL readmodel.Store. It does not own the pool.
type Store struct {
	pool *pgxpool.Pool
	// fold is the SQL collation Contains lower-cases in, found on first use (see foldCollation).
	fold atomic.Pointer[string]
}

var _ port.Store = (*Store)(nil)

// New returns a store on a migrated database.
func New(pool *pgxpool.Pool) *Store {
	return &Store{pool: pool}
}

// lockProjection serialises the units of work and resets of one projection. The key is salted
// so that it cannot meet a lock another part of the service takes on the projection's bare name
// (a worker's ownership lease, say), which would block a unit of the lease holder itself.
const lockProjection = `SELECT pg_advisory_xact_lock(hashtextextended('yorozu.readmodel:' || $1, 0))`

const asyncCommit = `SET LOCAL synchronous_commit = off`

// Update implements readmodel.Store.
func (s *Store) Update(ctx context.Context, projection string, through event.Position, fn func(port.Tx) error) error {
	if through > math.MaxInt64 {
		return fmt.Errorf("read model: checkpoint %d of %s does not fit PostgreSQL's bigint", through, projection)
	}
	var fnErr error
	err := pgx.BeginFunc(ctx, s.pool, func(pg pgx.Tx) error {
		if _, err := pg.Exec(ctx, lockProjection, projection); err != nil {
			return fmt.Errorf("read model: lock %s: %w", projection, err)
		}
		// A unit of work commits its documents and its checkpoint together, and both can be
		// rebuilt from the event log: if a crash loses the last units, the projection replays
		// them from the checkpoint that was lost with them. So a unit need not wait for its WAL
		// flush, which halves the cost of a commit; the event log itself keeps its synchronous
		// commits.
		if _, err := pg.Exec(ctx, asyncCommit); err != nil {
			return fmt.Errorf("read model: %s: %w", projection, err)
		}
		t := &tx{pg: pg, projection: projection, entries: make(map[docKey]*entry)}
		fnErr = fn(t)
		t.done = true
		if fnErr != nil {
			return fnErr
		}
		return t.flush(ctx, through)
	})
	if fnErr != nil {
		// fn's own error, unwrapped; BeginFunc has rolled back.
		return fnErr
	}
	if err != nil {
		return fmt.Errorf("read model: update %s: %w", projection, err)
	}
	return nil
}

// Checkpoint implements readmodel.Store.
func (s *Store) Checkpoint(ctx context.Context, projection string) (event.Position, error) {
	var pos int64
	err := s.pool.QueryRow(ctx, `SELECT position FROM projection_checkpoints WHERE name = $1`, projection).Scan(&pos)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read model: checkpoint of %s: %w", projection, err)
	}
	return event.Position(pos), nil
}

// Reset implements readmodel.Store.
func (s *Store) Reset(ctx context.Context, projection string) error {
	err := pgx.BeginFunc(ctx, s.pool, func(pg pgx.Tx) error {
		b := &pgx.Batch{}
		b.Queue(lockProjection, projection)
		b.Queue(`DELETE FROM rm_docs WHERE projection = $1`, projection)
		b.Queue(`DELETE FROM projection_checkpoints WHERE name = $1`, projection)
		return pg.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return fmt.Errorf("read model: reset %s: %w", projection, err)
	}
	return nil
}

const getDoc = `SELECT doc FROM rm_docs WHERE projection = $1 AND collection = $2 AND id = $3`

// Get implements readmodel.Store.
func (s *Store) Get(ctx context.Context, projection, collection, id string) (json.RawMessage, bool, error) {
	return get(ctx, s.pool, projection, collection, id)
}

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func get(ctx context.Context, q querier, projection, collection, id string) (json.RawMessage, bool, error) {
	var doc []byte
	err := q.QueryRow(ctx, getDoc, projection, collection, id).Scan(&doc)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read model: get %s/%s/%s: %w", projection, collection, id, err)
	}
	return doc, true, nil
}

// docKey names a document within a projection.
type docKey struct{ collection, id string }

// entry is the buffered state of one document written by the unit.
type entry struct {
	doc []byte // nil: deleted
	// order is the rank of the Put that gave the document its place in this unit; new documents
	// are inserted in that order.
	order int
	// deleted: the unit deleted the document at some point, so the stored row goes first and a
	// later Put inserts anew, at the end of the insertion order.
	deleted bool
}

type tx struct {
	pg         pgx.Tx
	projection string
	entries    map[docKey]*entry
	puts       int
	done       bool
}

var errTxDone = errors.New("read model: unit of work used after its Update returned")

// Checkpoint implements port.Tx, read in the unit's transaction after it took the projection's
// advisory lock: no other unit of the projection can commit until this one ends.
func (t *tx) Checkpoint(ctx context.Context) (event.Position, error) {
	if t.done {
		return 0, errTxDone
	}
	var pos int64
	err := t.pg.QueryRow(ctx, `SELECT position FROM projection_checkpoints WHERE name = $1`, t.projection).Scan(&pos)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read model: checkpoint of %s: %w", t.projection, err)
	}
	return event.Position(pos), nil
}

func (t *tx) Get(ctx context.Context, collection, id string) (json.RawMessage, bool, error) {
	if t.done {
		return nil, false, errTxDone
	}
	if e, ok := t.entries[docKey{collection, id}]; ok {
		if e.doc == nil {
			return nil, false, nil
		}
		return slices.Clone(e.doc), true, nil
	}
	return get(ctx, t.pg, t.projection, collection, id)
}

func (t *tx) Put(ctx context.Context, collection, id string, v any) error {
	if t.done {
		return errTxDone
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkNames(collection, id); err != nil {
		return err
	}
	doc, err := port.Encode(v)
	if err != nil {
		return fmt.Errorf("read model: put %s/%s: %w", collection, id, err)
	}
	k := docKey{collection, id}
	e := t.entries[k]
	switch {
	case e == nil:
		t.entries[k] = &entry{doc: doc, order: t.puts}
		t.puts++
	case e.doc == nil:
		e.doc, e.order = doc, t.puts
		t.puts++
	default:
		e.doc = doc
	}
	return nil
}

func (t *tx) Delete(ctx context.Context, collection, id string) error {
	if t.done {
		return errTxDone
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkNames(collection, id); err != nil {
		return err
	}
	k := docKey{collection, id}
	if e := t.entries[k]; e != nil {
		e.doc, e.deleted = nil, true
	} else {
		t.entries[k] = &entry{deleted: true}
	}
	return nil
}

func checkNames(collection, id string) error {
	if collection == "" || id == "" {
		return fmt.Errorf("read model: empty collection name or document id (%q, %q)", collection, id)
	}
	return nil
}

const (
	deleteDocs = `DELETE FROM rm_docs d
USING unnest($2::text[], $3::text[]) AS x(collection, id)
WHERE d.projection = $1 AND d.collection = x.collection AND d.id = x.id`

	// The ORDER BY makes the identity, and so the insertion order, follow the order of the Puts.
	upsertDocs = `INSERT INTO rm_docs (projection, collection, id, doc)
SELECT $1, x.collection, x.id, x.doc::jsonb
FROM unnest($2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS x(collection, id, doc, n)
ORDER BY x.n
ON CONFLICT (projection, collection, id) DO UPDATE SET doc = EXCLUDED.doc`

	setCheckpoint = `INSERT INTO projection_checkpoints (name, position, updated_at) VALUES ($1, $2, now())
ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position, updated_at = EXCLUDED.updated_at`
)

// flush writes the buffer and the checkpoint in one round trip.
func (t *tx) flush(ctx context.Context, through event.Position) error {
	type put struct {
		k   docKey
		doc []byte
		n   int
	}
	var delCollections, delIDs []string
	puts := make([]put, 0, len(t.entries))
	for k, e := range t.entries {
		if e.deleted {
			delCollections = append(delCollections, k.collection)
			delIDs = append(delIDs, k.id)
		}
		if e.doc != nil {
			puts = append(puts, put{k, e.doc, e.order})
		}
	}
	slices.SortFunc(puts, func(a, b put) int { return a.n - b.n })

	b := &pgx.Batch{}
	if len(delIDs) > 0 {
		b.Queue(deleteDocs, t.projection, delCollections, delIDs)
	}
	if len(puts) > 0 {
		collections := make([]string, len(puts))
		ids := make([]string, len(puts))
		docs := make([]string, len(puts))
		for i, p := range puts {
			collections[i], ids[i], docs[i] = p.k.collection, p.k.id, string(p.doc)
		}
		b.Queue(upsertDocs, t.projection, collections, ids, docs)
	}
	b.Queue(setCheckpoint, t.projection, int64(through))
	if err := t.pg.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("write %d documents: %w", len(puts), err)
	}
	return nil
}
