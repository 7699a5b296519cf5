package billing_test

import (
	"fmt"

	"github.com/shopspring/decimal"

	"yorozu/domain/billing"
	"yorozu/domain/calendar"
)

// The worked example of docs/billing.md: a contract opened on 2025-07-15 with 10 additional IDs and
// web filtering is first charged in August; 5 + 10 IDs are filtered; the monthly lines are taxed
// once, 7,435 × 10% = 743.5 rounded down to 743.
func ExampleComputeInvoice() {
	prices, _ := billing.NewPriceBook(billing.PriceList{
		EffectiveFrom: mustMonth("2025-04"), BaseMenu: 2980, HealthCheckIDAddition: 198, WebFiltering: 165,
		SecurityTicket: 11000, TaxRate: decimal.RequireFromString("0.10"),
	})
	var contract billing.Timeline
	contract.CustomerNumber = "N000000001"
	contract.Open(calendar.MustDate(2025, 7, 15), 10, true)
	contract.BuyTickets(calendar.MustDate(2025, 7, 15), 2)

	for _, m := range []string{"2025-07", "2025-08"} {
		inv, ok, err := billing.ComputeInvoice(contract, prices, mustMonth(m))
		if err != nil || !ok {
			fmt.Println(m, ok, err)
			continue
		}
		fmt.Println(inv.Month)
		for _, l := range inv.Lines {
			fmt.Printf("  %s %d × %d = %d", l.Name, l.Quantity, l.UnitPrice, l.Amount)
			if l.Note != "" {
				fmt.Printf(" (%s)", l.Note)
			}
			fmt.Println()
		}
		fmt.Printf("  subtotal %d, tax %d, total %d\n", inv.Subtotal, inv.Tax, inv.Total)
	}
	// Output:
	// 2025-07
	//   セキュリティチケット利用料 2 × 11000 = 22000 (7月ご利用分です。購入数は2です)
	//   subtotal 22000, tax 2200, total 24200
	// 2025-08
	//   基本メニュー利用料 1 × 2980 = 2980
	//   ヘルスチェックレポート（ＩＤ追加）利用料 10 × 198 = 1980 (8月ご利用分です。利用IDは10です)
	//   Ｗｅｂフィルタリング利用料 15 × 165 = 2475 (8月ご利用分です。利用IDは15です)
	//   subtotal 7435, tax 743, total 8178
}

func mustMonth(s string) billing.Month {
	m, err := billing.ParseMonth(s)
	if err != nil {
		panic(err)
	}
	return m
}
