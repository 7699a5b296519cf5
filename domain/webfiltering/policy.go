package webfiltering

import (
	"errors"
	"fmt"

	"github.com/google/uuid"
)

// List is "allow" or "block".
type List string

// The two lists.
const (
	ListAllow List = "allow"
	ListBlock List = "block"
)

// MaxEntries bounds each list of a policy: the agents enforce every entry on every request, and
// the whole policy travels to every terminal.
const MaxEntries = 1000

var (
	// ErrOptionNotInEffect: filtering cannot be turned on while the contract's web-filtering
	// option is not in effect (not ordered yet, not opened yet, ended, or the contract terminated).
	ErrOptionNotInEffect = errors.New("webfiltering: the contract's web-filtering option is not in effect")
	// ErrContractTerminated: the lists of a terminated contract cannot change.
	ErrContractTerminated = errors.New("webfiltering: the contract is terminated")
	// ErrNotAllowListable: items of the illegal and security categories can never be allowed.
	ErrNotAllowListable = errors.New("webfiltering: the item may not be allow-listed")
	// ErrUnknownList: a list other than allow and block.
	ErrUnknownList = errors.New("webfiltering: unknown list")
	// ErrEntryNotFound: no entry of the policy has that ID.
	ErrEntryNotFound = errors.New("webfiltering: entry not found")
	// ErrInOtherList: the same item or URL is already on the other list; remove it there first.
	ErrInOtherList = errors.New("webfiltering: already on the other list")
	// ErrTooManyEntries: a list holds MaxEntries entries already.
	ErrTooManyEntries = errors.New("webfiltering: the list is full")
)

// Entry is one allow-list or block-list entry: an item or a URL (a host name or a URL prefix).
type Entry struct {
	ID   uuid.UUID `json:"entryId"`
	Item Item      `json:"item,omitempty"`
	URL  string    `json:"url,omitempty"`
}

// Target is what an entry names, before it becomes an entry.
type Target struct {
	Item Item
	URL  string
}

// NewTarget checks what a request names: exactly one of an item and a URL, the item one of the
// 19, the URL well formed (NormalizeURL). The result is canonical, so that the same entry asked
// twice compares equal.
func NewTarget(item, rawURL string) (Target, error) {
	switch {
	case item != "" && rawURL != "":
		return Target{}, fmt.Errorf("%w: give an item or a url, not both", ErrMalformedURL)
	case item != "":
		it, err := ParseItem(item)
		return Target{Item: it}, err
	}
	u, err := NormalizeURL(rawURL)
	return Target{URL: u}, err
}

func (t Target) matches(e Entry) bool { return t.Item == e.Item && t.URL == e.URL }

// OptionState is what a decision needs to know of the contract.
type OptionState struct {
	// InEffect: the contract is active and its web-filtering option is on.
	InEffect bool
	// Terminated: the contract has ended.
	Terminated bool
}

// Policy is a contract's web-filtering policy, folded from its stream. The zero Policy (nothing
// recorded yet) is the default: filtering off, every item blocked, no entries.
type Policy struct {
	CustomerNumber string
	Enabled        bool
	Allow, Block   []Entry
	// Version is the stream version folded so far: it grows with every change of the policy.
	Version uint64
}

// Evolve applies one event of the policy stream.
func (p Policy) Evolve(e any) Policy {
	p.Version++
	switch e := e.(type) {
	case *WebFilteringEnabled:
		p.CustomerNumber, p.Enabled = e.CustomerNumber, true
	case *WebFilteringDisabled:
		p.CustomerNumber, p.Enabled = e.CustomerNumber, false
	case *WebFilteringEntryAdded:
		p.CustomerNumber = e.CustomerNumber
		entry := Entry{ID: e.EntryID, Item: e.Item, URL: e.URL}
		if e.List == ListAllow {
			p.Allow = append(clip(p.Allow), entry)
		} else {
			p.Block = append(clip(p.Block), entry)
		}
	case *WebFilteringEntryRemoved:
		p.CustomerNumber = e.CustomerNumber
		p.Allow = without(p.Allow, e.EntryID)
		p.Block = without(p.Block, e.EntryID)
	}
	return p
}

// clip keeps an append from writing into an array another Policy value shares.
func clip(s []Entry) []Entry { return s[:len(s):len(s)] }

func without(s []Entry, id uuid.UUID) []Entry {
	out := make([]Entry, 0, len(s))
	for _, e := range s {
		if e.ID != id {
			out = append(out, e)
		}
	}
	return out
}

// BlockedItems is the 19 items less the allow-listed ones, in their fixed order.
func (p Policy) BlockedItems() []Item {
	allowed := map[Item]bool{}
	for _, e := range p.Allow {
		if e.Item != "" {
			allowed[e.Item] = true
		}
	}
	out := make([]Item, 0, len(itemCategories))
	for _, ic := range itemCategories {
		if !allowed[ic.item] {
			out = append(out, ic.item)
		}
	}
	return out
}

// SetEnabled decides turning filtering on or off at the customer's request. Turning it on needs
// the option in effect; asking for the state the policy already has changes nothing (nil).
func (p Policy) SetEnabled(customerNumber string, enabled bool, opt OptionState) (any, error) {
	switch {
	case enabled && !opt.InEffect:
		return nil, ErrOptionNotInEffect
	case enabled == p.Enabled:
		return nil, nil
	case enabled:
		return &WebFilteringEnabled{CustomerNumber: customerNumber}, nil
	}
	return &WebFilteringDisabled{CustomerNumber: customerNumber, Reason: ReasonRequested}, nil
}

// EndOption decides what the end of the contract's option means for the policy: filtering goes
// off with it. Nothing happens while the option is in effect or filtering is already off, so the
// decision may be asked again any number of times.
func (p Policy) EndOption(customerNumber string, opt OptionState) *WebFilteringDisabled {
	if opt.InEffect || !p.Enabled {
		return nil
	}
	return &WebFilteringDisabled{CustomerNumber: customerNumber, Reason: ReasonOptionEnded}
}

// AddEntry decides adding target to list under the ID newID. The same target on the same list
// again changes nothing and returns the existing entry (nil event).
func (p Policy) AddEntry(customerNumber string, list List, t Target, newID uuid.UUID, opt OptionState) (Entry, *WebFilteringEntryAdded, error) {
	if opt.Terminated {
		return Entry{}, nil, ErrContractTerminated
	}
	var same, other []Entry
	switch list {
	case ListAllow:
		same, other = p.Allow, p.Block
		if t.Item != "" && !t.Item.AllowListable() {
			return Entry{}, nil, fmt.Errorf("%w: %s is in the %s category", ErrNotAllowListable, t.Item, t.Item.Category())
		}
	case ListBlock:
		same, other = p.Block, p.Allow
	default:
		return Entry{}, nil, fmt.Errorf("%w: %q", ErrUnknownList, list)
	}
	for _, e := range same {
		if t.matches(e) {
			return e, nil, nil
		}
	}
	for _, e := range other {
		if t.matches(e) {
			return Entry{}, nil, fmt.Errorf("%w: entry %s", ErrInOtherList, e.ID)
		}
	}
	if len(same) >= MaxEntries {
		return Entry{}, nil, fmt.Errorf("%w: %d entries", ErrTooManyEntries, MaxEntries)
	}
	entry := Entry{ID: newID, Item: t.Item, URL: t.URL}
	return entry, &WebFilteringEntryAdded{CustomerNumber: customerNumber, EntryID: newID, List: list, Item: t.Item, URL: t.URL}, nil
}

// RemoveEntry decides removing an entry.
func (p Policy) RemoveEntry(customerNumber string, id uuid.UUID, opt OptionState) (*WebFilteringEntryRemoved, error) {
	if opt.Terminated {
		return nil, ErrContractTerminated
	}
	for _, list := range [][]Entry{p.Allow, p.Block} {
		for _, e := range list {
			if e.ID == id {
				return &WebFilteringEntryRemoved{CustomerNumber: customerNumber, EntryID: id}, nil
			}
		}
	}
	return nil, fmt.Errorf("%w: %s", ErrEntryNotFound, id)
}
