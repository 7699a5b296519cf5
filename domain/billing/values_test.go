package billing_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"yorozu/domain/billing"
)

func TestParseMonth(t *testing.T) {
	for _, s := range []string{"2025-07", "0001-01", "9999-12"} {
		m, err := billing.ParseMonth(s)
		if err != nil || m.String() != s {
			t.Errorf("ParseMonth(%q) = %v, %v", s, m, err)
		}
	}
	for _, s := range []string{"", "2025-7", "2025-13", "2025-00", "0000-01", "25-07", "2025/07", "２０２５-07", "2025-07-01", " 2025-07"} {
		if _, err := billing.ParseMonth(s); !errors.Is(err, billing.ErrInvalidMonth) {
			t.Errorf("ParseMonth(%q): err = %v, want ErrInvalidMonth", s, err)
		}
	}
}

func TestMonthArithmetic(t *testing.T) {
	if got := month("2025-12").Next(); got != month("2026-01") {
		t.Errorf("2025-12 next = %s", got)
	}
	if got := month("2026-01").Prev(); got != month("2025-12") {
		t.Errorf("2026-01 prev = %s", got)
	}
	if month("2025-07").Compare(month("2025-08")) != -1 || month("2025-08").Compare(month("2025-07")) != 1 ||
		month("2025-08").Compare(month("2025-08")) != 0 || !month("2024-12").Before(month("2025-01")) {
		t.Error("Compare is wrong")
	}
	if m := month("2025-07"); m.Year() != 2025 || m.Month() != time.July {
		t.Errorf("fields of %s", m)
	}
	if got := billing.MonthOf(day("2025-07-31")); got != month("2025-07") {
		t.Errorf("MonthOf = %s", got)
	}
	for m, last := range map[string]string{"2025-02": "2025-02-28", "2024-02": "2024-02-29", "2025-12": "2025-12-31"} {
		if got := month(m).LastDay(); got != day(last) {
			t.Errorf("%s last day = %s, want %s", m, got, last)
		}
		if got := month(m).FirstDay(); got != day(m+"-01") {
			t.Errorf("%s first day = %s", m, got)
		}
	}
}

func TestMonthJSON(t *testing.T) {
	out, err := json.Marshal(struct {
		M billing.Month `json:"m"`
	}{month("2025-07")})
	if err != nil || string(out) != `{"m":"2025-07"}` {
		t.Errorf("marshal = %s, %v", out, err)
	}
	var in struct{ M billing.Month }
	if err := json.Unmarshal([]byte(`{"M":"2026-01"}`), &in); err != nil || in.M != month("2026-01") {
		t.Errorf("unmarshal = %v, %v", in.M, err)
	}
	if _, err := json.Marshal(billing.Month{}); err == nil {
		t.Error("the zero month marshals")
	}
	// The month after 9999-12 has no YYYY-MM form: writing it would store what no reader parses.
	if out, err := json.Marshal(month("9999-12").Next()); !errors.Is(err, billing.ErrInvalidMonth) {
		t.Errorf("the month after 9999-12 marshals: %s, %v", out, err)
	}
}

func TestMonthServiceRange(t *testing.T) {
	for m, want := range map[string]bool{"1999-12": false, "2000-01": true, "2100-12": true, "2101-01": false, "9999-12": false} {
		if got := month(m).InServiceRange(); got != want {
			t.Errorf("%s.InServiceRange() = %v, want %v", m, got, want)
		}
	}
	if (billing.Month{}).InServiceRange() {
		t.Error("the zero month is in the service range")
	}
}

func TestIssuer(t *testing.T) {
	iss, err := billing.NewIssuer("株式会社よろず相談", "T1234567890123")
	if err != nil || iss.RegistrationNumber != "T1234567890123" {
		t.Fatalf("NewIssuer = %+v, %v", iss, err)
	}
	for _, reg := range []string{"", "1234567890123", "T123456789012", "T12345678901234", "t1234567890123", "T123456789012A", "Ｔ1234567890123"} {
		if _, err := billing.NewIssuer("株式会社よろず相談", reg); !errors.Is(err, billing.ErrInvalidIssuer) {
			t.Errorf("registration number %q: err = %v, want ErrInvalidIssuer", reg, err)
		}
	}
	_, err = billing.NewIssuer("", "T12")
	var ve *billing.ValidationError
	if !errors.As(err, &ve) || len(ve.Errors) != 2 {
		t.Errorf("err = %v, want both fields reported", err)
	}
}

func TestInvoiceJSONFollowsTheAPIContract(t *testing.T) {
	c := opened("2025-05-10", 0, false).tickets("2025-08-05", 1)
	inv, _, err := billing.ComputeInvoice(c.t, standardBook(), month("2025-08"), billing.Adjustment{ForMonth: month("2025-07"), Amount: -1000})
	if err != nil {
		t.Fatal(err)
	}
	inv.Issuer, err = billing.NewIssuer("株式会社よろず相談", "T1234567890123")
	if err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(inv)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"customerNumber":"N000000001","month":"2025-08","status":"draft",` +
		`"issuer":{"name":"株式会社よろず相談","registrationNumber":"T1234567890123"},` +
		`"recipient":{"name":"株式会社よろず"},` +
		`"usagePeriod":{"from":"2025-08-01","to":"2025-08-31"},` +
		`"lines":[` +
		`{"name":"基本メニュー利用料","kind":"monthly","quantity":1,"unitPrice":3000,"amount":3000,"note":""},` +
		`{"name":"セキュリティチケット利用料","kind":"oneTime","quantity":1,"unitPrice":5000,"amount":5000,"note":"8月ご利用分です。購入数は1です"},` +
		`{"name":"調整（2025年7月分）","kind":"adjustment","quantity":1,"unitPrice":-1000,"amount":-1000,"note":"","forMonth":"2025-07"}],` +
		`"subtotal":7000,"tax":700,"total":7700,` +
		`"taxByRate":[{"rate":"0.1","taxableAmount":7000,"tax":700}]}`
	if string(out) != want {
		t.Errorf("JSON:\n got %s\nwant %s", out, want)
	}

	final, err := inv.Finalize("INV-202508-000001")
	if err != nil {
		t.Fatal(err)
	}
	out, err = json.Marshal(final)
	if err != nil {
		t.Fatal(err)
	}
	var back billing.Invoice
	if err := json.Unmarshal(out, &back); err != nil {
		t.Fatal(err)
	}
	if back.InvoiceNumber != "INV-202508-000001" || back.Status != billing.StatusFinal || back.Month != month("2025-08") ||
		back.Lines[2].ForMonth != month("2025-07") || back.Total != 7700 {
		t.Errorf("round trip = %+v", back)
	}
}
