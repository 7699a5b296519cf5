package api_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"yorozu/cmd/yorozu/app/apptest"
)

// Regression tests for inputs an attacker sent the running service: each was accepted and then
// stopped a projection, or was refused where it should have been taken. They run on both engines:
// PostgreSQL is where text with a NUL breaks a read model.

// fieldErrors returns "field code" for every field error of a problem answer.
func fieldErrors(t *testing.T, r *apptest.Response) map[string]string {
	t.Helper()
	var p struct {
		Errors []struct{ Field, Code string }
	}
	r.JSON(t, &p)
	out := map[string]string{}
	for _, e := range p.Errors {
		out[e.Field] = e.Code
	}
	return out
}

// refusedWith asserts a problem answer of status carrying field errors field=code, and that
// nothing was appended since before.
func refusedWith(t *testing.T, env *apptest.Env, before uint64, r *apptest.Response, status int, want map[string]string) {
	t.Helper()
	if r.Status != status || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/problem+json") {
		t.Fatalf("status %d %s, want a %d problem: %s", r.Status, r.Header.Get("Content-Type"), status, r.Body)
	}
	got := fieldErrors(t, r)
	for field, code := range want {
		if got[field] != code {
			t.Fatalf("field errors %v, want %s=%s: %s", got, field, code, r.Body)
		}
	}
	if after := uint64(head(t, env)); after != before {
		t.Fatalf("a refused request appended events: head %d → %d", before, after)
	}
}

// readiness is the body of /readyz.
type readiness struct {
	Status      string
	Projections []struct {
		Name      string
		CaughtUp  bool
		StoppedOn *struct {
			Type          string
			Stream        string
			StreamVersion uint64
		}
	}
}

// healthy waits until /readyz answers 200 and fails if any projection is stopped on an event.
func healthy(t testing.TB, env *apptest.Env) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := env.Do("GET", "/readyz", "", nil)
		var rd readiness
		if err := json.Unmarshal(r.Body, &rd); err != nil {
			t.Fatalf("/readyz: %v: %s", err, r.Body)
		}
		for _, p := range rd.Projections {
			if p.StoppedOn != nil {
				t.Fatalf("projection %s stopped on %s %s@%d", p.Name, p.StoppedOn.Type, p.StoppedOn.Stream, p.StoppedOn.StreamVersion)
			}
		}
		if r.Status == http.StatusOK {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz not 200 within 30 s: %s", r.Body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestAcceptedAtLiesBetweenTheApplicationDayAndThePresent(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine apptest.Engine) {
		env := apptest.Start(t, engine, apptest.Options{Now: at("2025-07-03 10:00")})
		tok := env.StaffToken("abe", "operator")
		id := submit(t, env, tok, form(t, "new", map[string]any{"appliedOn": "2025/7/1", "desiredDate": "2025/7/1"}))
		accept := func(acceptedAt string) *apptest.Response {
			return env.Do("POST", "/api/v1/orders/"+id+"/accept", tok, map[string]string{"acceptedAt": acceptedAt})
		}
		before := uint64(head(t, env))
		// The attacker's acceptance: its acceptance day would be in the year 10000.
		refusedWith(t, env, before, accept("9999-12-28T16:00:00+09:00"), 422, map[string]string{"acceptedAt": "inFuture"})
		refusedWith(t, env, before, accept("0001-01-01T00:00:00Z"), 422, map[string]string{"acceptedAt": "beforeAppliedOn"})
		refusedWith(t, env, before, accept("0001-01-01"), 422, map[string]string{"acceptedAt": "invalidFormat"})
		refusedWith(t, env, before, accept("2025-06-30T23:59:59+09:00"), 422, map[string]string{"acceptedAt": "beforeAppliedOn"})
		refusedWith(t, env, before, accept(env.Clock.Now().Add(6*time.Minute).Format(time.RFC3339)), 422, map[string]string{"acceptedAt": "inFuture"})
		healthy(t, env)
		if o := getOrder(t, env, tok, id); o.Status != "received" || o.Version != 1 {
			t.Fatalf("a refused acceptance changed the order: %+v", o)
		}

		// Back-dated to the first instant of the application day (JST): taken, and it is the
		// event's business time.
		var acc orderBody
		must(t, accept("2025-07-01T00:00:00+09:00"), 200).JSON(t, &acc)
		if date(acc.AcceptanceDay) != "2025-07-01" || date(acc.ScheduledDate) != "2025-07-11" {
			t.Fatalf("accepted order: %+v", acc)
		}
		// Within the clock skew of the present is taken too.
		other := submit(t, env, tok, form(t, "new", map[string]any{"appliedOn": "2025/7/3", "desiredDate": "2025/7/3"}))
		must(t, env.Do("POST", "/api/v1/orders/"+other+"/accept", tok, map[string]string{"acceptedAt": env.Clock.Now().Add(4 * time.Minute).Format(time.RFC3339)}), 200)

		env.Clock.Set(at("2025-07-11 09:00"))
		var done orderBody
		must(t, env.Do("POST", "/api/v1/orders/"+id+"/complete", tok, nil), 200).JSON(t, &done)
		var history struct {
			Items []struct {
				Type        string
				EffectiveAt time.Time
				RecordedAt  time.Time
				Data        map[string]any
			}
		}
		must(t, env.Do("GET", "/api/v1/contracts/"+done.CustomerNumber+"/history", tok, nil), 200).JSON(t, &history)
		found := false
		for _, it := range history.Items {
			if it.Type != "OrderAccepted" || it.Data["orderId"] != id {
				continue
			}
			found = true
			if want := at("2025-07-01 00:00"); !it.EffectiveAt.Equal(want) {
				t.Fatalf("OrderAccepted effectiveAt %s, want the acceptedAt %s", it.EffectiveAt, want)
			}
			if !it.RecordedAt.Equal(at("2025-07-03 10:00").Add(30 * time.Second)) {
				t.Fatalf("OrderAccepted recordedAt %s, want when it was entered", it.RecordedAt)
			}
		}
		if !found {
			t.Fatalf("no OrderAccepted of order %s in the history: %+v", id, history.Items)
		}
		healthy(t, env)
	})
}

func TestControlCharactersAreRefusedInEveryBody(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine apptest.Engine) {
		env := startBilling(t, engine, apptest.Options{})
		staff := env.AddStaff("kudo", "operator")
		tok := env.Login(staff)
		before := uint64(head(t, env))
		cc := "controlCharacter"

		// The attacker's NUL in the free text, which PostgreSQL's jsonb cannot hold.
		r := env.Do("POST", "/api/v1/orders", tok, form(t, "new", map[string]any{"customerRemarks": "至急\u0000"}))
		refusedWith(t, env, before, r, 422, map[string]string{"customerRemarks": cc})
		// Every text field, and every problem at once.
		f := form(t, "new", map[string]any{"customerRemarks": "\u001b[2J", "commonCustomerId": "C123456789\u0000"})
		f["contractor"].(map[string]any)["name"] = "株式会社\u0000大和商事"
		f["contractor"].(map[string]any)["address"] = "東京都\u0085千代田区"
		r = env.Do("POST", "/api/v1/orders", tok, f)
		refusedWith(t, env, before, r, 422, map[string]string{"customerRemarks": cc, "contractor.name": cc, "contractor.address": cc, "commonCustomerId": cc})

		id := submit(t, env, tok, form(t, "new", map[string]any{"appliedOn": "2025/7/1", "desiredDate": "2025/7/1",
			"customerRemarks": "一行目\n\t二行目"}))
		if o := getOrder(t, env, tok, id); o.Form["customerRemarks"] != "一行目\n\t二行目" {
			t.Fatalf("tab and newline not kept: %q", o.Form["customerRemarks"])
		}
		before = uint64(head(t, env))
		r = env.Do("PUT", "/api/v1/orders/"+id, tok, form(t, "new", map[string]any{"appliedOn": "2025/7/1", "desiredDate": "2025/7/1", "customerRemarks": "\u0000"}))
		refusedWith(t, env, before, r, 422, map[string]string{"customerRemarks": cc})
		r = env.Do("POST", "/api/v1/orders/"+id+"/accept", tok, `{"acceptedAt":"2025-07-01T10:00:00+09:00\u0000"}`)
		refusedWith(t, env, before, r, 422, map[string]string{"acceptedAt": cc})
		r = env.Do("POST", "/api/v1/billing/price-lists", tok, map[string]any{"effectiveFrom": "2025-04\u0000", "baseMenu": 2980,
			"healthCheckIdAddition": 198, "webFiltering": 165, "securityTicket": 11000, "taxRate": "0.10"})
		refusedWith(t, env, before, r, 422, map[string]string{"effectiveFrom": cc})
		env.Clock.Advance(30 * time.Second)
		r = env.Do("POST", "/api/v1/auth/login", "", map[string]string{"staffId": staff.ID + "\u0000", "password": staff.Password, "otp": env.Code(staff, 0)})
		refusedWith(t, env, before, r, 422, map[string]string{"staffId": cc})
		r = env.Do("POST", "/api/v1/auth/login", "", map[string]string{"staffId": staff.ID, "password": staff.Password + "\u0007", "otp": env.Code(staff, 0)})
		refusedWith(t, env, before, r, 422, map[string]string{"password": cc})

		// Query parameters and path segments reach the read models' queries: PostgreSQL refuses
		// a NUL or invalid UTF-8 in them, which must not turn into a 500.
		for _, q := range []string{
			"/api/v1/audit/events?actor=" + url.QueryEscape("ito\x00"),
			"/api/v1/audit/events?type=%FF",
			"/api/v1/contracts?q=" + url.QueryEscape("大和\x00"),
			"/api/v1/orders?customerNumber=N00000000%00",
			"/api/v1/billing/invoices?month=2025-07&after=%00",
		} {
			refusedWith(t, env, before, env.Do("GET", q, tok, nil), 422, nil)
		}
		for _, p := range []string{"/api/v1/contracts/N00000000%00", "/api/v1/contracts/%FF/history", "/api/v1/billing/invoices/N%00/2025-07"} {
			refusedWith(t, env, before, env.Do("GET", p, tok, nil), 404, nil)
		}
		healthy(t, env)
	})
}

func TestBodiesAreOneJSONObjectWithoutDuplicateKeys(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine apptest.Engine) {
		env := startBilling(t, engine, apptest.Options{})
		staff := env.AddStaff("ueda", "operator")
		tok := env.Login(staff)
		newForm := func() map[string]any {
			return form(t, "new", map[string]any{"appliedOn": "2025/7/1", "desiredDate": "2025/7/1"})
		}
		raw, err := json.Marshal(newForm())
		if err != nil {
			t.Fatal(err)
		}
		valid := string(raw)
		id := submit(t, env, tok, newForm())
		before := uint64(head(t, env))

		// Duplicate keys at any depth: 400, on every body the API takes.
		topDup := strings.Replace(valid, `{`, `{"type":"cancel",`, 1)
		nestedDup := strings.Replace(valid, `"name":"株式会社大和商事"`, `"name":"株式会社大和商事","name":"株式会社偽物"`, 1)
		if nestedDup == valid {
			t.Fatal("the example form changed: no contractor name to duplicate")
		}
		prices := `{"effectiveFrom":"2025-04","baseMenu":2980,"baseMenu":1,"healthCheckIdAddition":198,"webFiltering":165,"securityTicket":11000}`
		for _, c := range []struct{ method, path, body, token string }{
			{"POST", "/api/v1/orders", topDup, tok},
			{"POST", "/api/v1/orders", nestedDup, tok},
			{"PUT", "/api/v1/orders/" + id, nestedDup, tok},
			{"POST", "/api/v1/orders/" + id + "/accept", `{"acceptedAt":"2025-07-01T10:00:00+09:00","acceptedAt":"2025-07-01T11:00:00+09:00"}`, tok},
			{"POST", "/api/v1/billing/price-lists", prices, tok},
			{"POST", "/api/v1/auth/login", `{"staffId":"ueda","staffId":"x","password":"p","otp":"1"}`, ""},
		} {
			r := env.Do(c.method, c.path, c.token, c.body)
			refusedWith(t, env, before, r, 400, nil)
			if !strings.Contains(string(r.Body), "duplicateKey") {
				t.Fatalf("%s %s: the duplicate is not named: %s", c.method, c.path, r.Body)
			}
		}

		// Not JSON, or not an object: 400. Breaking the form's rules: 422.
		for _, body := range []string{`{"type":`, `[]`, `"new"`, `null`, `{"type":"new"} {}`, ``, "\xff"} {
			refusedWith(t, env, before, env.Do("POST", "/api/v1/orders", tok, body), 400, nil)
			refusedWith(t, env, before, env.Do("PUT", "/api/v1/orders/"+id, tok, body), 400, nil)
		}
		refusedWith(t, env, before, env.Do("POST", "/api/v1/orders", tok, `{"type":"new","additionalIds":"15","colour":"red"}`), 422,
			map[string]string{"additionalIds": "invalidType", "colour": "unknownField"})
		refusedWith(t, env, before, env.Do("POST", "/api/v1/orders/"+id+"/accept", tok, `{"acceptedAt":20250701}`), 422,
			map[string]string{"acceptedAt": "invalidFormat"})
		refusedWith(t, env, before, env.Do("POST", "/api/v1/orders/"+id+"/accept", tok, `[]`), 400, nil)

		// Declared as another media type: 415 on every body-taking endpoint.
		for _, ct := range []string{"application/xml", "text/plain", "multipart/form-data; boundary=x"} {
			for _, c := range []struct{ method, path, body, token string }{
				{"POST", "/api/v1/orders", valid, tok},
				{"PUT", "/api/v1/orders/" + id, valid, tok},
				{"POST", "/api/v1/orders/" + id + "/accept", `{"acceptedAt":"2025-07-01T10:00:00+09:00"}`, tok},
				{"POST", "/api/v1/billing/price-lists", `{"effectiveFrom":"2025-04","baseMenu":2980,"healthCheckIdAddition":198,"webFiltering":165,"securityTicket":11000}`, tok},
				{"POST", "/api/v1/auth/login", `{"staffId":"ueda","password":"p","otp":"1"}`, ""},
			} {
				refusedWith(t, env, before, env.Do(c.method, c.path, c.token, c.body, "Content-Type", ct), 415, nil)
			}
		}
		// JSON labelled the way curl -d labels it is read as JSON.
		must(t, env.Do("POST", "/api/v1/orders", tok, valid, "Content-Type", "application/x-www-form-urlencoded"), 201)
		healthy(t, env)
	})
}

func TestDatesMonthsAndLimitsStayInRange(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine apptest.Engine) {
		env := startBilling(t, engine, apptest.Options{})
		tok := env.StaffToken("noda", "operator")
		billingKey := env.APIKey("noda-billing", "billing")
		auditor := env.StaffToken("noda-auditor", "auditor")
		publishPrices(t, env, tok, "2025-04", 2980)
		cn, _ := openContract(t, env, tok, nil)
		env.Clock.Set(at("2025-08-05 10:00"))
		before := uint64(head(t, env))

		// limit: larger than the maximum, however large, is clamped; not a positive integer is 422.
		for _, path := range []string{
			"/api/v1/orders?limit=", "/api/v1/contracts?limit=", "/api/v1/billing/invoices?month=2025-07&limit=",
			"/api/v1/billing/feed?limit=",
		} {
			token := tok
			if strings.Contains(path, "billing") {
				token = billingKey
			}
			for _, n := range []string{"99999999999999999999", "1001", "1000000"} {
				must(t, env.Do("GET", path+n, token, nil), 200)
			}
			before = uint64(head(t, env)) // accepted reads of personal data are recorded
			for _, n := range []string{"-1", "0", "abc", "1.5", "-99999999999999999999"} {
				refusedWith(t, env, before, env.Do("GET", path+n, token, nil), 422, map[string]string{"limit": "invalidNumber"})
			}
		}
		var trail struct{ Items []any }
		must(t, env.Do("GET", "/api/v1/audit/events?limit=99999999999999999999", auditor, nil), 200).JSON(t, &trail)
		if len(trail.Items) == 0 {
			t.Fatal("the clamped audit trail page is empty")
		}

		// Months outside the service's years: 422 on every month parameter, the close above all.
		for _, m := range []string{"9999-12", "0001-01", "1999-12", "2101-01"} {
			refusedWith(t, env, before, env.Do("POST", "/api/v1/billing/months/"+m+"/close", tok, nil), 422, map[string]string{"month": "outOfRange"})
			refusedWith(t, env, before, env.Do("GET", "/api/v1/billing/invoices?month="+m, billingKey, nil), 422, map[string]string{"month": "outOfRange"})
			refusedWith(t, env, before, env.Do("GET", "/api/v1/billing/invoices/"+cn+"/"+m, billingKey, nil), 422, map[string]string{"month": "outOfRange"})
			refusedWith(t, env, before, env.Do("GET", "/api/v1/billing/invoices.csv?month="+m, billingKey, nil), 422, map[string]string{"month": "outOfRange"})
			r := env.Do("POST", "/api/v1/billing/price-lists", tok, map[string]any{"effectiveFrom": m, "baseMenu": 2980,
				"healthCheckIdAddition": 198, "webFiltering": 165, "securityTicket": 11000})
			refusedWith(t, env, before, r, 422, map[string]string{"effectiveFrom": "outOfRange"})
		}
		// A tax rate whose text is a billion digits long is not a tax rate.
		r := env.Do("POST", "/api/v1/billing/price-lists", tok, `{"effectiveFrom":"2025-10","baseMenu":2980,"healthCheckIdAddition":198,"webFiltering":165,"securityTicket":11000,"taxRate":"1e-999999999"}`)
		refusedWith(t, env, before, r, 422, map[string]string{"taxRate": "invalidFormat"})

		// Dates: form dates, query dates and instants.
		r = env.Do("POST", "/api/v1/orders", tok, form(t, "new", map[string]any{"appliedOn": "9999/12/28", "desiredDate": "9999/12/31"}))
		refusedWith(t, env, before, r, 422, map[string]string{"appliedOn": "outOfRange", "desiredDate": "outOfRange"})
		r = env.Do("POST", "/api/v1/orders", tok, form(t, "new", map[string]any{"appliedOn": "2025/8/5", "desiredDate": "2101/1/1"}))
		refusedWith(t, env, before, r, 422, map[string]string{"desiredDate": "outOfRange"})
		refusedWith(t, env, before, env.Do("GET", "/api/v1/orders?scheduledFrom=9999-12-31", tok, nil), 422, map[string]string{"scheduledFrom": "outOfRange"})
		refusedWith(t, env, before, env.Do("GET", "/api/v1/orders?scheduledTo=0001-01-01", tok, nil), 422, map[string]string{"scheduledTo": "outOfRange"})
		refusedWith(t, env, before, env.Do("GET", "/api/v1/audit/events?from=0001-01-01T00:00:00Z", auditor, nil), 422, map[string]string{"from": "outOfRange"})
		refusedWith(t, env, before, env.Do("GET", "/api/v1/contracts/"+cn+"/as-of?effectiveAt=9999-12-31", auditor, nil), 422, map[string]string{"effectiveAt": "outOfRange"})
		must(t, env.Do("GET", "/api/v1/orders?scheduledFrom=2000-01-01&scheduledTo=2100-12-31", tok, nil), 200)
		healthy(t, env)
	})
}
