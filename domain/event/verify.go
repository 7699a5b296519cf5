package event

// BrokenLink names the first event whose hash chain does not hold.
type BrokenLink struct {
	Stream        string
	StreamVersion uint64
	EventID       string
	Reason        string
}

// ChainTip is where a stream's hash chain ends so far: its last event's version and hash.
type ChainTip struct {
	Version uint64
	Hash    Hash
}

// Reasons a record breaks its chain.
const (
	ReasonHashMismatch  = "event hash does not match its content"
	ReasonVersionGap    = "stream version does not follow the previous event"
	ReasonPrevHash      = "previous-event hash does not match"
	ReasonFirstWithPrev = "first event of the stream has a previous-event hash"
)

// CheckLink reports why r does not continue its stream's chain after tip ("" when it does);
// seen is false when no earlier event of the stream was seen (tip is then ignored). It does not
// recompute r's own hash: compare ComputeHash(&r) with r.Hash for that.
func CheckLink(tip ChainTip, seen bool, r *Record) string {
	switch {
	case seen && r.StreamVersion != tip.Version+1:
		return ReasonVersionGap
	case seen && r.PrevHash != tip.Hash:
		return ReasonPrevHash
	case !seen && r.StreamVersion == 1 && !r.PrevHash.IsZero():
		return ReasonFirstWithPrev
	}
	return ""
}

// ChainVerifier checks the per-stream hash chains while it is fed the global log in order.
// Streams whose start was removed by retention or truncation begin at their first remaining
// event: its PrevHash is taken on trust, every later link is checked.
type ChainVerifier struct {
	last    map[string]ChainTip
	checked int
	broken  *BrokenLink
}

// NewChainVerifier returns an empty verifier.
func NewChainVerifier() *ChainVerifier {
	return &ChainVerifier{last: make(map[string]ChainTip)}
}

// Add checks one record. It returns false once a broken link has been found.
func (v *ChainVerifier) Add(r Record) bool {
	if v.broken != nil {
		return false
	}
	v.checked++
	var reason string
	if ComputeHash(&r) != r.Hash {
		reason = ReasonHashMismatch
	} else {
		tip, seen := v.last[r.Stream]
		reason = CheckLink(tip, seen, &r)
	}
	if reason != "" {
		v.broken = &BrokenLink{Stream: r.Stream, StreamVersion: r.StreamVersion, EventID: r.ID.String(), Reason: reason}
		return false
	}
	v.last[r.Stream] = ChainTip{Version: r.StreamVersion, Hash: r.Hash}
	return true
}

// Checked is the number of records examined.
func (v *ChainVerifier) Checked() int { return v.checked }

// Broken is the first broken link, or nil.
func (v *ChainVerifier) Broken() *BrokenLink { return v.broken }
