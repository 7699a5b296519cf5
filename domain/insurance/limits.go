package insurance

import (
	"time"

	"github.com/google/uuid"
)

// Cover is one company's use of its per-kind limits, every period, folded from CoverStream. The
// company's claims are assessed against it with expected-version appends, so two assessments of
// one company never both spend the same remaining yen.
type Cover struct {
	CustomerNumber string
	used           map[coverKey]Yen
	byClaim        map[uuid.UUID]Yen
	// Version is the stream version folded so far.
	Version uint64
}

type coverKey struct {
	period Period
	kind   Kind
}

// CoverStream is the stream of a company's cover. Its periods share it: an assessment conflicts
// only with another of the same company, which is rare, and the audit trail files the stream under
// the customer number.
func CoverStream(customerNumber string) string { return coverCategory + "-" + customerNumber }

// PoolStream is the stream of the common limit of one period.
func PoolStream(p Period) string { return poolCategory + "-" + p.String() }

const (
	coverCategory = "insurancecover"
	poolCategory  = "insurancepool"
)

// Evolve applies one event of the company's cover. It updates the cover's tables in place (a
// stream of a busy company holds many events, and copying them for each would make loading
// quadratic): keep only the value it returns.
func (c Cover) Evolve(e any) Cover {
	c.Version++
	if u, ok := e.(*CoverUsed); ok {
		if c.used == nil {
			c.used, c.byClaim = map[coverKey]Yen{}, map[uuid.UUID]Yen{}
		}
		c.used[coverKey{u.Period, u.Kind}] += u.Amount
		c.byClaim[u.ClaimID] = u.Amount
		c.CustomerNumber = u.CustomerNumber
	}
	return c
}

// Used is what the company's claims of a kind were approved in a period.
func (c Cover) Used(p Period, k Kind) Yen { return c.used[coverKey{p, k}] }

// Remaining is what is left of the company's limit of a kind in a period.
func (c Cover) Remaining(p Period, k Kind, l Limits) Yen { return max(l.Of(k)-c.Used(p, k), 0) }

// UsedBy returns what a claim used of the cover; ok is false if it used nothing yet.
func (c Cover) UsedBy(claim uuid.UUID) (Yen, bool) {
	v, ok := c.byClaim[claim]
	return v, ok
}

// Use decides a claim's use of the cover: up to upTo, within what remains of its kind's limit in
// its period. A claim uses the cover once; asked again, Use returns what it used and no event.
// Using nothing records nothing.
func (c Cover) Use(claim uuid.UUID, customerNumber string, p Period, k Kind, upTo Yen, l Limits, now time.Time) (*CoverUsed, Yen) {
	if v, done := c.byClaim[claim]; done {
		return nil, v
	}
	amount := min(upTo, c.Remaining(p, k, l))
	if amount <= 0 {
		return nil, 0
	}
	return &CoverUsed{CustomerNumber: customerNumber, Period: p, Kind: k, ClaimID: claim, Amount: amount, UsedAt: now.UTC()}, amount
}

// Pool is the common limit of one period, folded from PoolStream: reservations by assessments of
// every company, and what they gave back.
type Pool struct {
	Period  Period
	net     Yen
	claims  map[uuid.UUID]poolClaim
	Version uint64
}

type poolClaim struct {
	customerNumber     string
	reserved, released Yen
	releaseDone        bool
}

// Evolve applies one event of the pool. Like Cover.Evolve it updates in place: keep only the
// value it returns.
func (p Pool) Evolve(e any) Pool {
	p.Version++
	if p.claims == nil {
		p.claims = map[uuid.UUID]poolClaim{}
	}
	switch e := e.(type) {
	case *PoolReserved:
		p.Period = e.Period
		p.net += e.Amount
		p.claims[e.ClaimID] = poolClaim{customerNumber: e.CustomerNumber, reserved: e.Amount}
	case *PoolReleased:
		p.net -= e.Amount
		c := p.claims[e.ClaimID]
		c.released, c.releaseDone = e.Amount, true
		p.claims[e.ClaimID] = c
	}
	return p
}

// Used is what the pool holds: reservations of assessments, less what they gave back.
func (p Pool) Used() Yen { return p.net }

// Remaining is what is left of the common limit.
func (p Pool) Remaining(l Limits) Yen { return max(l.Pool-p.net, 0) }

// ReservedBy returns what a claim reserved, net of what it gave back; ok is false if it
// reserved nothing yet.
func (p Pool) ReservedBy(claim uuid.UUID) (Yen, bool) {
	c, ok := p.claims[claim]
	return c.reserved - c.released, ok
}

// Reserve decides a claim's reservation in the pool: up to upTo, within what remains. A claim
// reserves once; asked again, Reserve returns what it holds and no event. Reserving nothing
// records nothing.
func (p Pool) Reserve(claim uuid.UUID, customerNumber string, period Period, upTo Yen, l Limits, now time.Time) (*PoolReserved, Yen) {
	if c, done := p.claims[claim]; done {
		return nil, c.reserved - c.released
	}
	amount := min(upTo, p.Remaining(l))
	if amount <= 0 {
		return nil, 0
	}
	return &PoolReserved{Period: period, ClaimID: claim, CustomerNumber: customerNumber, Amount: amount, ReservedAt: now.UTC()}, amount
}

// Release decides giving back what a claim reserved beyond keep (what its company's cover let it
// use). It happens once per claim; nothing to give back records nothing.
func (p Pool) Release(claim uuid.UUID, keep Yen, now time.Time) *PoolReleased {
	c, ok := p.claims[claim]
	if !ok || c.releaseDone || c.reserved <= keep {
		return nil
	}
	return &PoolReleased{Period: p.Period, ClaimID: claim, CustomerNumber: c.customerNumber, Amount: c.reserved - keep, ReleasedAt: now.UTC()}
}
