package insurance_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"yorozu/domain/calendar"
	"yorozu/domain/contract"
	"yorozu/domain/insurance"
)

func date(s string) calendar.Date {
	d, err := calendar.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func TestPolicyPeriods(t *testing.T) {
	calendarYear := insurance.PolicyYear{First: insurance.MonthDay{Month: 1, Day: 1}, Last: insurance.MonthDay{Month: 12, Day: 31}}
	for _, tc := range []struct {
		name   string
		year   insurance.PolicyYear
		day    string
		period insurance.Period // 0: outside every period
		latest insurance.Period
	}{
		{"first day", insurance.DefaultPolicyYear, "2025-04-14", 2025, 2025},
		{"last day, next year", insurance.DefaultPolicyYear, "2026-03-13", 2025, 2025},
		{"new year's day belongs to the period that started in April", insurance.DefaultPolicyYear, "2026-01-01", 2025, 2025},
		{"first day of the gap", insurance.DefaultPolicyYear, "2026-03-14", 0, 2025},
		{"last day of the gap", insurance.DefaultPolicyYear, "2026-04-13", 0, 2025},
		{"a leap day", insurance.DefaultPolicyYear, "2028-02-29", 2027, 2027},
		{"calendar years", calendarYear, "2026-03-20", 2026, 2026},
		{"calendar years, last day", calendarYear, "2026-12-31", 2026, 2026},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, ok := tc.year.PeriodOf(date(tc.day))
			if (tc.period != 0) != ok || (ok && p != tc.period) {
				t.Fatalf("PeriodOf(%s) = %d, %v; want %d", tc.day, p, ok, tc.period)
			}
			if got := tc.year.LatestPeriod(date(tc.day)); got != tc.latest {
				t.Fatalf("LatestPeriod(%s) = %d, want %d", tc.day, got, tc.latest)
			}
		})
	}
	first, last := insurance.DefaultPolicyYear.Bounds(2025)
	if first.String() != "2025-04-14" || last.String() != "2026-03-13" {
		t.Fatalf("bounds of 2025: %s to %s", first, last)
	}
	for _, bad := range []string{"02-29", "13-01", "04-31", "4-14", "04/14", "00-10"} {
		if _, err := insurance.ParseMonthDay(bad); err == nil {
			t.Errorf("ParseMonthDay(%q) accepted", bad)
		}
	}
	if md, err := insurance.ParseMonthDay("04-14"); err != nil || md != insurance.DefaultPolicyYear.First {
		t.Errorf("ParseMonthDay(04-14) = %v, %v", md, err)
	}
}

func TestFileRejectsWhatIsNotCovered(t *testing.T) {
	active := contract.Standing{Known: true, Contract: contract.Contract{Status: contract.StatusActive}}
	now := time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		customer contract.Standing
		day      string
		cost     insurance.CostType
		reason   string
	}{
		{"covered", active, "2025-08-01", insurance.CostInvestigation, ""},
		{"contract not active", contract.Standing{Known: true}, "2025-08-01", insurance.CostInvestigation, insurance.RejectContractNotActive},
		{"outside the periods", active, "2026-04-01", insurance.CostInvestigation, insurance.RejectOutsidePolicyPeriod},
		{"emergency response", active, "2025-08-01", insurance.CostEmergencyResponse, insurance.RejectEmergencyResponse},
		{"inactive and outside: the contract first", contract.Standing{}, "2026-04-01", insurance.CostEmergencyResponse, insurance.RejectContractNotActive},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := insurance.ClaimForm{CustomerNumber: "N000000001", IncidentDate: date(tc.day), Kind: insurance.KindIncidentResponse, CostType: tc.cost, ClaimedAmount: 1000}
			var c insurance.Claim
			for _, e := range insurance.File(uuid.New(), f, tc.customer, insurance.DefaultPolicyYear, now) {
				c = c.Evolve(e)
			}
			if c.RejectionReason != tc.reason || (tc.reason == "") != (c.Status == insurance.StatusFiled) {
				t.Fatalf("claim %+v, want reason %q", c, tc.reason)
			}
		})
	}
}

func TestCoverAndPoolDecideOnceAndWithinTheirLimits(t *testing.T) {
	limits := insurance.Limits{Liability: 500, IncidentResponse: 300, Pool: 600}
	now := time.Now()
	a, b := uuid.New(), uuid.New()

	var cover insurance.Cover
	e, got := cover.Use(a, "N000000001", 2025, insurance.KindLiability, 450, limits, now)
	if got != 450 || e == nil {
		t.Fatalf("first use: %d", got)
	}
	cover = cover.Evolve(e)
	if e, got := cover.Use(a, "N000000001", 2025, insurance.KindLiability, 10, limits, now); e != nil || got != 450 {
		t.Fatalf("a claim uses the cover once: %v %d", e, got)
	}
	if e, got := cover.Use(b, "N000000001", 2025, insurance.KindLiability, 100, limits, now); got != 50 || e.Amount != 50 {
		t.Fatalf("capped by what remains: %d", got)
	}
	if got := cover.Remaining(2025, insurance.KindIncidentResponse, limits); got != 300 {
		t.Fatalf("the other kind is untouched: %d", got)
	}
	if got := cover.Remaining(2026, insurance.KindLiability, limits); got != 500 {
		t.Fatalf("another period is untouched: %d", got)
	}

	var pool insurance.Pool
	r, held := pool.Reserve(a, "N000000001", 2025, 450, limits, now)
	pool = pool.Evolve(r)
	if r2, again := pool.Reserve(a, "N000000001", 2025, 1, limits, now); r2 != nil || again != 450 {
		t.Fatalf("a claim reserves once: %v %d", r2, again)
	}
	if r3, got := pool.Reserve(b, "N000000002", 2025, 300, limits, now); got != 150 || r3 == nil {
		t.Fatalf("capped by the pool: %d", got)
	}
	if rel := pool.Release(a, held, now); rel != nil {
		t.Fatalf("nothing to release when all is kept: %+v", rel)
	}
	rel := pool.Release(a, 400, now)
	if rel == nil || rel.Amount != 50 || rel.CustomerNumber != "N000000001" {
		t.Fatalf("release: %+v", rel)
	}
	pool = pool.Evolve(rel)
	if pool.Release(a, 0, now) != nil || pool.Used() != 400 || pool.Remaining(limits) != 200 {
		t.Fatalf("released once: used %d", pool.Used())
	}
}

func TestClaimLifecycle(t *testing.T) {
	now := time.Now()
	var c insurance.Claim
	c = c.Evolve(&insurance.ClaimFiled{ClaimID: uuid.New(), Period: 2025, Kind: insurance.KindLiability, ClaimedAmount: 100})
	if _, err := c.Pay(now); !errors.Is(err, insurance.ErrInvalidTransition) {
		t.Fatalf("pay a filed claim: %v", err)
	}
	start, err := c.StartAssessment(80, now)
	if err != nil {
		t.Fatal(err)
	}
	c = c.Evolve(start)
	if again, err := c.StartAssessment(90, now); again != nil || err != nil {
		t.Fatalf("a claim being assessed starts nothing new: %v %v", again, err)
	}
	if _, err := c.Reject("no", now); !errors.Is(err, insurance.ErrInvalidTransition) {
		t.Fatalf("reject a claim being assessed: %v", err)
	}
	done, err := c.CompleteAssessment(60, now)
	if err != nil {
		t.Fatal(err)
	}
	c = c.Evolve(done)
	if c.Status != insurance.StatusAssessed || *c.ApprovedAmount != 60 || *c.AssessedAmount != 80 || c.Assessing {
		t.Fatalf("assessed: %+v", c)
	}
	if _, err := c.StartAssessment(1, now); !errors.Is(err, insurance.ErrInvalidTransition) {
		t.Fatalf("assess again: %v", err)
	}
}
