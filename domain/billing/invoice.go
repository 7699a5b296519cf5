package billing

import (
	"fmt"
	"slices"

	"github.com/shopspring/decimal"

	"yorozu/domain/calendar"
)

// Line names and notes, exactly as on the invoice (docs/billing.md).
const (
	LineBaseMenu       = "基本メニュー利用料"
	LineIDAddition     = "ヘルスチェックレポート（ＩＤ追加）利用料"
	LineWebFiltering   = "Ｗｅｂフィルタリング利用料"
	LineSecurityTicket = "セキュリティチケット利用料"
)

// Status is an invoice's state: a draft until its month is closed, then final and immutable.
type Status string

const (
	StatusDraft Status = "draft"
	StatusFinal Status = "final"
)

// LineKind tells how a line is charged and taxed.
type LineKind string

const (
	// KindMonthly lines are charged per usage month and taxed together (合算).
	KindMonthly LineKind = "monthly"
	// KindOneTime lines are charged once and each taxed on its own (個別).
	KindOneTime LineKind = "oneTime"
	// KindAdjustment lines correct a closed month and are taxed with the monthly lines.
	KindAdjustment LineKind = "adjustment"
)

// Line is one line of an invoice (docs/api.md). Quantity × UnitPrice = Amount on every line; an
// adjustment line has quantity 1 and its amount as unit price.
type Line struct {
	Name      string   `json:"name"`
	Kind      LineKind `json:"kind"`
	Quantity  int      `json:"quantity"`
	UnitPrice Yen      `json:"unitPrice"`
	Amount    Yen      `json:"amount"`
	Note      string   `json:"note"`
	// ForMonth is the closed month an adjustment line corrects; zero on other lines.
	ForMonth Month `json:"forMonth,omitzero"`
}

// TaxByRate is the taxable amount and the tax of one tax rate (適格請求書: 税率ごとの消費税額).
type TaxByRate struct {
	Rate          decimal.Decimal `json:"rate"`
	TaxableAmount Yen             `json:"taxableAmount"`
	Tax           Yen             `json:"tax"`
}

// Period is the usage period an invoice covers, first and last day included.
type Period struct {
	From calendar.Date `json:"from"`
	To   calendar.Date `json:"to"`
}

// Recipient is the addressee of the invoice, from the contract's billing address.
type Recipient struct {
	Name       string `json:"name"`
	NameKana   string `json:"nameKana,omitempty"`
	Department string `json:"department,omitempty"`
	PostalCode string `json:"postalCode,omitempty"`
	Address    string `json:"address,omitempty"`
}

// Invoice is one customer's bill for one usage month (docs/billing.md, docs/api.md). Amounts are whole yen:
// Subtotal is the sum of the lines, Total = Subtotal + Tax.
type Invoice struct {
	CustomerNumber string `json:"customerNumber"`
	Month          Month  `json:"month"`
	Status         Status `json:"status"`
	// InvoiceNumber is set when the month is closed (final invoices only).
	InvoiceNumber string `json:"invoiceNumber,omitempty"`
	// Issuer comes from configuration; ComputeInvoice leaves it for the caller to set.
	Issuer      Issuer      `json:"issuer"`
	Recipient   Recipient   `json:"recipient"`
	UsagePeriod Period      `json:"usagePeriod"`
	Lines       []Line      `json:"lines"`
	Subtotal    Yen         `json:"subtotal"`
	Tax         Yen         `json:"tax"`
	Total       Yen         `json:"total"`
	TaxByRate   []TaxByRate `json:"taxByRate"`
}

// Adjustment is the pre-tax amount still due for a closed month (negative for a credit); it
// becomes the line `調整（YYYY年M月分）` of the invoice it is appended to.
type Adjustment struct {
	ForMonth Month
	Amount   Yen
}

// ComputeInvoice computes the draft invoice of the contract for usage month m, with the
// adjustments for closed months appended. ok is false when nothing is charged in m (no line with a
// non-zero amount): that month has no invoice. An invoice may consist of adjustments alone.
//
// It fails with a *ValidationError for an inconsistent timeline or adjustments, and with a
// *NoPriceListError when something is charged in m but no price list is effective in m yet.
func ComputeInvoice(t Timeline, book PriceBook, m Month, adjustments ...Adjustment) (Invoice, bool, error) {
	if m.IsZero() {
		return Invoice{}, false, fmt.Errorf("%w: zero month", ErrInvalidMonth)
	}
	if err := t.Validate(); err != nil {
		return Invoice{}, false, err
	}
	if err := validateAdjustments(adjustments, m); err != nil {
		return Invoice{}, false, err
	}
	c := t.charges(m)
	if c.none() && !slices.ContainsFunc(adjustments, func(a Adjustment) bool { return a.Amount != 0 }) {
		return Invoice{}, false, nil
	}
	prices, err := book.For(m)
	if err != nil {
		return Invoice{}, false, err
	}

	var lines []Line
	add := func(l Line) {
		if l.Amount != 0 {
			lines = append(lines, l)
		}
	}
	month := int(m.Month())
	if c.baseMenu {
		add(unitLine(LineBaseMenu, KindMonthly, 1, prices.BaseMenu, ""))
	}
	if n := c.additionalIDs; n > 0 {
		add(unitLine(LineIDAddition, KindMonthly, n, prices.HealthCheckIDAddition, idNote(month, n)))
	}
	if n := c.webFilteringIDs; n > 0 {
		add(unitLine(LineWebFiltering, KindMonthly, n, prices.WebFiltering, idNote(month, n)))
	}
	for _, n := range c.tickets {
		add(unitLine(LineSecurityTicket, KindOneTime, n, prices.SecurityTicket,
			fmt.Sprintf("%d月ご利用分です。購入数は%dです", month, n)))
	}
	adjustments = slices.Clone(adjustments)
	slices.SortFunc(adjustments, func(a, b Adjustment) int { return a.ForMonth.Compare(b.ForMonth) })
	for _, a := range adjustments {
		l := unitLine(adjustmentName(a.ForMonth), KindAdjustment, 1, a.Amount, "")
		l.ForMonth = a.ForMonth
		add(l)
	}
	if len(lines) == 0 {
		return Invoice{}, false, nil
	}

	inv := Invoice{
		CustomerNumber: t.CustomerNumber,
		Month:          m,
		Status:         StatusDraft,
		Recipient:      t.Recipient,
		UsagePeriod:    Period{From: m.FirstDay(), To: m.LastDay()},
		Lines:          lines,
	}
	inv.Subtotal, inv.Tax = totals(lines, prices.TaxRate)
	inv.Total = inv.Subtotal + inv.Tax
	inv.TaxByRate = []TaxByRate{{Rate: prices.TaxRate, TaxableAmount: inv.Subtotal, Tax: inv.Tax}}
	return inv, true, nil
}

// monthCharges is what a contract is charged for in one month, before prices.
type monthCharges struct {
	baseMenu        bool
	additionalIDs   int   // quantity of the ID addition line, 0 when not charged
	webFilteringIDs int   // quantity of the web filtering line, 0 when not charged
	tickets         []int // one purchase per one-time line, in completion order
}

func (c monthCharges) none() bool {
	return !c.baseMenu && c.additionalIDs == 0 && c.webFilteringIDs == 0 && len(c.tickets) == 0
}

func (t Timeline) charges(m Month) monthCharges {
	contract := period{start: t.OpenedOn}
	if t.TerminatedOn != nil {
		contract.end = *t.TerminatedOn
	}
	segs := t.segments()
	c := monthCharges{
		baseMenu:        contract.charges(m),
		additionalIDs:   monthlyQuantity(segs, idAdditionUsage, m),
		webFilteringIDs: monthlyQuantity(segs, webFilteringUsage, m),
	}
	purchases := slices.Clone(t.Tickets)
	slices.SortStableFunc(purchases, func(a, b TicketPurchase) int { return a.CompletedOn.Compare(b.CompletedOn) })
	for _, p := range purchases {
		if MonthOf(p.CompletedOn) == m {
			c.tickets = append(c.tickets, p.Count)
		}
	}
	return c
}

// totals returns the subtotal and the tax: monthly and adjustment lines summed and taxed once
// (合算), each one-time line taxed on its own (個別), every tax rounded toward zero.
func totals(lines []Line, rate decimal.Decimal) (subtotal, tax Yen) {
	var combined Yen
	for _, l := range lines {
		subtotal += l.Amount
		if l.Kind == KindOneTime {
			tax += taxOn(l.Amount, rate)
		} else {
			combined += l.Amount
		}
	}
	return subtotal, tax + taxOn(combined, rate)
}

func unitLine(name string, kind LineKind, quantity int, unitPrice Yen, note string) Line {
	return Line{Name: name, Kind: kind, Quantity: quantity, UnitPrice: unitPrice,
		Amount: Yen(quantity) * unitPrice, Note: note}
}

func idNote(month, ids int) string {
	return fmt.Sprintf("%d月ご利用分です。利用IDは%dです", month, ids)
}

func adjustmentName(m Month) string {
	return fmt.Sprintf("調整（%d年%d月分）", m.Year(), int(m.Month()))
}

func validateAdjustments(adjustments []Adjustment, m Month) error {
	errs := fieldErrors{kind: ErrInvalidAdjustment}
	seen := make(map[Month]bool, len(adjustments))
	for i, a := range adjustments {
		field := fmt.Sprintf("adjustments[%d].forMonth", i)
		switch {
		case a.ForMonth.IsZero():
			errs.add(field, CodeRequired, "forMonth is required")
		case a.ForMonth == m:
			errs.add(field, CodeOutOfRange, "an invoice cannot adjust its own month %s", m)
		case seen[a.ForMonth]:
			errs.add(field, CodeDuplicate, "%s is adjusted twice; give one adjustment per closed month", a.ForMonth)
		}
		seen[a.ForMonth] = true
	}
	return errs.err()
}

// Difference returns the pre-tax difference recomputed − final of a closed month's own charges
// (its monthly and one-time lines; adjustment lines belong to the months they correct). Pass the
// zero Invoice for a side that has no invoice: a month that had none when it was closed, or has
// none any more.
func Difference(final, recomputed Invoice) Yen {
	return recomputed.ownCharges() - final.ownCharges()
}

// AdjustmentDue returns the adjustment still due for closed month m: Difference(final, recomputed)
// less what the issued (final) invoices already adjusted for m. An Amount of 0 means nothing is
// due; ComputeInvoice drops such an adjustment.
func AdjustmentDue(m Month, final, recomputed Invoice, issued []Invoice) Adjustment {
	due := Difference(final, recomputed)
	for _, inv := range issued {
		if inv.Status == StatusFinal {
			due -= inv.AdjustedFor(m)
		}
	}
	return Adjustment{ForMonth: m, Amount: due}
}

// AdjustedFor returns the total of the invoice's adjustment lines for month m.
func (inv Invoice) AdjustedFor(m Month) Yen {
	var sum Yen
	for _, l := range inv.Lines {
		if l.Kind == KindAdjustment && l.ForMonth == m {
			sum += l.Amount
		}
	}
	return sum
}

func (inv Invoice) ownCharges() Yen {
	var sum Yen
	for _, l := range inv.Lines {
		if l.Kind != KindAdjustment {
			sum += l.Amount
		}
	}
	return sum
}

// Finalize returns the invoice as final with its invoice number, for the month close. The copy
// shares nothing with the draft.
func (inv Invoice) Finalize(invoiceNumber string) (Invoice, error) {
	switch {
	case inv.Status == StatusFinal:
		return Invoice{}, fmt.Errorf("%w: %s %s is %s", ErrAlreadyFinal, inv.CustomerNumber, inv.Month, inv.InvoiceNumber)
	case invoiceNumber == "":
		return Invoice{}, fmt.Errorf("billing: finalizing %s %s needs an invoice number", inv.CustomerNumber, inv.Month)
	}
	inv.Status = StatusFinal
	inv.InvoiceNumber = invoiceNumber
	inv.Lines = slices.Clone(inv.Lines)
	inv.TaxByRate = slices.Clone(inv.TaxByRate)
	return inv, nil
}
