// Package memory is the in-memory read-model store, the embedded default: read models live in
// memory and are rebuilt from the event log at start (docs/architecture.md).
//
// A collection is an insertion-ordered slice of documents with an id→slot index. Deleted slots
// stay as tombstones until they make up half of the slice, so that deletes stay cheap and every
// slot keeps its insertion sequence, which is what the cursors of insertion-ordered queries
// point at. Documents are kept as their JSON text. A field that a query looks at gets a column:
// its value for every slot, extracted from the text the first time the field is queried and kept
// up to date by every commit after that. A scan then walks two dense slices instead of chasing a
// decoded document per slot, which keeps a query over a million documents in milliseconds.
//
// A unit of work is a write buffer: fn runs without holding any lock the readers need, and the
// buffer is applied under the projection's write lock at commit, together with the checkpoint.
package memory

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"

	"yorozu/domain/event"
	"yorozu/projections/readmodel"
)

// Store is the in-memory readmodel.Store. The zero value is not usable; call New.
type Store struct {
	mu          sync.Mutex
	projections map[string]*projection
}

var _ readmodel.Store = (*Store)(nil)

// New returns an empty store.
func New() *Store {
	return &Store{projections: make(map[string]*projection)}
}

// projection holds the documents and checkpoint of one projection.
type projection struct {
	// writer admits one unit of work (or reset) at a time, so that a unit's reads of committed
	// documents cannot be overtaken by another unit of the same projection.
	writer sync.Mutex

	mu          sync.RWMutex // guards the fields below and everything in the collections
	checkpoint  event.Position
	collections map[string]*collection
}

type collection struct {
	slots      []doc          // in insertion order
	index      map[string]int // id → slot of the live document
	nextSeq    uint64
	tombstones int

	// columns holds, per queried field, its value in every slot. Readers add columns while they
	// hold the projection's read lock, so adding (and looking up) takes columnsMu too; commits,
	// which hold the write lock, change them freely.
	columnsMu sync.Mutex
	columns   map[string]*column
}

type doc struct {
	id      string
	seq     uint64 // insertion sequence within the collection, kept when the document is replaced
	raw     string
	deleted bool
}

func newCollection() *collection {
	return &collection{index: make(map[string]int), columns: make(map[string]*column)}
}

// column returns the column of a field, building it on first use.
func (c *collection) column(field string) *column {
	c.columnsMu.Lock()
	defer c.columnsMu.Unlock()
	col, ok := c.columns[field]
	if !ok {
		col = buildColumn(c.slots, field)
		c.columns[field] = col
	}
	return col
}

// project returns the projection, creating it when create is set; nil if it does not exist.
func (s *Store) project(name string, create bool) *projection {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.projections[name]
	if p == nil && create {
		p = &projection{collections: make(map[string]*collection)}
		s.projections[name] = p
	}
	return p
}

// Update implements readmodel.Store.
func (s *Store) Update(ctx context.Context, projectionName string, through event.Position, fn func(readmodel.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p := s.project(projectionName, true)
	p.writer.Lock()
	defer p.writer.Unlock()

	t := &tx{p: p}
	err := fn(t)
	t.done = true
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	touched := make(map[*collection]bool)
	for _, o := range t.ops {
		c := p.collections[o.collection]
		if c == nil {
			c = newCollection()
			p.collections[o.collection] = c
		}
		touched[c] = true
		if o.deleted {
			c.remove(o.id)
		} else {
			c.put(o.id, o.raw)
		}
	}
	for c := range touched {
		c.compact()
		for _, col := range c.columns {
			col.compactIfWasteful()
		}
	}
	p.checkpoint = through
	return nil
}

func (c *collection) put(id, raw string) {
	i, ok := c.index[id]
	if ok {
		c.slots[i].raw = raw
	} else {
		c.nextSeq++
		i = len(c.slots)
		c.index[id] = i
		c.slots = append(c.slots, doc{id: id, seq: c.nextSeq, raw: raw})
	}
	for field, col := range c.columns {
		col.set(i, lookup(raw, field))
	}
}

func (c *collection) remove(id string) {
	i, ok := c.index[id]
	if !ok {
		return
	}
	delete(c.index, id)
	c.slots[i] = doc{id: id, seq: c.slots[i].seq, deleted: true}
	for _, col := range c.columns {
		col.set(i, value{})
	}
	c.tombstones++
}

// compact drops the tombstones once they make up half of the slots.
func (c *collection) compact() {
	if c.tombstones < 64 || c.tombstones*2 < len(c.slots) {
		return
	}
	keep := make([]int, 0, len(c.slots)-c.tombstones)
	for i := range c.slots {
		if !c.slots[i].deleted {
			keep = append(keep, i)
		}
	}
	live := make([]doc, len(keep))
	for j, i := range keep {
		live[j] = c.slots[i]
		c.index[live[j].id] = j
	}
	for _, col := range c.columns {
		col.keep(keep)
	}
	c.slots = live
	c.tombstones = 0
}

// Checkpoint implements readmodel.Store.
func (s *Store) Checkpoint(ctx context.Context, projectionName string) (event.Position, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	p := s.project(projectionName, false)
	if p == nil {
		return 0, nil
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.checkpoint, nil
}

// Reset implements readmodel.Store.
func (s *Store) Reset(ctx context.Context, projectionName string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p := s.project(projectionName, false)
	if p == nil {
		return nil
	}
	p.writer.Lock()
	defer p.writer.Unlock()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.collections = make(map[string]*collection)
	p.checkpoint = 0
	return nil
}

// Get implements readmodel.Store.
func (s *Store) Get(ctx context.Context, projectionName, collectionName, id string) (json.RawMessage, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	p := s.project(projectionName, false)
	if p == nil {
		return nil, false, nil
	}
	raw, ok := p.get(collectionName, id)
	return raw, ok, nil
}

func (p *projection) get(collectionName, id string) (json.RawMessage, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	c := p.collections[collectionName]
	if c == nil {
		return nil, false
	}
	i, ok := c.index[id]
	if !ok {
		return nil, false
	}
	return json.RawMessage(c.slots[i].raw), true
}

// docKey names a document within a projection.
type docKey struct{ collection, id string }

// op is one buffered write. A unit's writes are applied in the order they were made, so that a
// document deleted and put again within one unit moves to the end like it would across units.
type op struct {
	collection, id string
	raw            string
	deleted        bool
}

type tx struct {
	p      *projection
	ops    []op
	latest map[docKey]int // → the index in ops of the last write of the document; nil until a Get
	done   bool
}

var errTxDone = errors.New("read model: unit of work used after its Update returned")

// Checkpoint implements readmodel.Tx: units of one projection run one at a time (its writer
// lock), so the committed checkpoint cannot move under this one.
func (t *tx) Checkpoint(context.Context) (event.Position, error) {
	if t.done {
		return 0, errTxDone
	}
	t.p.mu.RLock()
	defer t.p.mu.RUnlock()
	return t.p.checkpoint, nil
}

func (t *tx) Get(ctx context.Context, collectionName, id string) (json.RawMessage, bool, error) {
	if t.done {
		return nil, false, errTxDone
	}
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	if t.latest == nil {
		// Built on the first read only: a unit that only writes, like most of a rebuild, does
		// not pay for the index.
		t.latest = make(map[docKey]int, len(t.ops))
		for i, o := range t.ops {
			t.latest[docKey{o.collection, o.id}] = i
		}
	}
	if i, ok := t.latest[docKey{collectionName, id}]; ok {
		o := t.ops[i]
		if o.deleted {
			return nil, false, nil
		}
		return json.RawMessage(o.raw), true, nil
	}
	raw, ok := t.p.get(collectionName, id)
	return raw, ok, nil
}

func (t *tx) Put(ctx context.Context, collectionName, id string, v any) error {
	if t.done {
		return errTxDone
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkNames(collectionName, id); err != nil {
		return err
	}
	b, err := readmodel.Encode(v)
	if err != nil {
		return fmt.Errorf("read model: put %s/%s: %w", collectionName, id, err)
	}
	t.write(op{collection: collectionName, id: id, raw: string(b)})
	return nil
}

func (t *tx) Delete(ctx context.Context, collectionName, id string) error {
	if t.done {
		return errTxDone
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkNames(collectionName, id); err != nil {
		return err
	}
	t.write(op{collection: collectionName, id: id, deleted: true})
	return nil
}

func (t *tx) write(o op) {
	if t.latest != nil {
		t.latest[docKey{o.collection, o.id}] = len(t.ops)
	}
	t.ops = append(t.ops, o)
}

func checkNames(collectionName, id string) error {
	if collectionName == "" || id == "" {
		return fmt.Errorf("read model: empty collection name or document id (%q, %q)", collectionName, id)
	}
	return nil
}

// Find implements readmodel.Store.
func (s *Store) Find(ctx context.Context, projectionName string, q readmodel.Query) (readmodel.Page, error) {
	if err := ctx.Err(); err != nil {
		return readmodel.Page{}, err
	}
	conds, err := prepare(q)
	if err != nil {
		return readmodel.Page{}, err
	}
	shape := q.Shape("memory/1")
	var after *readmodel.Cursor
	if q.After != "" {
		c, err := readmodel.DecodeCursor(q.After, shape)
		if err != nil {
			return readmodel.Page{}, err
		}
		after = &c
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}

	p := s.project(projectionName, false)
	if p == nil {
		return readmodel.Page{}, nil
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	c := p.collections[q.Collection]
	if c == nil {
		return readmodel.Page{}, nil
	}

	m := conds.bind(c)
	var slots []int
	var order *column
	if q.OrderBy == "" {
		slots = c.scanInserted(m, q.Desc, after, limit+1)
	} else {
		order = c.column(q.OrderBy)
		slots = c.scanOrdered(m, order, q.Desc, after, limit+1)
	}

	var page readmodel.Page
	if len(slots) > limit {
		slots = slots[:limit]
		last := slots[limit-1]
		next := readmodel.Cursor{Shape: shape, Seq: int64(c.slots[last].seq)}
		if q.OrderBy != "" {
			v, _ := order.value(last)
			next = readmodel.Cursor{Shape: shape, Value: string(v), ID: c.slots[last].id}
		}
		page.Next = next.Encode()
	}
	page.Docs = make([]json.RawMessage, len(slots))
	for i, slot := range slots {
		page.Docs[i] = json.RawMessage(c.slots[slot].raw)
	}
	return page, nil
}

// scanInserted walks the slots in insertion order (or backwards) from the cursor and stops as
// soon as it has n matches.
func (c *collection) scanInserted(m *matcher, desc bool, after *readmodel.Cursor, n int) []int {
	var out []int
	if !desc {
		start := 0
		if after != nil {
			start = sort.Search(len(c.slots), func(i int) bool { return c.slots[i].seq > uint64(after.Seq) })
		}
		for i := start; i < len(c.slots) && len(out) < n; i++ {
			if !c.slots[i].deleted && m.match(i) {
				out = append(out, i)
			}
		}
		return out
	}
	end := len(c.slots)
	if after != nil {
		end = sort.Search(len(c.slots), func(i int) bool { return c.slots[i].seq >= uint64(after.Seq) })
	}
	for i := end - 1; i >= 0 && len(out) < n; i-- {
		if !c.slots[i].deleted && m.match(i) {
			out = append(out, i)
		}
	}
	return out
}

// scanOrdered looks at every document and keeps the first n past the cursor in a bounded heap,
// so that a page costs one pass and no sort of the whole collection. An absent order field sorts
// as "".
func (c *collection) scanOrdered(m *matcher, order *column, desc bool, after *readmodel.Cursor, n int) []int {
	h := &boundedHeap{before: func(i, j int) bool {
		a, _ := order.value(i)
		b, _ := order.value(j)
		return precedes(a, c.slots[i].id, b, c.slots[j].id, desc)
	}}
	var afterValue []byte
	if after != nil {
		afterValue = []byte(after.Value)
	}
	// Documents tend to arrive in the order of their dates: walking the slots in the listing's
	// direction lets the heap fill with winners early, so that later slots rarely enter it.
	for k := range c.slots {
		i := k
		if desc {
			i = len(c.slots) - 1 - k
		}
		if c.slots[i].deleted || !m.match(i) {
			continue
		}
		if after != nil {
			v, _ := order.value(i)
			if !precedes(afterValue, after.ID, v, c.slots[i].id, desc) {
				continue
			}
		}
		h.offer(i, n)
	}
	sort.Slice(h.slots, func(a, b int) bool { return h.before(h.slots[a], h.slots[b]) })
	return h.slots
}

// precedes reports whether the document (aValue, aID) comes before (bValue, bID) in a listing
// ordered by value, ties broken by id in the same direction.
func precedes(aValue []byte, aID string, bValue []byte, bID string, desc bool) bool {
	if c := bytes.Compare(aValue, bValue); c != 0 {
		return (c < 0) != desc
	}
	if aID != bID {
		return (aID < bID) != desc
	}
	return false
}

// boundedHeap keeps the n first slots offered; its root is the last of them.
type boundedHeap struct {
	slots  []int
	before func(i, j int) bool
}

func (h *boundedHeap) later(a, b int) bool { return h.before(h.slots[b], h.slots[a]) }

func (h *boundedHeap) offer(slot, n int) {
	if len(h.slots) < n {
		h.slots = append(h.slots, slot)
		for i := len(h.slots) - 1; i > 0; {
			parent := (i - 1) / 2
			if !h.later(i, parent) {
				break
			}
			h.slots[i], h.slots[parent] = h.slots[parent], h.slots[i]
			i = parent
		}
		return
	}
	if !h.before(slot, h.slots[0]) {
		return
	}
	h.slots[0] = slot
	for i := 0; ; {
		l, r, latest := 2*i+1, 2*i+2, i
		if l < len(h.slots) && h.later(l, latest) {
			latest = l
		}
		if r < len(h.slots) && h.later(r, latest) {
			latest = r
		}
		if latest == i {
			return
		}
		h.slots[i], h.slots[latest] = h.slots[latest], h.slots[i]
		i = latest
	}
}
