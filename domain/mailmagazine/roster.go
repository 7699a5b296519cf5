package mailmagazine

import (
	"cmp"
	"slices"
	"strings"

	"yorozu/domain/calendar"
)

// Addresses are the magazine addresses a contract's form registers: every address of the contract
// contact's e-mail list (comma-separated) and the security contact's e-mail, trimmed, lower-cased,
// without duplicates, sorted.
func Addresses(contactEmails, securityEmail string) []string {
	var out []string
	for _, a := range append(strings.Split(contactEmails, ","), securityEmail) {
		if a = strings.ToLower(strings.TrimSpace(a)); a != "" && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	slices.Sort(out)
	return out
}

// ChangeKind says what a contract change does to its addresses.
type ChangeKind uint8

// The changes that matter to the magazine.
const (
	// Opened: the contract joins with its contact and security addresses.
	Opened ChangeKind = iota + 1
	// ContactChanged: a simple change replaced the contract contact (its e-mail list).
	ContactChanged
	// SecurityChanged: a change order replaced the security contact.
	SecurityChanged
	// Terminated: the contract leaves.
	Terminated
)

// Change is one dated change of a contract's registered addresses. Seq orders changes of the
// same date (the position of their event in the log).
type Change struct {
	CustomerNumber string
	Kind           ChangeKind
	On             calendar.Date
	Seq            uint64
	ContactEmails  string
	SecurityEmail  string
}

// segment: from On (inclusive) until To (exclusive; zero = still), the contract's addresses.
type segment struct {
	from, to calendar.Date
	emails   []string
}

type member struct {
	changes  []Change
	segments []segment
}

// Roster is the magazine's recipients over time, folded from contract changes in any order: as
// of a date, every active contract's addresses; and the history of who joined and left when.
// The zero Roster is empty and ready. A Roster is not safe for concurrent use.
type Roster struct {
	members map[string]*member
	// index: the recipients' histories, rebuilt when the roster changed since (dirty).
	dirty     bool
	intervals map[string][]interval
	history   []HistoryEntry
}

// Apply adds one change.
func (r *Roster) Apply(c Change) {
	if r.members == nil {
		r.members = map[string]*member{}
	}
	m := r.members[c.CustomerNumber]
	if m == nil {
		m = &member{}
		r.members[c.CustomerNumber] = m
	}
	m.changes = append(m.changes, c)
	slices.SortStableFunc(m.changes, func(a, b Change) int {
		if d := a.On.Compare(b.On); d != 0 {
			return d
		}
		return cmp.Compare(a.Seq, b.Seq)
	})
	m.segments = segmentsOf(m.changes)
	r.dirty = true
}

// segmentsOf folds a contract's sorted changes into dated address sets.
func segmentsOf(changes []Change) []segment {
	var (
		out              []segment
		open             bool
		contact, secured string
	)
	for i, c := range changes {
		switch c.Kind {
		case Opened:
			open, contact, secured = true, c.ContactEmails, c.SecurityEmail
		case ContactChanged:
			contact = c.ContactEmails
		case SecurityChanged:
			secured = c.SecurityEmail
		case Terminated:
			open = false
		}
		if i+1 < len(changes) && changes[i+1].On == c.On {
			continue // the day's last change decides the day
		}
		if n := len(out); n > 0 && out[n-1].to.IsZero() {
			out[n-1].to = c.On
		}
		if open {
			out = append(out, segment{from: c.On, emails: Addresses(contact, secured)})
		}
	}
	// Drop empty segments and join neighbours with the same addresses.
	var joined []segment
	for _, s := range out {
		if !s.to.IsZero() && !s.from.Before(s.to) {
			continue
		}
		if n := len(joined); n > 0 && joined[n-1].to == s.from && slices.Equal(joined[n-1].emails, s.emails) {
			joined[n-1].to = s.to
			continue
		}
		joined = append(joined, s)
	}
	return joined
}

func (s segment) covers(d calendar.Date) bool {
	return !d.Before(s.from) && (s.to.IsZero() || d.Before(s.to))
}

// interval: an address is a recipient from (inclusive) until to (exclusive; zero = still).
type interval struct{ from, to calendar.Date }

// Recipient is one address as of a date: the contracts that register it, and since when it has
// been a recipient without a break.
type Recipient struct {
	Email           string        `json:"email"`
	CustomerNumbers []string      `json:"customerNumbers"`
	Since           calendar.Date `json:"since"`
}

// AsOf lists the recipients as of d, by address.
func (r *Roster) AsOf(d calendar.Date) []Recipient {
	r.reindex()
	byEmail := map[string]*Recipient{}
	for cn, m := range r.members {
		for _, s := range m.segments {
			if !s.covers(d) {
				continue
			}
			for _, e := range s.emails {
				rc := byEmail[e]
				if rc == nil {
					rc = &Recipient{Email: e}
					byEmail[e] = rc
				}
				rc.CustomerNumbers = append(rc.CustomerNumbers, cn)
			}
		}
	}
	out := make([]Recipient, 0, len(byEmail))
	for e, rc := range byEmail {
		slices.Sort(rc.CustomerNumbers)
		for _, iv := range r.intervals[e] {
			if !d.Before(iv.from) && (iv.to.IsZero() || d.Before(iv.to)) {
				rc.Since = iv.from
				break
			}
		}
		out = append(out, *rc)
	}
	slices.SortFunc(out, func(a, b Recipient) int { return strings.Compare(a.Email, b.Email) })
	return out
}

// Change values of a HistoryEntry.
const (
	Added   = "added"
	Removed = "removed"
)

// HistoryEntry is one address joining or leaving through one contract.
type HistoryEntry struct {
	Date           calendar.Date `json:"date"`
	Email          string        `json:"email"`
	CustomerNumber string        `json:"customerNumber"`
	Change         string        `json:"change"`
}

// CompareHistory orders the history: by date, then contract, address and change.
func CompareHistory(a, b HistoryEntry) int {
	if c := a.Date.Compare(b.Date); c != 0 {
		return c
	}
	if c := strings.Compare(a.CustomerNumber, b.CustomerNumber); c != 0 {
		return c
	}
	if c := strings.Compare(a.Email, b.Email); c != 0 {
		return c
	}
	return strings.Compare(a.Change, b.Change)
}

// History is every join and leave, in date order (CompareHistory). The slice is the roster's
// own: do not change it.
func (r *Roster) History() []HistoryEntry {
	r.reindex()
	return r.history
}

// reindex rebuilds the per-address intervals and the history after changes.
func (r *Roster) reindex() {
	if !r.dirty && r.intervals != nil {
		return
	}
	r.intervals = map[string][]interval{}
	r.history = r.history[:0]
	for cn, m := range r.members {
		// Per address of this contract: the runs of consecutive segments that hold it.
		runs := map[string][]interval{}
		for _, s := range m.segments {
			for _, e := range s.emails {
				rs := runs[e]
				if n := len(rs); n > 0 && rs[n-1].to == s.from && !s.from.IsZero() {
					rs[n-1].to = s.to
				} else {
					rs = append(rs, interval{from: s.from, to: s.to})
				}
				runs[e] = rs
			}
		}
		for e, rs := range runs {
			for _, iv := range rs {
				r.history = append(r.history, HistoryEntry{Date: iv.from, Email: e, CustomerNumber: cn, Change: Added})
				if !iv.to.IsZero() {
					r.history = append(r.history, HistoryEntry{Date: iv.to, Email: e, CustomerNumber: cn, Change: Removed})
				}
			}
			r.intervals[e] = append(r.intervals[e], rs...)
		}
	}
	for e, ivs := range r.intervals {
		r.intervals[e] = merge(ivs)
	}
	slices.SortFunc(r.history, CompareHistory)
	r.dirty = false
}

// merge joins overlapping and touching intervals.
func merge(ivs []interval) []interval {
	slices.SortFunc(ivs, func(a, b interval) int { return a.from.Compare(b.from) })
	out := ivs[:0:0]
	for _, iv := range ivs {
		n := len(out)
		if n > 0 && (out[n-1].to.IsZero() || !out[n-1].to.Before(iv.from)) {
			if out[n-1].to.IsZero() || iv.to.IsZero() {
				out[n-1].to = calendar.Date{}
			} else if iv.to.After(out[n-1].to) {
				out[n-1].to = iv.to
			}
			continue
		}
		out = append(out, iv)
	}
	return out
}
