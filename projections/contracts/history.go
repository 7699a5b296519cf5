package contracts

import (
	"context"
	"sort"
	"time"

	"yorozu/domain/contract"
	"yorozu/domain/event"
	"yorozu/domain/order"
)

// Replay answers auditors from the event log itself, not from a read model.
type Replay struct {
	Events event.Streams
	Codec  *event.Registry
}

// History returns the events of a contract and of its orders, in log order: the contract's
// stream (which holds its change, cancel and simple-change orders) and the stream of the new
// order that opened it.
func (r Replay) History(ctx context.Context, customerNumber string) ([]event.Record, error) {
	own, err := r.Events.ReadStream(ctx, contract.Stream(customerNumber), 1, 0)
	if err != nil || len(own) == 0 {
		return nil, err
	}
	all := own
	if e, err := r.Codec.Decode(own[0]); err == nil {
		if opened, isOpen := e.(*contract.ContractOpened); isOpen {
			first, err := r.Events.ReadStream(ctx, order.Stream(opened.OrderID), 1, 0)
			if err != nil {
				return nil, err
			}
			all = append(first, own...)
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].Position < all[j].Position })
	return all, nil
}

// AsOf replays the contract to a point in business time and/or in recorded time (docs/product.md,
// bitemporal): only events effective at or before effectiveAt and recorded at or before knownAt
// count (a zero bound does not limit), applied in business-time order. A back-dated order
// recorded at X therefore changes the answer for an effectiveAt before X only when knownAt >= X.
// found is false when the contract did not exist as of that point.
func (r Replay) AsOf(ctx context.Context, customerNumber string, effectiveAt, knownAt time.Time) (contract.Contract, bool, error) {
	recs, err := r.Events.ReadStream(ctx, contract.Stream(customerNumber), 1, 0)
	if err != nil {
		return contract.Contract{}, false, err
	}
	var kept []event.Record
	for _, rec := range recs {
		if !knownAt.IsZero() && rec.RecordedAt.After(knownAt) {
			continue
		}
		if !effectiveAt.IsZero() && rec.EffectiveAt.After(effectiveAt) {
			continue
		}
		kept = append(kept, rec)
	}
	sort.SliceStable(kept, func(i, j int) bool { return kept[i].EffectiveAt.Before(kept[j].EffectiveAt) })
	var c contract.Contract
	var version uint64 // the highest stream version that counts, whatever the business order
	for _, rec := range kept {
		e, err := r.Codec.Decode(rec)
		if err != nil {
			return contract.Contract{}, false, err
		}
		c = c.Evolve(e)
		version = max(version, rec.StreamVersion)
	}
	c.Version = version
	return c, c.Exists(), nil
}
