package billing

import "github.com/shopspring/decimal"

// Yen is an amount in whole Japanese yen (docs/product.md). Sums and quantity × unit price stay exact in
// int64 for every amount a validated price list can produce; anything with a fraction (tax) goes
// through decimal.
type Yen int64

// DefaultTaxRate is the consumption tax rate a published price list gets when it states none.
var DefaultTaxRate = decimal.RequireFromString("0.10")

// taxOn returns the consumption tax on base, rounded toward zero: down to the yen for a charge,
// toward zero for a credit (docs/billing.md).
func taxOn(base Yen, rate decimal.Decimal) Yen {
	return Yen(decimal.NewFromInt(int64(base)).Mul(rate).Truncate(0).IntPart())
}
