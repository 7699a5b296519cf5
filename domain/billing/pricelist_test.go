package billing_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"yorozu/domain/billing"
)

func TestPriceListValidationReportsEveryField(t *testing.T) {
	p := billing.PriceList{
		BaseMenu: -1, HealthCheckIDAddition: billing.MaxUnitPrice + 1, WebFiltering: 0, SecurityTicket: -5,
		TaxRate: decimal.RequireFromString("1"),
	}
	err := p.Validate()
	var ve *billing.ValidationError
	if !errors.As(err, &ve) || !errors.Is(err, billing.ErrInvalidPriceList) {
		t.Fatalf("err = %v, want a ValidationError for the price list", err)
	}
	var got []string
	for _, f := range ve.Errors {
		got = append(got, f.Field+" "+f.Code)
	}
	want := []string{
		"effectiveFrom required", "baseMenu outOfRange", "healthCheckIdAddition outOfRange",
		"securityTicket outOfRange", "taxRate outOfRange",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("field errors (-want +got):\n%s", diff)
	}
}

func TestValidPriceLists(t *testing.T) {
	for _, p := range []billing.PriceList{
		priceList("2025-04", 3000, 300, 200, 5000, "0.10"),
		priceList("2025-04", 0, 0, 0, 0, "0"),
		priceList("2025-04", billing.MaxUnitPrice, 1, 1, 1, "0.08"),
		priceList("2025-04", 1, 1, 1, 1, "0.9999"),
	} {
		if err := p.Validate(); err != nil {
			t.Errorf("%+v: %v", p, err)
		}
	}
	if _, err := billing.NewPriceBook(billing.PriceList{}); !errors.Is(err, billing.ErrInvalidPriceList) {
		t.Errorf("NewPriceBook with an invalid list: err = %v", err)
	}
}

func TestPriceBookChoosesTheLatestListEffectiveInTheMonth(t *testing.T) {
	b := book(
		priceList("2025-04", 3000, 300, 200, 5000, "0.10"),
		priceList("2026-04", 3500, 350, 250, 5500, "0.10"),
		priceList("2025-10", 3300, 330, 220, 5300, "0.10"),
	)
	tests := []struct {
		month string
		want  billing.Yen // base menu price, 0 for no list
	}{
		{"2025-03", 0},
		{"2025-04", 3000},
		{"2025-09", 3000},
		{"2025-10", 3300},
		{"2026-03", 3300},
		{"2026-04", 3500},
		{"2030-01", 3500},
	}
	for _, tt := range tests {
		p, err := b.For(month(tt.month))
		switch {
		case tt.want == 0 && !errors.Is(err, billing.ErrNoPriceList):
			t.Errorf("%s: err = %v, want ErrNoPriceList", tt.month, err)
		case tt.want != 0 && (err != nil || p.BaseMenu != tt.want):
			t.Errorf("%s: base menu %d, err %v; want %d", tt.month, p.BaseMenu, err, tt.want)
		}
	}
	var got []string
	for _, p := range b.Lists() {
		got = append(got, p.EffectiveFrom.String())
	}
	if diff := cmp.Diff([]string{"2025-04", "2025-10", "2026-04"}, got); diff != "" {
		t.Errorf("lists (-want +got):\n%s", diff)
	}
}

func TestRepublishedPriceListReplacesTheEarlierOne(t *testing.T) {
	b := book(priceList("2025-04", 3000, 300, 200, 5000, "0.10"), priceList("2025-04", 3100, 300, 200, 5000, "0.10"))
	p, err := b.For(month("2025-05"))
	if err != nil || p.BaseMenu != 3100 || len(b.Lists()) != 1 {
		t.Errorf("got %d (%d lists), err %v; want the correction 3100 alone", p.BaseMenu, len(b.Lists()), err)
	}
}

func TestPriceListJSON(t *testing.T) {
	var p billing.PriceList
	in := `{"effectiveFrom":"2025-04","baseMenu":3000,"healthCheckIdAddition":300,"webFiltering":200,"securityTicket":5000,"taxRate":"0.08"}`
	if err := json.Unmarshal([]byte(in), &p); err != nil {
		t.Fatal(err)
	}
	if p.EffectiveFrom != month("2025-04") || p.BaseMenu != 3000 || p.SecurityTicket != 5000 || !p.TaxRate.Equal(decimal.RequireFromString("0.08")) {
		t.Errorf("decoded %+v", p)
	}
	out, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != in {
		t.Errorf("round trip:\n got %s\nwant %s", out, in)
	}

	t.Run("a price list without a tax rate gets the default 10%", func(t *testing.T) {
		var p billing.PriceList
		if err := json.Unmarshal([]byte(`{"effectiveFrom":"2025-04","baseMenu":3000}`), &p); err != nil {
			t.Fatal(err)
		}
		if !p.TaxRate.Equal(decimal.RequireFromString("0.10")) {
			t.Errorf("tax rate = %s, want 0.10", p.TaxRate)
		}
	})
	t.Run("a malformed effective month is refused", func(t *testing.T) {
		var p billing.PriceList
		if err := json.Unmarshal([]byte(`{"effectiveFrom":"2025-4"}`), &p); !errors.Is(err, billing.ErrInvalidMonth) {
			t.Errorf("err = %v, want ErrInvalidMonth", err)
		}
	})
}
