// Package memory is the in-memory read-model store, the embedded default: read models live in
// memory and are rebuilt from the event log at start (SPEC 13).
//
// A collection is an insertion-ordered slice of documents with an id→slot index. Deleted slots
// stay as tombstones until they outnumber the live documents, so that deletes stay cheap and
// every slot keeps its insertion sequence, which is what cursors of insertion-ordered queries
// point at. Documents are kept as their JSON text; their top-level fields are decoded the first
// time a query looks at them and cached on the document.
//
// A unit of work is a write buffer: fn runs without holding any lock the readers need, and the
// buffer is applied under the projection's write lock at commit, together with the checkpoint.
package memory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"

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

	mu          sync.RWMutex // guards the fields below
	checkpoint  event.Position
	collections map[string]*collection
}

type collection struct {
	slots      []*doc         // in insertion order; a tombstone has deleted set
	index      map[string]int // id → slot of the live document
	nextSeq    uint64
	tombstones int
}

type doc struct {
	id      string
	seq     uint64 // insertion sequence within the collection, kept when the document is replaced
	raw     string
	deleted bool
	fields  atomic.Pointer[[]field] // decoded on first use; readers race benignly to fill it
}

func (d *doc) field(name string) (string, bool) {
	fs := d.fields.Load()
	if fs == nil {
		parsed := parseFields(d.raw)
		fs = &parsed
		d.fields.Store(fs)
	}
	// The last of duplicate names wins, as in PostgreSQL's jsonb.
	for i := len(*fs) - 1; i >= 0; i-- {
		if (*fs)[i].name == name {
			return (*fs)[i].value, true
		}
	}
	return "", false
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
	for _, o := range t.ops {
		c := p.collections[o.collection]
		if c == nil {
			c = &collection{index: make(map[string]int)}
			p.collections[o.collection] = c
		}
		if o.deleted {
			c.remove(o.id)
		} else {
			c.put(o.id, o.raw)
		}
	}
	for _, c := range p.collections {
		c.compact()
	}
	p.checkpoint = through
	return nil
}

func (c *collection) put(id, raw string) {
	if i, ok := c.index[id]; ok {
		c.slots[i] = &doc{id: id, seq: c.slots[i].seq, raw: raw}
		return
	}
	c.nextSeq++
	c.index[id] = len(c.slots)
	c.slots = append(c.slots, &doc{id: id, seq: c.nextSeq, raw: raw})
}

func (c *collection) remove(id string) {
	i, ok := c.index[id]
	if !ok {
		return
	}
	delete(c.index, id)
	c.slots[i] = &doc{id: id, seq: c.slots[i].seq, deleted: true}
	c.tombstones++
}

// compact drops the tombstones once they make up half of the slots.
func (c *collection) compact() {
	if c.tombstones < 64 || c.tombstones*2 < len(c.slots) {
		return
	}
	live := make([]*doc, 0, len(c.slots)-c.tombstones)
	for _, d := range c.slots {
		if !d.deleted {
			c.index[d.id] = len(live)
			live = append(live, d)
		}
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
	b, err := json.Marshal(v)
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
	m, err := newMatcher(q)
	if err != nil {
		return readmodel.Page{}, err
	}
	shape := shapeOf(q)
	var after *cursor
	if q.After != "" {
		c, err := decodeCursor(q.After, shape)
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

	var docs []*doc
	if q.OrderBy == "" {
		docs = c.scanInserted(m, q.Desc, after, limit+1)
	} else {
		docs = c.scanOrdered(m, q.OrderBy, q.Desc, after, limit+1)
	}

	var page readmodel.Page
	if len(docs) > limit {
		docs = docs[:limit]
		last := docs[limit-1]
		next := cursor{Shape: shape, Seq: last.seq}
		if q.OrderBy != "" {
			v, _ := last.field(q.OrderBy)
			next = cursor{Shape: shape, Value: v, ID: last.id}
		}
		page.Next = next.encode()
	}
	page.Docs = make([]json.RawMessage, len(docs))
	for i, d := range docs {
		page.Docs[i] = json.RawMessage(d.raw)
	}
	return page, nil
}

// scanInserted walks the slots in insertion order (or backwards) from the cursor and stops as
// soon as it has n matches.
func (c *collection) scanInserted(m *matcher, desc bool, after *cursor, n int) []*doc {
	var out []*doc
	if !desc {
		start := 0
		if after != nil {
			start = sort.Search(len(c.slots), func(i int) bool { return c.slots[i].seq > after.Seq })
		}
		for i := start; i < len(c.slots) && len(out) < n; i++ {
			if d := c.slots[i]; !d.deleted && m.match(d) {
				out = append(out, d)
			}
		}
		return out
	}
	end := len(c.slots)
	if after != nil {
		end = sort.Search(len(c.slots), func(i int) bool { return c.slots[i].seq >= after.Seq })
	}
	for i := end - 1; i >= 0 && len(out) < n; i-- {
		if d := c.slots[i]; !d.deleted && m.match(d) {
			out = append(out, d)
		}
	}
	return out
}

// keyed is a document with its order value.
type keyed struct {
	value string
	d     *doc
}

// scanOrdered looks at every document and keeps the first n past the cursor in a bounded heap,
// so a page costs one pass and no sort of the whole collection.
func (c *collection) scanOrdered(m *matcher, orderBy string, desc bool, after *cursor, n int) []*doc {
	// before reports whether a comes before b in the listing's order.
	before := func(aValue, aID, bValue, bID string) bool {
		if aValue != bValue {
			return (aValue < bValue) != desc
		}
		if aID != bID {
			return (aID < bID) != desc
		}
		return false
	}
	h := &boundedHeap{before: before}
	for _, d := range c.slots {
		if d.deleted || !m.match(d) {
			continue
		}
		v, _ := d.field(orderBy)
		if after != nil && !before(after.Value, after.ID, v, d.id) {
			continue
		}
		h.offer(keyed{v, d}, n)
	}
	items := h.items
	sort.Slice(items, func(i, j int) bool {
		return before(items[i].value, items[i].d.id, items[j].value, items[j].d.id)
	})
	out := make([]*doc, len(items))
	for i, k := range items {
		out[i] = k.d
	}
	return out
}

// boundedHeap keeps the n first items seen; its root is the last of them.
type boundedHeap struct {
	items  []keyed
	before func(aValue, aID, bValue, bID string) bool
}

func (h *boundedHeap) later(i, j int) bool {
	a, b := h.items[i], h.items[j]
	return h.before(b.value, b.d.id, a.value, a.d.id)
}

func (h *boundedHeap) offer(k keyed, n int) {
	if len(h.items) < n {
		h.items = append(h.items, k)
		for i := len(h.items) - 1; i > 0; {
			parent := (i - 1) / 2
			if !h.later(i, parent) {
				break
			}
			h.items[i], h.items[parent] = h.items[parent], h.items[i]
			i = parent
		}
		return
	}
	root := h.items[0]
	if !h.before(k.value, k.d.id, root.value, root.d.id) {
		return
	}
	h.items[0] = k
	for i := 0; ; {
		l, r, largest := 2*i+1, 2*i+2, i
		if l < len(h.items) && h.later(l, largest) {
			largest = l
		}
		if r < len(h.items) && h.later(r, largest) {
			largest = r
		}
		if largest == i {
			return
		}
		h.items[i], h.items[largest] = h.items[largest], h.items[i]
		i = largest
	}
}
