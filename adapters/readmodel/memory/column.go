package memory

import "math"

// column is one field's value in every slot of a collection, packed: the texts one after the
// other in one buffer, and per slot where its text is. A scan reads two dense arrays front to
// back instead of visiting a million documents scattered over the heap.
type column struct {
	spans []span
	text  []byte
	// garbage counts the bytes of text no span points at any more (replaced or deleted values).
	garbage int
}

// span is where a slot's value is in the column's text. ok is false for a field that is absent
// or null; those satisfy no condition and sort as "".
type span struct {
	off, n uint32
	ok     bool
}

// buildColumn extracts a field from the documents of every live slot.
func buildColumn(slots []doc, field string) *column {
	c := &column{spans: make([]span, len(slots))}
	for i := range slots {
		if !slots[i].deleted {
			c.set(i, lookup(slots[i].raw, field))
		}
	}
	return c
}

// value returns the text of a slot's value, without copying: it is valid only until the column
// changes, which needs the projection's write lock.
func (c *column) value(i int) ([]byte, bool) {
	s := c.spans[i]
	return c.text[s.off : s.off+s.n], s.ok
}

// set stores the value of slot i; i may be one past the end, for a new slot.
func (c *column) set(i int, v value) {
	if i == len(c.spans) {
		c.spans = append(c.spans, span{})
	}
	c.garbage += int(c.spans[i].n)
	if !v.ok {
		c.spans[i] = span{}
		return
	}
	if len(c.text)+len(v.s) > math.MaxUint32 {
		c.compact()
		if len(c.text)+len(v.s) > math.MaxUint32 {
			panic("read model: a column of the in-memory store outgrew 4 GiB")
		}
	}
	c.spans[i] = span{off: uint32(len(c.text)), n: uint32(len(v.s)), ok: true}
	c.text = append(c.text, v.s...)
}

// compactIfWasteful rewrites the text without garbage once garbage makes up half of it.
func (c *column) compactIfWasteful() {
	if c.garbage > 1<<20 && c.garbage*2 > len(c.text) {
		c.compact()
	}
}

func (c *column) compact() {
	text := make([]byte, 0, len(c.text)-c.garbage)
	for i, s := range c.spans {
		if s.ok {
			c.spans[i].off = uint32(len(text))
			text = append(text, c.text[s.off:s.off+s.n]...)
		}
	}
	c.text, c.garbage = text, 0
}

// keep keeps the spans of the slots listed, in that order, for the collection's compaction. The
// slots it drops are tombstones, whose spans are empty.
func (c *column) keep(slots []int) {
	spans := make([]span, len(slots))
	for j, i := range slots {
		spans[j] = c.spans[i]
	}
	c.spans = spans
}
