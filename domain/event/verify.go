package event

// BrokenLink names the first event whose hash chain does not hold.
type BrokenLink struct {
	Stream        string
	StreamVersion uint64
	EventID       string
	Reason        string
}

// ChainVerifier checks the per-stream hash chains while it is fed the global log in order.
// Streams whose start was removed by retention or truncation begin at their first remaining
// event: its PrevHash is taken on trust, every later link is checked.
type ChainVerifier struct {
	last    map[string]chainTip
	checked int
	broken  *BrokenLink
}

type chainTip struct {
	version uint64
	hash    Hash
}

// NewChainVerifier returns an empty verifier.
func NewChainVerifier() *ChainVerifier {
	return &ChainVerifier{last: make(map[string]chainTip)}
}

// Add checks one record. It returns false once a broken link has been found.
func (v *ChainVerifier) Add(r Record) bool {
	if v.broken != nil {
		return false
	}
	v.checked++
	fail := func(reason string) bool {
		v.broken = &BrokenLink{Stream: r.Stream, StreamVersion: r.StreamVersion, EventID: r.ID.String(), Reason: reason}
		return false
	}
	if ComputeHash(&r) != r.Hash {
		return fail("event hash does not match its content")
	}
	tip, seen := v.last[r.Stream]
	switch {
	case seen && r.StreamVersion != tip.version+1:
		return fail("stream version does not follow the previous event")
	case seen && r.PrevHash != tip.hash:
		return fail("previous-event hash does not match")
	case !seen && r.StreamVersion == 1 && !r.PrevHash.IsZero():
		return fail("first event of the stream has a previous-event hash")
	}
	v.last[r.Stream] = chainTip{version: r.StreamVersion, hash: r.Hash}
	return true
}

// Checked is the number of records examined.
func (v *ChainVerifier) Checked() int { return v.checked }

// Broken is the first broken link, or nil.
func (v *ChainVerifier) Broken() *BrokenLink { return v.broken }
