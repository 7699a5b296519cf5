// Package mailmagazine keeps the mail magazine's read models: its recipients over time (a roster
// in this process's memory, folded from the contract events) and its issues (documents).
package mailmagazine

import (
	"context"
	"slices"
	"sync"

	"yorozu/domain/calendar"
	"yorozu/domain/contract"
	"yorozu/domain/event"
	"yorozu/domain/mailmagazine"
	"yorozu/projections"
	"yorozu/projections/readmodel"
)

// RecipientsName is the name of the recipients projection.
const RecipientsName = "mail-magazine-recipients"

// Recipients is a volatile projection: the roster lives in memory (50,000 addresses with their
// dates are a few megabytes) and is rebuilt from the log at every start, because "as of any date"
// and the history are both cheaper to answer from the whole roster than from documents.
type Recipients struct {
	handlers *projections.Handlers

	mu     sync.Mutex
	roster mailmagazine.Roster
	// gen counts changes; asOf caches the last listing per date until the next change.
	gen   uint64
	cache map[calendar.Date]cached
}

type cached struct {
	gen  uint64
	list []mailmagazine.Recipient
}

// NewRecipients returns an empty projection decoding with codec.
func NewRecipients(codec *event.Registry) *Recipients {
	r := &Recipients{handlers: projections.NewHandlers(codec), cache: map[calendar.Date]cached{}}
	projections.On(r.handlers, func(_ context.Context, _ readmodel.Tx, rec event.Record, e *contract.ContractOpened) error {
		r.apply(mailmagazine.Change{CustomerNumber: e.CustomerNumber, Kind: mailmagazine.Opened, On: e.OpenedOn, Seq: uint64(rec.Position),
			ContactEmails: e.ContractContact.Email, SecurityEmail: e.SecurityContact.Email})
		return nil
	})
	projections.On(r.handlers, func(_ context.Context, _ readmodel.Tx, rec event.Record, e *contract.ContractorDetailsChanged) error {
		r.apply(mailmagazine.Change{CustomerNumber: e.CustomerNumber, Kind: mailmagazine.ContactChanged, On: e.EffectiveOn,
			Seq: uint64(rec.Position), ContactEmails: e.ContractContact.Email})
		return nil
	})
	projections.On(r.handlers, func(_ context.Context, _ readmodel.Tx, rec event.Record, e *contract.ContractChanged) error {
		if e.SecurityContact != nil {
			r.apply(mailmagazine.Change{CustomerNumber: e.CustomerNumber, Kind: mailmagazine.SecurityChanged, On: e.EffectiveOn,
				Seq: uint64(rec.Position), SecurityEmail: e.SecurityContact.Email})
		}
		return nil
	})
	projections.On(r.handlers, func(_ context.Context, _ readmodel.Tx, rec event.Record, e *contract.ContractTerminated) error {
		r.apply(mailmagazine.Change{CustomerNumber: e.CustomerNumber, Kind: mailmagazine.Terminated, On: e.TerminatedOn, Seq: uint64(rec.Position)})
		return nil
	})
	return r
}

func (r *Recipients) apply(c mailmagazine.Change) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.roster.Apply(c)
	r.gen++
}

// Name implements projections.Projection.
func (*Recipients) Name() string { return RecipientsName }

// Volatile implements projections.Volatile.
func (*Recipients) Volatile() bool { return true }

// Apply implements projections.Projection.
func (r *Recipients) Apply(ctx context.Context, unit readmodel.Tx, rec event.Record) error {
	if _, ok := contract.CustomerNumberOfStream(rec.Stream); !ok {
		return nil
	}
	return r.handlers.Apply(ctx, unit, rec)
}

// AsOf lists the recipients as of a date, by address. The slice is shared: do not change it.
func (r *Recipients) AsOf(d calendar.Date) []mailmagazine.Recipient {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.cache[d]; ok && c.gen == r.gen {
		return c.list
	}
	list := r.roster.AsOf(d)
	if len(r.cache) > 64 {
		clear(r.cache)
	}
	r.cache[d] = cached{gen: r.gen, list: list}
	return list
}

// Page is one page of a listing: More says whether items follow the last one; Count is the size
// of the whole listing.
type Page[T any] struct {
	Items []T
	More  bool
	Count int
}

// RecipientsPage pages through the recipients as of a date, after the address `after`.
func (r *Recipients) RecipientsPage(d calendar.Date, after string, limit int) Page[mailmagazine.Recipient] {
	list := r.AsOf(d)
	i, _ := slices.BinarySearchFunc(list, after, func(rc mailmagazine.Recipient, a string) int {
		switch {
		case rc.Email < a:
			return -1
		case rc.Email > a:
			return 1
		}
		return 0
	})
	if after != "" && i < len(list) && list[i].Email == after {
		i++
	}
	end := min(len(list), i+limit)
	p := Page[mailmagazine.Recipient]{Items: list[i:end], Count: len(list)}
	p.More = end < len(list) && end > i
	return p
}

// RecipientEmails lists the addresses as of a date, sorted (the delivery's input).
func (r *Recipients) RecipientEmails(_ context.Context, d calendar.Date) ([]string, error) {
	list := r.AsOf(d)
	out := make([]string, len(list))
	for i, rc := range list {
		out[i] = rc.Email
	}
	return out, nil
}

// HistoryPage pages through the joins and leaves in date order, after the entry `after`.
func (r *Recipients) HistoryPage(after *mailmagazine.HistoryEntry, limit int) Page[mailmagazine.HistoryEntry] {
	r.mu.Lock()
	defer r.mu.Unlock()
	h := r.roster.History()
	i := 0
	if after != nil {
		i, _ = slices.BinarySearchFunc(h, *after, mailmagazine.CompareHistory)
		if i < len(h) && mailmagazine.CompareHistory(h[i], *after) == 0 {
			i++
		}
	}
	end := min(len(h), i+limit)
	p := Page[mailmagazine.HistoryEntry]{Items: slices.Clone(h[i:end]), Count: len(h)}
	p.More = end < len(h) && end > i
	return p
}
