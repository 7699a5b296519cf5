package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"yorozu/cmd/yorozu/app/apptest"
)

var jst = time.FixedZone("JST", 9*3600)

// form loads an example application form and applies changes to its top level.
func form(t testing.TB, name string, set map[string]any) map[string]any {
	t.Helper()
	raw, err := os.ReadFile("../domain/order/testdata/" + name + ".json")
	if err != nil {
		t.Fatal(err)
	}
	var f map[string]any
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	for k, v := range set {
		if v == nil {
			delete(f, k)
		} else {
			f[k] = v
		}
	}
	return f
}

type orderBody struct {
	OrderID        string
	Type           string
	Status         string
	CustomerNumber string
	AcceptanceDay  *string
	EarliestDate   *string
	ScheduledDate  *string
	CompletedOn    *string
	Version        int
	Form           map[string]any
}

type contractBody struct {
	CustomerNumber   string
	CommonCustomerID string `json:"commonCustomerId"`
	Status           string
	OpenedOn         *string
	TerminatedOn     *string
	AdditionalIDs    int `json:"additionalIds"`
	TotalIDs         int `json:"totalIds"`
	WebFiltering     bool
	TicketsPurchased int
	Contractor       map[string]string
	Version          int
}

func must(t testing.TB, r *apptest.Response, status int) *apptest.Response {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	return r
}

func getOrder(t testing.TB, env *apptest.Env, tok, id string) orderBody {
	t.Helper()
	var o orderBody
	must(t, env.Do("GET", "/api/v1/orders/"+id, tok, nil), 200).JSON(t, &o)
	return o
}

func getContract(t testing.TB, env *apptest.Env, tok, cn string) contractBody {
	t.Helper()
	var c contractBody
	must(t, env.Do("GET", "/api/v1/contracts/"+cn, tok, nil), 200).JSON(t, &c)
	return c
}

func submit(t testing.TB, env *apptest.Env, tok string, f map[string]any) string {
	t.Helper()
	var created orderBody
	must(t, env.Do("POST", "/api/v1/orders", tok, f), 201).JSON(t, &created)
	if created.OrderID == "" || created.Status != "received" || created.Type != f["type"] {
		t.Fatalf("created order: %+v", created)
	}
	return created.OrderID
}

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, jst)
	if err != nil {
		panic(err)
	}
	return t
}

func date(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// runDue runs the order process manager as the scheduler would.
func runDue(t testing.TB, env *apptest.Env) int {
	t.Helper()
	n, err := env.App.RunDue(t.Context())
	if err != nil {
		t.Fatalf("process manager: %v", err)
	}
	return n
}

// openContract takes a new order through its whole lifecycle and returns the customer number.
func openContract(t testing.TB, env *apptest.Env, tok string, set map[string]any) (string, string) {
	t.Helper()
	env.Clock.Set(at("2025-07-01 10:00"))
	f := map[string]any{"appliedOn": "2025/7/1", "desiredDate": "2025/7/1"}
	for k, v := range set {
		f[k] = v
	}
	id := submit(t, env, tok, form(t, "new", f))
	env.Clock.Set(at("2025-07-01 16:00"))
	must(t, env.Do("POST", "/api/v1/orders/"+id+"/accept", tok, map[string]string{"acceptedAt": "2025-07-01T16:00:00+09:00"}), 200)
	env.Clock.Set(at("2025-07-14 00:10"))
	runDue(t, env)
	o := getOrder(t, env, tok, id)
	if o.Status != "completed" {
		t.Fatalf("new order not completed on its date: %+v", o)
	}
	return o.CustomerNumber, id
}

func TestNewOrderLifecycle(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine apptest.Engine) {
		env := apptest.Start(t, engine, apptest.Options{Now: at("2025-07-01 10:00")})
		tok := env.StaffToken("ito", "operator")

		id := submit(t, env, tok, form(t, "new", map[string]any{"appliedOn": "2025/7/1", "desiredDate": "2025/7/1"}))
		o := getOrder(t, env, tok, id)
		if o.Status != "received" || o.Version != 1 || o.CustomerNumber != "" {
			t.Fatalf("received order: %+v", o)
		}
		if strings.Contains(fmt.Sprint(o.Form), "Yamato2026") || strings.Contains(fmt.Sprint(o.Form), "YamatoReport2026") {
			t.Fatal("the order shows a password")
		}
		if o.Form["contractor"].(map[string]any)["name"] != "株式会社大和商事" {
			t.Fatalf("form not kept as submitted: %v", o.Form)
		}

		// SPEC 2 example: accepted 2025-07-01 16:00 JST → acceptance day 07-02, earliest 07-14.
		env.Clock.Set(at("2025-07-01 16:00"))
		r := must(t, env.Do("POST", "/api/v1/orders/"+id+"/accept", tok, map[string]string{"acceptedAt": "2025-07-01T16:00:00+09:00"}), 200)
		var acc orderBody
		r.JSON(t, &acc)
		if acc.Status != "accepted" || date(acc.AcceptanceDay) != "2025-07-02" || date(acc.EarliestDate) != "2025-07-14" ||
			date(acc.ScheduledDate) != "2025-07-14" || acc.CustomerNumber != "N000000001" {
			t.Fatalf("accepted order: %+v", acc)
		}
		must(t, env.Do("POST", "/api/v1/orders/"+id+"/accept", tok, map[string]string{"acceptedAt": "2025-07-01T16:00:00+09:00"}), 409)

		// Completing before the scheduled date is refused.
		must(t, env.Do("POST", "/api/v1/orders/"+id+"/complete", tok, nil), 409)

		// The notice goes out one business day before the scheduled date (Friday 07-11).
		env.Clock.Set(at("2025-07-10 18:00"))
		if n := runDue(t, env); n != 0 {
			t.Fatalf("process manager acted %d times two days early", n)
		}
		env.Clock.Set(at("2025-07-11 09:00"))
		if n := runDue(t, env); n != 1 {
			t.Fatalf("process manager sent %d commands on the notice day, want 1", n)
		}
		if o := getOrder(t, env, tok, id); o.Status != "noticeSent" {
			t.Fatalf("after the notice day: %+v", o)
		}
		// Recording the notice again is idempotent; amending and withdrawing are now too late.
		must(t, env.Do("POST", "/api/v1/orders/"+id+"/notice", tok, nil), 200)
		must(t, env.Do("PUT", "/api/v1/orders/"+id, tok, form(t, "new", map[string]any{"appliedOn": "2025/7/1", "desiredDate": "2025/7/1"})), 409)
		must(t, env.Do("POST", "/api/v1/orders/"+id+"/withdraw", tok, nil), 409)

		env.Clock.Set(at("2025-07-14 08:00"))
		var done orderBody
		must(t, env.Do("POST", "/api/v1/orders/"+id+"/complete", tok, nil), 200).JSON(t, &done)
		if done.Status != "completed" || date(done.CompletedOn) != "2025-07-14" {
			t.Fatalf("completed order: %+v", done)
		}
		again := must(t, env.Do("POST", "/api/v1/orders/"+id+"/complete", tok, nil), 200)
		var done2 orderBody
		again.JSON(t, &done2)
		if done2.Version != done.Version {
			t.Fatalf("completing twice changed the order: version %d → %d", done.Version, done2.Version)
		}
		if n := runDue(t, env); n != 0 {
			t.Fatalf("process manager acted on a completed order (%d)", n)
		}

		c := getContract(t, env, tok, "N000000001")
		if c.Status != "active" || date(c.OpenedOn) != "2025-07-14" || c.AdditionalIDs != 15 || c.TotalIDs != 20 ||
			!c.WebFiltering || c.TicketsPurchased != 2 || c.CommonCustomerID != "C1234567890" || c.Contractor["name"] != "株式会社大和商事" {
			t.Fatalf("opened contract: %+v", c)
		}

		// The read was recorded in the audit trail.
		var trail struct{ Items []map[string]any }
		must(t, env.Do("GET", "/api/v1/audit/events?customerNumber=N000000001&type=PersonalDataRead", tok, nil), 200).JSON(t, &trail)
		if len(trail.Items) == 0 || trail.Items[0]["actor"] != "ito" {
			t.Fatalf("contract read not recorded: %+v", trail.Items)
		}
		// The history holds the order's and the contract's events in order.
		var hist struct{ Items []map[string]any }
		must(t, env.Do("GET", "/api/v1/contracts/N000000001/history", tok, nil), 200).JSON(t, &hist)
		var types []string
		for _, it := range hist.Items {
			types = append(types, it["type"].(string))
		}
		if got := strings.Join(types, ","); got != "OrderReceived,OrderAccepted,OpeningNoticeSent,ContractOpened,OrderCompleted" {
			t.Fatalf("history types: %s", got)
		}
		if strings.Contains(string(must(t, env.Do("GET", "/api/v1/contracts/N000000001/history", tok, nil), 200).Body), "argon2") {
			t.Fatal("history shows a password hash")
		}
	})
}

func TestChangeCancelAndSimpleChangeOrders(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine apptest.Engine) {
		env := apptest.Start(t, engine, apptest.Options{})
		tok := env.StaffToken("kato", "operator")
		cn, _ := openContract(t, env, tok, nil)

		env.Clock.Set(at("2025-08-01 10:00"))
		change := form(t, "change", map[string]any{"customerNumber": cn, "appliedOn": "2025/8/1", "desiredDate": "2025/8/1"})
		id := submit(t, env, tok, change)
		// One open order per contract.
		must(t, env.Do("POST", "/api/v1/orders", tok, form(t, "simpleChange", map[string]any{"customerNumber": cn, "appliedOn": "2025/8/1"})), 409)

		// Amend with a stale If-Match is refused, with the right one accepted.
		must(t, env.Do("PUT", "/api/v1/orders/"+id, tok, change, "If-Match", `"7"`), 412)
		change["idsAfterChange"] = 40
		var amended orderBody
		must(t, env.Do("PUT", "/api/v1/orders/"+id, tok, change, "If-Match", `"1"`), 200).JSON(t, &amended)
		if amended.Version != 2 {
			t.Fatalf("amended order version %d, want 2", amended.Version)
		}

		var acc orderBody
		must(t, env.Do("POST", "/api/v1/orders/"+id+"/accept", tok, map[string]string{"acceptedAt": "2025-08-01T10:00:00+09:00"}), 200).JSON(t, &acc)
		// 08-01 (Fri) + 8 business days, Mountain Day 08-11 off: 08-14.
		if date(acc.ScheduledDate) != "2025-08-14" || acc.CustomerNumber != cn {
			t.Fatalf("accepted change: %+v", acc)
		}
		env.Clock.Set(at("2025-08-14 09:00"))
		if n := runDue(t, env); n != 1 {
			t.Fatalf("process manager sent %d commands, want 1 (complete, notice included)", n)
		}
		c := getContract(t, env, tok, cn)
		if c.AdditionalIDs != 40 || c.TotalIDs != 45 || c.TicketsPurchased != 3 || !c.WebFiltering {
			t.Fatalf("contract after change: %+v", c)
		}

		// A simple change renames the contractor.
		sc := submit(t, env, tok, form(t, "simpleChange", map[string]any{"customerNumber": cn, "appliedOn": "2025/8/14"}))
		must(t, env.Do("POST", "/api/v1/orders/"+sc+"/accept", tok, map[string]string{"acceptedAt": "2025-08-14T09:00:00+09:00"}), 200)
		env.Clock.Set(at("2025-09-01 09:00"))
		must(t, env.Do("POST", "/api/v1/orders/"+sc+"/complete", tok, nil), 200)
		if c := getContract(t, env, tok, cn); c.Contractor["name"] != "株式会社ヤマトホールディングス" {
			t.Fatalf("contractor after simple change: %+v", c.Contractor)
		}

		// Cancel with the old name no longer matches; with the new one it terminates the contract.
		cancel := form(t, "cancel", map[string]any{"customerNumber": cn, "appliedOn": "2025/9/1", "desiredDate": "2025/9/30"})
		r := must(t, env.Do("POST", "/api/v1/orders", tok, cancel), 422)
		if !strings.Contains(string(r.Body), "contractor.name") {
			t.Fatalf("name mismatch not reported on contractor.name: %s", r.Body)
		}
		cancel["contractor"] = map[string]any{"name": "株式会社ヤマトホールディングス"}
		cid := submit(t, env, tok, cancel)
		must(t, env.Do("POST", "/api/v1/orders/"+cid+"/accept", tok, map[string]string{"acceptedAt": "2025-09-01T09:00:00+09:00"}), 200)
		// A cancel order has no opening notice: it may be amended until completion.
		env.Clock.Set(at("2025-09-20 09:00"))
		cancel["desiredDate"] = "2025/9/29"
		var moved orderBody
		must(t, env.Do("PUT", "/api/v1/orders/"+cid, tok, cancel), 200).JSON(t, &moved)
		if date(moved.ScheduledDate) != "2025-09-29" {
			t.Fatalf("amended cancel scheduled on %s, want 2025-09-29", date(moved.ScheduledDate))
		}
		must(t, env.Do("POST", "/api/v1/orders/"+cid+"/notice", tok, nil), 409)
		cancel["desiredDate"] = "2025/9/30"
		must(t, env.Do("PUT", "/api/v1/orders/"+cid, tok, cancel), 200)
		env.Clock.Set(at("2025-09-30 09:00"))
		runDue(t, env)
		c = getContract(t, env, tok, cn)
		if c.Status != "terminated" || date(c.TerminatedOn) != "2025-09-30" {
			t.Fatalf("contract after cancel: %+v", c)
		}
		// A terminated contract accepts no order.
		r = must(t, env.Do("POST", "/api/v1/orders", tok, form(t, "change", map[string]any{"customerNumber": cn, "appliedOn": "2025/10/1", "desiredDate": "2025/10/1", "contractor": map[string]any{"name": "株式会社ヤマトホールディングス"}})), 422)
		if !strings.Contains(string(r.Body), "notActive") {
			t.Fatalf("terminated contract: %s", r.Body)
		}
		var active struct{ Items []contractBody }
		must(t, env.Do("GET", "/api/v1/contracts?status=terminated&q=ヤマト", tok, nil), 200).JSON(t, &active)
		if len(active.Items) != 1 || active.Items[0].CustomerNumber != cn {
			t.Fatalf("contract search: %+v", active.Items)
		}
	})
}

func TestWithdrawBeforeNotice(t *testing.T) {
	env := apptest.Start(t, apptest.Embedded, apptest.Options{})
	tok := env.StaffToken("mori", "operator")
	id := submit(t, env, tok, form(t, "new", map[string]any{"appliedOn": "2025/7/1", "desiredDate": "2025/8/1"}))
	must(t, env.Do("POST", "/api/v1/orders/"+id+"/accept", tok, map[string]string{"acceptedAt": "2025-07-01T10:00:00+09:00"}), 200)
	var w orderBody
	must(t, env.Do("POST", "/api/v1/orders/"+id+"/withdraw", tok, nil), 200).JSON(t, &w)
	if w.Status != "withdrawn" {
		t.Fatalf("withdrawn order: %+v", w)
	}
	must(t, env.Do("POST", "/api/v1/orders/"+id+"/complete", tok, nil), 409)
	var q struct{ Items []orderBody }
	must(t, env.Do("GET", "/api/v1/orders?status=withdrawn&type=new", tok, nil), 200).JSON(t, &q)
	if len(q.Items) != 1 || q.Items[0].OrderID != id {
		t.Fatalf("withdrawn queue: %+v", q.Items)
	}
}

func TestInvalidFormReportsEveryErrorAndStoresNothing(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine apptest.Engine) {
		env := apptest.Start(t, engine, apptest.Options{})
		tok := env.StaffToken("abe", "operator")
		bad := form(t, "new", map[string]any{"appliedOn": "2025/2/30", "commonCustomerId": "X123", "additionalIds": 9, "customerNumber": "N000000001"})
		bad["contractor"].(map[string]any)["nameKana"] = "ｶﾌﾞｼｷｶﾞｲｼｬ"
		before := head(t, env)
		r := must(t, env.Do("POST", "/api/v1/orders", tok, bad), 422)
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
			t.Fatalf("content type %s", ct)
		}
		var p struct {
			Errors []struct{ Field, Code, Message string }
		}
		r.JSON(t, &p)
		got := map[string]string{}
		for _, e := range p.Errors {
			got[e.Field] = e.Code
		}
		for field, code := range map[string]string{
			"appliedOn": "invalidDate", "commonCustomerId": "invalidFormat", "additionalIds": "outOfRange",
			"customerNumber": "mustBeAbsent", "contractor.nameKana": "notKana",
		} {
			if got[field] != code {
				t.Errorf("field %s: code %q, want %q (all: %v)", field, got[field], code, got)
			}
		}
		if head(t, env) != before {
			t.Fatal("an invalid form stored events")
		}
	})
}

func TestIdempotencyKeyOnSubmit(t *testing.T) {
	env := apptest.Start(t, apptest.Embedded, apptest.Options{})
	tok := env.StaffToken("ueda", "operator")
	f := form(t, "new", map[string]any{"appliedOn": "2025/7/1", "desiredDate": "2025/7/1"})
	r1 := must(t, env.Do("POST", "/api/v1/orders", tok, f, "Idempotency-Key", "order-0001"), 201)
	before := head(t, env)
	r2 := must(t, env.Do("POST", "/api/v1/orders", tok, f, "Idempotency-Key", "order-0001"), 201)
	if string(r1.Body) != string(r2.Body) {
		t.Fatalf("replay differs: %s vs %s", r1.Body, r2.Body)
	}
	if head(t, env) != before {
		t.Fatal("a replayed command appended events")
	}
	var q struct{ Items []orderBody }
	must(t, env.Do("GET", "/api/v1/orders", tok, nil), 200).JSON(t, &q)
	if len(q.Items) != 1 {
		t.Fatalf("%d orders after a retried submission, want 1", len(q.Items))
	}
	// The same key with another body is refused.
	f["customerRemarks"] = "別の内容"
	must(t, env.Do("POST", "/api/v1/orders", tok, f, "Idempotency-Key", "order-0001"), 422)
}

func TestAuditorCannotSendCommands(t *testing.T) {
	env := apptest.Start(t, apptest.Embedded, apptest.Options{})
	auditor := env.StaffToken("nakamura", "auditor")
	billing := env.APIKey("billing", "billing")
	for _, tok := range []string{auditor, billing} {
		before := head(t, env)
		r := env.Do("POST", "/api/v1/orders", tok, form(t, "new", map[string]any{"appliedOn": "2025/7/1", "desiredDate": "2025/7/1"}))
		refused(t, env, before, r, http.StatusForbidden)
	}
}

func TestParallelAcceptancesGetDistinctCustomerNumbers(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine apptest.Engine) {
		env := apptest.Start(t, engine, apptest.Options{})
		tok := env.StaffToken("fujita", "operator")
		const n = 50
		ids := make([]string, n)
		for i := range ids {
			ids[i] = submit(t, env, tok, form(t, "new", map[string]any{"appliedOn": "2025/7/1", "desiredDate": "2025/7/1"}))
		}
		numbers := make([]string, n)
		var wg sync.WaitGroup
		for i, id := range ids {
			wg.Add(1)
			go func(i int, id string) {
				defer wg.Done()
				r := env.Do("POST", "/api/v1/orders/"+id+"/accept", tok, map[string]string{"acceptedAt": "2025-07-01T10:00:00+09:00"})
				var o orderBody
				if r.Status != 200 {
					t.Errorf("accept %d: %d %s", i, r.Status, r.Body)
					return
				}
				r.JSON(t, &o)
				numbers[i] = o.CustomerNumber
			}(i, id)
		}
		wg.Wait()
		seen := map[string]bool{}
		for _, cn := range numbers {
			if cn == "" || seen[cn] {
				t.Fatalf("customer numbers not distinct: %v", numbers)
			}
			seen[cn] = true
		}
	})
}

func TestBitemporalAsOf(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine apptest.Engine) {
		env := apptest.Start(t, engine, apptest.Options{})
		tok := env.StaffToken("ota", "operator")
		cn, _ := openContract(t, env, tok, nil)

		// On 09-01 staff record a change that was agreed in July: back-dated to 07-28.
		env.Clock.Set(at("2025-09-01 10:00"))
		id := submit(t, env, tok, form(t, "change", map[string]any{"customerNumber": cn, "appliedOn": "2025/7/15", "desiredDate": "2025/7/28"}))
		must(t, env.Do("POST", "/api/v1/orders/"+id+"/accept", tok, map[string]string{"acceptedAt": "2025-07-15T10:00:00+09:00"}), 200)
		recordedAt := at("2025-09-01 10:05")
		env.Clock.Set(recordedAt)
		var done orderBody
		must(t, env.Do("POST", "/api/v1/orders/"+id+"/complete", tok, nil), 200).JSON(t, &done)
		if date(done.CompletedOn) != "2025-07-28" {
			t.Fatalf("back-dated change completed on %s", date(done.CompletedOn))
		}

		asOf := func(effective, known string) contractBody {
			var c contractBody
			must(t, env.Do("GET", "/api/v1/contracts/"+cn+"/as-of?effectiveAt="+effective+"&knownAt="+known, tok, nil), 200).JSON(t, &c)
			return c
		}
		if c := asOf("2025-08-01T00:00:00Z", "2025-08-15T00:00:00Z"); c.AdditionalIDs != 15 {
			t.Fatalf("as known on 08-15, IDs on 08-01 were %d, want 15 (the change was not known yet)", c.AdditionalIDs)
		}
		if c := asOf("2025-08-01T00:00:00Z", "2025-09-02T00:00:00Z"); c.AdditionalIDs != 30 {
			t.Fatalf("as known on 09-02, IDs on 08-01 were %d, want 30", c.AdditionalIDs)
		}
		if c := asOf("2025-07-20T00:00:00Z", "2025-09-02T00:00:00Z"); c.AdditionalIDs != 15 {
			t.Fatalf("IDs on 07-20 were %d, want 15 (the change took effect 07-28)", c.AdditionalIDs)
		}
		must(t, env.Do("GET", "/api/v1/contracts/"+cn+"/as-of?effectiveAt=2025-07-01T00:00:00Z", tok, nil), 404)
	})
}
