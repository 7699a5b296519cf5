package api_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"yorozu/adapters/postgres/pgtest"
	"yorozu/cmd/yorozu/app"
	"yorozu/cmd/yorozu/app/apptest"
	"yorozu/domain/insurance"
)

type claimBody struct {
	ClaimID         string
	CustomerNumber  string
	Period          *string
	IncidentDate    string
	Kind            string
	CostType        *string
	ClaimedAmount   int64
	Status          string
	AssessedAmount  *int64
	ApprovedAmount  *int64
	RejectionReason *string
}

type usageBody struct {
	CustomerNumber                           string
	Period                                   string
	Liability, IncidentResponse, Total, Pool struct{ Used, Remaining int64 }
}

func claim(cn, incident, kind, costType string, amount int64) map[string]any {
	body := map[string]any{"customerNumber": cn, "incidentDate": incident, "kind": kind, "claimedAmount": amount}
	if costType != "" {
		body["costType"] = costType
	}
	return body
}

func fileClaim(t *testing.T, env *apptest.Env, tok string, body map[string]any) claimBody {
	t.Helper()
	var c claimBody
	must(t, env.Do("POST", "/api/v1/insurance/claims", tok, body), 201).JSON(t, &c)
	return c
}

func claimCall(t *testing.T, env *apptest.Env, tok, id, action string, body any, status int) claimBody {
	t.Helper()
	var c claimBody
	r := must(t, env.Do("POST", "/api/v1/insurance/claims/"+id+"/"+action, tok, body), status)
	if status == 200 {
		r.JSON(t, &c)
	}
	return c
}

func usage(t *testing.T, env *apptest.Env, tok, cn, period string) usageBody {
	t.Helper()
	var u usageBody
	must(t, env.Do("GET", "/api/v1/insurance/usage?customerNumber="+cn+"&period="+period, tok, nil), 200).JSON(t, &u)
	return u
}

func str(p *string) string {
	if p == nil {
		return "<null>"
	}
	return *p
}

func num(p *int64) string {
	if p == nil {
		return "<null>"
	}
	return fmt.Sprint(*p)
}

func TestInsuranceClaimsFiledOrRejectedAtOnce(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine apptest.Engine) {
		env, tok, cn := helpDesk(t, engine) // contract active from 2025-07-14
		for _, tc := range []struct {
			name           string
			body           map[string]any
			status, period string
			reason         string
		}{
			{"liability in period 2025", claim(cn, "2025-08-01", "liability", "", 300000), "filed", "2025", ""},
			{"incident response, investigation", claim(cn, "2026-03-13", "incidentResponse", "investigation", 200000), "filed", "2025", ""},
			{"first day of period 2026", claim(cn, "2026-04-14", "incidentResponse", "systemRestoration", 1), "filed", "2026", ""},
			{"between two periods (03-14 to 04-13)", claim(cn, "2026-03-14", "liability", "", 1000), "rejected", "<null>", "outsidePolicyPeriod"},
			{"last day of the gap", claim(cn, "2026-04-13", "liability", "", 1000), "rejected", "<null>", "outsidePolicyPeriod"},
			{"before the contract opened", claim(cn, "2025-07-13", "liability", "", 1000), "rejected", "2025", "contractNotActive"},
			{"unknown customer", claim("N999999999", "2025-08-01", "liability", "", 1000), "rejected", "2025", "contractNotActive"},
			{"emergency response is never covered", claim(cn, "2025-08-01", "incidentResponse", "emergencyResponse", 1000), "rejected", "2025", "emergencyResponseNotCovered"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				c := fileClaim(t, env, tok, tc.body)
				reason := tc.reason
				if reason == "" {
					reason = "<null>"
				}
				if c.Status != tc.status || str(c.Period) != tc.period || str(c.RejectionReason) != reason || c.ApprovedAmount != nil ||
					c.CustomerNumber != tc.body["customerNumber"] || c.IncidentDate != tc.body["incidentDate"] {
					t.Fatalf("claim %+v (period %s, reason %s)", c, str(c.Period), str(c.RejectionReason))
				}
			})
		}
		before := head(t, env)
		for _, tc := range []struct {
			body any
			want map[string]string
		}{
			{map[string]any{}, map[string]string{"customerNumber": "required", "incidentDate": "required", "kind": "required", "claimedAmount": "required"}},
			{map[string]any{"customerNumber": cn, "incidentDate": "2025/8/1", "kind": "liability", "costType": "consulting", "claimedAmount": 1.5},
				map[string]string{"incidentDate": "invalidDate", "costType": "mustBeAbsent", "claimedAmount": "invalidType"}},
			{map[string]any{"customerNumber": cn, "incidentDate": "2025-08-01", "kind": "incidentResponse", "claimedAmount": 0},
				map[string]string{"costType": "required", "claimedAmount": "outOfRange"}},
			{map[string]any{"customerNumber": cn, "incidentDate": "2025-02-30", "kind": "theft", "costType": "lunch", "claimedAmount": "100"},
				map[string]string{"incidentDate": "invalidDate", "kind": "invalidChoice", "costType": "invalidChoice", "claimedAmount": "invalidType"}},
		} {
			expectFieldErrors(t, must(t, env.Do("POST", "/api/v1/insurance/claims", tok, tc.body), 422), tc.want)
		}
		if head(t, env) != before {
			t.Fatal("invalid claims stored events")
		}
	})
}

func TestInsuranceAssessmentIsCappedByEveryLimit(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine apptest.Engine) {
		env, tok, cn := helpDesk(t, engine)
		if u := usage(t, env, tok, cn, "2025"); u.Liability.Remaining != 500000 || u.Total.Remaining != 1000000 || u.Pool.Remaining != 100000000 || u.Period != "2025" {
			t.Fatalf("usage before any claim: %+v", u)
		}
		a := fileClaim(t, env, tok, claim(cn, "2025-08-01", "liability", "", 400000))
		b := fileClaim(t, env, tok, claim(cn, "2025-09-01", "liability", "", 300000))
		ir := fileClaim(t, env, tok, claim(cn, "2025-10-01", "incidentResponse", "consulting", 600000))

		if c := claimCall(t, env, tok, a.ClaimID, "assess", map[string]any{"assessedAmount": 350000}, 200); c.Status != "assessed" || num(c.ApprovedAmount) != "350000" || num(c.AssessedAmount) != "350000" {
			t.Fatalf("first liability claim: %+v", c)
		}
		// 150,000 of the liability limit remain: the approval is capped there.
		if c := claimCall(t, env, tok, b.ClaimID, "assess", map[string]any{"assessedAmount": 300000}, 200); num(c.ApprovedAmount) != "150000" {
			t.Fatalf("second liability claim: approved %s, want 150000", num(c.ApprovedAmount))
		}
		if c := claimCall(t, env, tok, ir.ClaimID, "assess", map[string]any{"assessedAmount": 600000}, 200); num(c.ApprovedAmount) != "500000" {
			t.Fatalf("incident response: approved %s, want 500000", num(c.ApprovedAmount))
		}
		u := usage(t, env, tok, cn, "2025")
		if u.Liability.Used != 500000 || u.Liability.Remaining != 0 || u.IncidentResponse.Used != 500000 || u.Total.Used != 1000000 ||
			u.Total.Remaining != 0 || u.Pool.Used != 1000000 || u.Pool.Remaining != 99000000 {
			t.Fatalf("usage: %+v", u)
		}
		// A limit exhausted approves 0; another period starts afresh.
		c3 := fileClaim(t, env, tok, claim(cn, "2025-11-01", "liability", "", 1000))
		if c := claimCall(t, env, tok, c3.ClaimID, "assess", map[string]any{"assessedAmount": 1000}, 200); num(c.ApprovedAmount) != "0" {
			t.Fatalf("over the limit: approved %s", num(c.ApprovedAmount))
		}
		next := fileClaim(t, env, tok, claim(cn, "2026-05-01", "liability", "", 1000))
		if c := claimCall(t, env, tok, next.ClaimID, "assess", map[string]any{"assessedAmount": 1000}, 200); num(c.ApprovedAmount) != "1000" || str(c.Period) != "2026" {
			t.Fatalf("period 2026: %+v", c)
		}

		// Lifecycle: assessed → paid; nothing else.
		claimCall(t, env, tok, a.ClaimID, "assess", map[string]any{"assessedAmount": 1}, 409)
		claimCall(t, env, tok, a.ClaimID, "reject", map[string]any{"reason": "too late"}, 409)
		if c := claimCall(t, env, tok, a.ClaimID, "pay", nil, 200); c.Status != "paid" || num(c.ApprovedAmount) != "350000" {
			t.Fatalf("paid: %+v", c)
		}
		claimCall(t, env, tok, a.ClaimID, "pay", nil, 409)
		// A filed claim may be rejected; a rejected one nothing more.
		d := fileClaim(t, env, tok, claim(cn, "2025-12-01", "liability", "", 5000))
		claimCall(t, env, tok, d.ClaimID, "pay", nil, 409)
		expectFieldErrors(t, must(t, env.Do("POST", "/api/v1/insurance/claims/"+d.ClaimID+"/reject", tok, map[string]any{}), 422), map[string]string{"reason": "required"})
		if c := claimCall(t, env, tok, d.ClaimID, "reject", map[string]any{"reason": "補償対象外の損害"}, 200); c.Status != "rejected" || str(c.RejectionReason) != "補償対象外の損害" {
			t.Fatalf("rejected: %+v", c)
		}
		claimCall(t, env, tok, d.ClaimID, "assess", map[string]any{"assessedAmount": 1}, 409)
		claimCall(t, env, tok, d.ClaimID, "reject", map[string]any{"reason": "again"}, 409)
		expectFieldErrors(t, must(t, env.Do("POST", "/api/v1/insurance/claims/"+d.ClaimID+"/assess", tok, map[string]any{"assessedAmount": -1}), 422),
			map[string]string{"assessedAmount": "outOfRange"})
		must(t, env.Do("POST", "/api/v1/insurance/claims/0199a0e4-1f6b-7c2e-9d34-6c1b0a7e8f21/assess", tok, map[string]any{"assessedAmount": 1}), 404)
		if u2 := usage(t, env, tok, cn, "2025"); u2 != u {
			t.Fatalf("rejections and payments changed the usage: %+v → %+v", u, u2)
		}

		var list struct{ Items []claimBody }
		must(t, env.Do("GET", "/api/v1/insurance/claims?customerNumber="+cn+"&period=2025&status=assessed", tok, nil), 200).JSON(t, &list)
		if len(list.Items) != 3 {
			t.Fatalf("assessed claims of 2025: %+v", list.Items)
		}
		must(t, env.Do("GET", "/api/v1/insurance/usage?customerNumber="+cn+"&period=25", tok, nil), 422)
		must(t, env.Do("GET", "/api/v1/insurance/usage", tok, nil), 422)
	})
}

// The policy year is configuration: here the calendar year.
func TestInsurancePolicyYearIsConfigurable(t *testing.T) {
	env := apptest.Start(t, apptest.Embedded, apptest.Options{Configure: func(c *app.Config) {
		c.Insurance = insurance.Terms{Year: insurance.PolicyYear{First: insurance.MonthDay{Month: 1, Day: 1}, Last: insurance.MonthDay{Month: 12, Day: 31}}}
	}})
	tok := env.StaffToken("desk", "operator")
	cn, _ := openContract(t, env, tok, nil)
	if c := fileClaim(t, env, tok, claim(cn, "2026-03-20", "liability", "", 1000)); c.Status != "filed" || str(c.Period) != "2026" {
		t.Fatalf("a claim of 2026-03-20 with calendar-year periods: %+v", c)
	}
	// The limits left unset are the defaults.
	if u := usage(t, env, tok, cn, "2026"); u.Liability.Remaining != 500000 || u.Pool.Remaining != 100000000 {
		t.Fatalf("usage with default limits: %+v", u)
	}
}

// Two API replicas on one PostgreSQL database assess claims concurrently: 50 against one company's
// liability limit, and 50 of five companies against a pool lowered to 700,000 yen. No limit is
// ever exceeded, and as the claims exceed the limits the approvals add up to the limits exactly.
func TestConcurrentAssessmentsNeverExceedTheLimits(t *testing.T) {
	const perClaim = 100000
	replicas := func(t *testing.T, pool insurance.Yen) (*apptest.Env, *apptest.Env, string, string) {
		dsn := pgtest.NewDatabase(t)
		terms := insurance.Terms{Year: insurance.DefaultPolicyYear, Limits: insurance.Limits{Liability: 500000, IncidentResponse: 500000, Pool: pool}}
		configure := func(c *app.Config) { c.Insurance = terms }
		a := apptest.Start(t, apptest.Postgres, apptest.Options{PostgresURL: dsn, Configure: configure})
		b := apptest.Start(t, apptest.Postgres, apptest.Options{PostgresURL: dsn, Configure: configure})
		return a, b, a.StaffToken("replica-a", "operator"), b.StaffToken("replica-b", "operator")
	}
	assessAll := func(t *testing.T, a, b *apptest.Env, tokA, tokB string, ids []string) {
		var wg sync.WaitGroup
		for i, id := range ids {
			env, tok := a, tokA
			if i%2 == 1 {
				env, tok = b, tokB
			}
			wg.Go(func() {
				if r := env.Do("POST", "/api/v1/insurance/claims/"+id+"/assess", tok, map[string]any{"assessedAmount": perClaim}); r.Status != 200 && r.Status != 202 {
					t.Errorf("assess %s: %d %s", id, r.Status, r.Body)
				}
			})
		}
		wg.Wait()
	}
	approvals := func(t *testing.T, env *apptest.Env, tok string, ids []string) (sum int64, byCustomer map[string]int64) {
		catchUp(t, env)
		byCustomer = map[string]int64{}
		for _, id := range ids {
			var c claimBody
			must(t, env.Do("GET", "/api/v1/insurance/claims/"+id, tok, nil), 200).JSON(t, &c)
			if c.Status != "assessed" || c.ApprovedAmount == nil || *c.ApprovedAmount < 0 || *c.ApprovedAmount > perClaim {
				t.Fatalf("claim after the race: %+v (approved %s)", c, num(c.ApprovedAmount))
			}
			sum += *c.ApprovedAmount
			byCustomer[c.CustomerNumber] += *c.ApprovedAmount
		}
		return sum, byCustomer
	}

	t.Run("one company", func(t *testing.T) {
		a, b, tokA, tokB := replicas(t, 100_000_000)
		cn, _ := openContract(t, a, tokA, nil)
		var ids []string
		for range 50 {
			ids = append(ids, fileClaim(t, a, tokA, claim(cn, "2025-08-01", "liability", "", perClaim)).ClaimID)
		}
		assessAll(t, a, b, tokA, tokB, ids)
		sum, _ := approvals(t, a, tokA, ids)
		if sum != 500000 {
			t.Fatalf("approvals add up to %d, want the company's liability limit 500000", sum)
		}
		if u := usage(t, a, tokA, cn, "2025"); u.Liability.Used != 500000 || u.Pool.Used != 500000 {
			t.Fatalf("usage: %+v", u)
		}
	})

	t.Run("the pool", func(t *testing.T) {
		a, b, tokA, tokB := replicas(t, 700000)
		var ids []string
		var companies []string
		for i := range 5 {
			cn, _ := openContract(t, a, tokA, map[string]any{"commonCustomerId": fmt.Sprintf("C00000000%02d", i)})
			companies = append(companies, cn)
			for j := range 10 {
				kind, cost := "liability", ""
				if j%2 == 1 {
					kind, cost = "incidentResponse", "attackResponse"
				}
				ids = append(ids, fileClaim(t, a, tokA, claim(cn, "2025-08-01", kind, cost, perClaim)).ClaimID)
			}
		}
		assessAll(t, a, b, tokA, tokB, ids)
		sum, byCustomer := approvals(t, b, tokB, ids)
		if sum != 700000 {
			t.Fatalf("approvals add up to %d, want the pool limit 700000 (by company %v)", sum, byCustomer)
		}
		for _, cn := range companies {
			u := usage(t, b, tokB, cn, "2025")
			if u.Liability.Used > 500000 || u.IncidentResponse.Used > 500000 || u.Total.Used != byCustomer[cn] || u.Pool.Used != 700000 || u.Pool.Remaining != 0 {
				t.Fatalf("usage of %s: %+v (approved %d)", cn, u, byCustomer[cn])
			}
		}
	})
}

// catchUp waits until the replica's read models have applied the whole log, whoever appended it.
func catchUp(t *testing.T, env *apptest.Env) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := env.App.Runner.WaitFor(ctx, head(t, env)); err != nil {
		t.Fatalf("read models did not catch up: %v", err)
	}
}
