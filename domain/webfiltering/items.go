// Package webfiltering is the web-filtering policy of a contract: whether filtering is on, and the
// allow-list and block-list entries the customer asked for, by category item or by URL. The
// policy is an aggregate with its own stream per contract (Stream); it decides together with the
// contract's option state, which the caller reads from the contract's stream.
//
// It is pure: no I/O, no clock. docs/web-filtering.md states the rules in prose.
package webfiltering

import (
	"errors"
	"fmt"
)

// Category groups the filtered items (the six harmful categories of the URL dictionary).
type Category string

// The six categories.
const (
	CategoryIllegal  Category = "illegal"
	CategorySecurity Category = "security"
	CategoryAdult    Category = "adult"
	CategoryDating   Category = "dating"
	CategoryGambling Category = "gambling"
	CategoryExtreme  Category = "extreme"
)

// Item is one filtered kind of site, the unit an allow-list or block-list entry names.
type Item string

// itemCategories lists the 19 items in their fixed order (the order of blockedItems), each with
// its category.
var itemCategories = []struct {
	item     Item
	category Category
}{
	{"illegalActs", CategoryIllegal}, {"copyrightInfringement", CategoryIllegal}, {"childAbuse", CategoryIllegal},
	{"illegalDrugs", CategoryIllegal}, {"drugMisuse", CategoryIllegal}, {"suicideInducement", CategoryIllegal},
	{"cracking", CategorySecurity}, {"malware", CategorySecurity}, {"driveByDownload", CategorySecurity},
	{"phishingFraud", CategorySecurity}, {"publicProxy", CategorySecurity}, {"filterCircumvention", CategorySecurity},
	{"adultPornography", CategoryAdult}, {"fetishism", CategoryAdult},
	{"dating", CategoryDating},
	{"gambling", CategoryGambling}, {"lottery", CategoryGambling},
	{"violentGroupsCults", CategoryExtreme}, {"grotesque", CategoryExtreme},
}

// Items returns the 19 items in their fixed order.
func Items() []Item {
	out := make([]Item, len(itemCategories))
	for i, ic := range itemCategories {
		out[i] = ic.item
	}
	return out
}

// ErrUnknownItem: an entry names an item that is not one of the 19.
var ErrUnknownItem = errors.New("webfiltering: unknown item")

// ParseItem returns the item named s.
func ParseItem(s string) (Item, error) {
	for _, ic := range itemCategories {
		if string(ic.item) == s {
			return ic.item, nil
		}
	}
	return "", fmt.Errorf("%w: %q", ErrUnknownItem, s)
}

// Category is the category of a known item ("" for another string).
func (i Item) Category() Category {
	for _, ic := range itemCategories {
		if ic.item == i {
			return ic.category
		}
	}
	return ""
}

// AllowListable reports whether customers may allow the item: never the items of the illegal and
// security categories, which protect the customer's network whatever its staff wants to see.
func (i Item) AllowListable() bool {
	c := i.Category()
	return c != "" && c != CategoryIllegal && c != CategorySecurity
}
