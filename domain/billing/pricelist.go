package billing

import (
	"encoding/json"
	"slices"

	"github.com/shopspring/decimal"
)

// MaxUnitPrice bounds every price of a price list, so that no invoice amount can overflow.
const MaxUnitPrice Yen = 100_000_000

// PriceList is a set of prices published by staff, effective from a month on (docs/billing.md). Prices are
// per unit per month, except SecurityTicket, which is per ticket. JSON as the API takes it:
// `{effectiveFrom: "2025-04", baseMenu, healthCheckIdAddition, webFiltering, securityTicket,
// taxRate: "0.10"}`.
type PriceList struct {
	EffectiveFrom         Month           `json:"effectiveFrom"`
	BaseMenu              Yen             `json:"baseMenu"`
	HealthCheckIDAddition Yen             `json:"healthCheckIdAddition"`
	WebFiltering          Yen             `json:"webFiltering"`
	SecurityTicket        Yen             `json:"securityTicket"`
	TaxRate               decimal.Decimal `json:"taxRate"`
}

// UnmarshalJSON reads a price list; a missing or null taxRate is DefaultTaxRate (docs/billing.md: "default
// 10%").
func (p *PriceList) UnmarshalJSON(b []byte) error {
	type plain PriceList
	var in struct {
		plain
		TaxRate *decimal.Decimal `json:"taxRate"`
	}
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	*p = PriceList(in.plain)
	p.TaxRate = DefaultTaxRate
	if in.TaxRate != nil {
		p.TaxRate = *in.TaxRate
	}
	return nil
}

// Validate reports every broken rule at once as a *ValidationError (ErrInvalidPriceList):
// effectiveFrom is required, prices are 0 to MaxUnitPrice yen, 0 <= taxRate < 1.
func (p PriceList) Validate() error {
	errs := fieldErrors{kind: ErrInvalidPriceList}
	if p.EffectiveFrom.IsZero() {
		errs.add("effectiveFrom", CodeRequired, "effectiveFrom is required (YYYY-MM)")
	}
	for _, price := range []struct {
		field string
		yen   Yen
	}{
		{"baseMenu", p.BaseMenu},
		{"healthCheckIdAddition", p.HealthCheckIDAddition},
		{"webFiltering", p.WebFiltering},
		{"securityTicket", p.SecurityTicket},
	} {
		if price.yen < 0 || price.yen > MaxUnitPrice {
			errs.add(price.field, CodeOutOfRange, "%s must be 0 to %d yen, not %d", price.field, MaxUnitPrice, price.yen)
		}
	}
	if p.TaxRate.IsNegative() || p.TaxRate.GreaterThanOrEqual(decimal.NewFromInt(1)) {
		errs.add("taxRate", CodeOutOfRange, "taxRate must be at least 0 and below 1, not %s", p.TaxRate)
	}
	return errs.err()
}

// PriceBook holds the published price lists and answers which one a month uses. The zero
// PriceBook has no list.
type PriceBook struct {
	lists []PriceList // ascending EffectiveFrom, one per month
}

// NewPriceBook validates the lists, given in the order they were published. A list published later
// for the same effective month replaces the earlier one (a correction).
func NewPriceBook(lists ...PriceList) (PriceBook, error) {
	byMonth := make(map[Month]PriceList, len(lists))
	for _, p := range lists {
		if err := p.Validate(); err != nil {
			return PriceBook{}, err
		}
		byMonth[p.EffectiveFrom] = p
	}
	sorted := make([]PriceList, 0, len(byMonth))
	for _, p := range byMonth {
		sorted = append(sorted, p)
	}
	slices.SortFunc(sorted, func(a, b PriceList) int { return a.EffectiveFrom.Compare(b.EffectiveFrom) })
	return PriceBook{lists: sorted}, nil
}

// For returns the list month m uses: the latest whose EffectiveFrom <= m (docs/billing.md), or a
// *NoPriceListError when every list starts later.
func (b PriceBook) For(m Month) (PriceList, error) {
	for i := len(b.lists) - 1; i >= 0; i-- {
		if !b.lists[i].EffectiveFrom.After(m) {
			return b.lists[i], nil
		}
	}
	return PriceList{}, &NoPriceListError{Month: m}
}

// Lists returns the effective lists in ascending EffectiveFrom.
func (b PriceBook) Lists() []PriceList { return slices.Clone(b.lists) }
