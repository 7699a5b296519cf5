package billing_test

import (
	"fmt"

	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/shopspring/decimal"

	"yorozu/domain/billing"
	"yorozu/domain/calendar"
)

// Standard prices of the tests: easy to multiply, tax exact unless a case says otherwise.
const (
	priceBase   billing.Yen = 3000
	priceID     billing.Yen = 300
	priceWF     billing.Yen = 200
	priceTicket billing.Yen = 5000
)

func day(s string) calendar.Date {
	d, err := calendar.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func month(s string) billing.Month {
	m, err := billing.ParseMonth(s)
	if err != nil {
		panic(err)
	}
	return m
}

func priceList(from string, base, id, wf, ticket billing.Yen, rate string) billing.PriceList {
	return billing.PriceList{
		EffectiveFrom: month(from), BaseMenu: base, HealthCheckIDAddition: id, WebFiltering: wf,
		SecurityTicket: ticket, TaxRate: decimal.RequireFromString(rate),
	}
}

func book(lists ...billing.PriceList) billing.PriceBook {
	b, err := billing.NewPriceBook(lists...)
	if err != nil {
		panic(err)
	}
	return b
}

// standardBook has the standard prices from April 2025 on.
func standardBook() billing.PriceBook {
	return book(priceList("2025-04", priceBase, priceID, priceWF, priceTicket, "0.10"))
}

// contract builds a timeline the way completed orders fill it.
type contract struct{ t billing.Timeline }

func opened(on string, additionalIDs int, webFiltering bool) *contract {
	c := &contract{t: billing.Timeline{CustomerNumber: "N000000001", Recipient: billing.Recipient{Name: "株式会社よろず"}}}
	c.t.Open(day(on), additionalIDs, webFiltering)
	return c
}

func (c *contract) ids(on string, n int) *contract {
	c.t.ChangeAdditionalIDs(day(on), n)
	return c
}

func (c *contract) webFiltering(on string, enabled bool) *contract {
	c.t.ChangeWebFiltering(day(on), enabled)
	return c
}

func (c *contract) tickets(on string, n int) *contract {
	c.t.BuyTickets(day(on), n)
	return c
}

func (c *contract) terminated(on string) *contract {
	c.t.Terminate(day(on))
	return c
}

// Expected lines at the standard prices.

func baseLine() billing.Line {
	return billing.Line{Name: "基本メニュー利用料", Kind: billing.KindMonthly, Quantity: 1, UnitPrice: priceBase, Amount: priceBase}
}

func idLine(m int, n int) billing.Line {
	return billing.Line{Name: "ヘルスチェックレポート（ＩＤ追加）利用料", Kind: billing.KindMonthly, Quantity: n,
		UnitPrice: priceID, Amount: priceID * billing.Yen(n), Note: fmt.Sprintf("%d月ご利用分です。利用IDは%dです", m, n)}
}

func wfLine(m int, n int) billing.Line {
	return billing.Line{Name: "Ｗｅｂフィルタリング利用料", Kind: billing.KindMonthly, Quantity: n,
		UnitPrice: priceWF, Amount: priceWF * billing.Yen(n), Note: fmt.Sprintf("%d月ご利用分です。利用IDは%dです", m, n)}
}

func ticketLine(m int, n int) billing.Line {
	return billing.Line{Name: "セキュリティチケット利用料", Kind: billing.KindOneTime, Quantity: n,
		UnitPrice: priceTicket, Amount: priceTicket * billing.Yen(n), Note: fmt.Sprintf("%d月ご利用分です。購入数は%dです", m, n)}
}

func adjustmentLine(forMonth string, amount billing.Yen) billing.Line {
	m := month(forMonth)
	return billing.Line{Name: fmt.Sprintf("調整（%d年%d月分）", m.Year(), int(m.Month())), Kind: billing.KindAdjustment,
		Quantity: 1, UnitPrice: amount, Amount: amount, ForMonth: m}
}

// equate lets go-cmp compare the value types with unexported fields.
var equate = cmpopts.EquateComparable(billing.Month{}, calendar.Date{})
