package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"yorozu/cmd/yorozu/app"
	"yorozu/cmd/yorozu/app/apptest"
)

// Fuzz targets for every command endpoint, at the HTTP level: random bodies and headers derived
// from valid requests, sent to one in-process service per target (embedded engine). The property,
// after every input: no answer is a 5xx, no projection is stopped on an event, and after an
// accepted input /readyz answers 200 once the projections caught up. `go test` runs the seeds;
// `make fuzz` runs each target for a while.

// fuzzService is the service a fuzz target sends its inputs to.
type fuzzService struct {
	env    *apptest.Env
	token  string
	staff  apptest.Staff
	cn     string // an active contract (when asked for)
	client *http.Client
}

// startFuzzService starts the service at 2025-08-01 10:00 JST with an operator, a price list from
// 2025-04 and, if withContract, a contract opened 2025-07-14.
func startFuzzService(f *testing.F, withContract bool) *fuzzService {
	env := apptest.Start(f, apptest.Embedded, apptest.Options{Configure: func(c *app.Config) {
		c.Issuer, c.RegistrationNumber = testIssuer, testRegistration
	}})
	staff := env.AddStaff("fuzz", "operator")
	s := &fuzzService{env: env, staff: staff, token: env.Login(staff), client: env.Server.Client()}
	must(f, env.Do("POST", "/api/v1/billing/price-lists", s.token, map[string]any{"effectiveFrom": "2025-04", "baseMenu": 2980,
		"healthCheckIdAddition": 198, "webFiltering": 165, "securityTicket": 11000, "taxRate": "0.10"}), 201)
	if withContract {
		s.cn, _ = openContract(f, env, s.token, nil)
	}
	env.Clock.Set(at("2025-08-01 10:00"))
	return s
}

// jsonOf is v as JSON, for seeds.
func jsonOf(f *testing.F, v any) []byte {
	f.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		f.Fatal(err)
	}
	return raw
}

// sendable reports whether a header value can be sent at all (the HTTP client refuses control
// characters): inputs that cannot be sent are skipped.
func sendable(values ...string) bool {
	for _, v := range values {
		for i := 0; i < len(v); i++ {
			if c := v[i]; c < 0x20 && c != '\t' || c == 0x7f {
				return false
			}
		}
	}
	return true
}

// send sends one request and returns the answer; headers come in pairs, an empty value is not
// sent. It skips an input the client cannot send.
func (s *fuzzService) send(t *testing.T, method, path, token string, body []byte, headers ...string) *apptest.Response {
	t.Helper()
	if !sendable(headers...) {
		t.Skip("a header the HTTP client cannot send")
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, s.env.Server.URL+path, rd)
	if err != nil {
		t.Skipf("not a request: %v", err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] != "" {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: the service did not answer: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return &apptest.Response{Status: resp.StatusCode, Header: resp.Header, Body: raw}
}

// check asserts the property after one input.
func (s *fuzzService) check(t *testing.T, what string, r *apptest.Response) {
	t.Helper()
	if r.Status >= 500 {
		t.Fatalf("%s: %d: %s", what, r.Status, r.Body)
	}
	for _, st := range s.env.App.Runner.Statuses() {
		if a := st.Stalled; a != nil {
			t.Fatalf("%s (answered %d) stopped projection %s: %v", what, r.Status, st.Name, a)
		}
	}
	if r.Status >= 300 {
		return
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		ready := s.send(t, "GET", "/readyz", "", nil)
		if ready.Status == http.StatusOK {
			return
		}
		if strings.Contains(string(ready.Body), "stoppedOn") || time.Now().After(deadline) {
			t.Fatalf("%s (answered %d): /readyz %d: %s", what, r.Status, ready.Status, ready.Body)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// newOrder submits a valid new order applied on 2025-07-01 and returns its ID.
func (s *fuzzService) newOrder(t *testing.T, form []byte) string {
	t.Helper()
	r := s.send(t, "POST", "/api/v1/orders", s.token, form, "Content-Type", "application/json")
	if r.Status != http.StatusCreated {
		t.Fatalf("submit a valid order: %d %s", r.Status, r.Body)
	}
	var created struct{ OrderID string }
	if err := json.Unmarshal(r.Body, &created); err != nil {
		t.Fatal(err)
	}
	return created.OrderID
}

func FuzzSubmitOrder(f *testing.F) {
	s := startFuzzService(f, true)
	applied := map[string]any{"appliedOn": "2025/8/1", "desiredDate": "2025/8/1"}
	newForm := jsonOf(f, form(f, "new", applied))
	for _, seed := range []struct {
		body        []byte
		contentType string
	}{
		{newForm, "application/json"},
		{jsonOf(f, form(f, "change", map[string]any{"customerNumber": s.cn, "appliedOn": "2025/8/1", "desiredDate": "2025/8/1"})), "application/json"},
		{jsonOf(f, form(f, "cancel", map[string]any{"customerNumber": s.cn, "appliedOn": "2025/8/1", "desiredDate": "2025/9/30"})), "application/json"},
		{jsonOf(f, form(f, "simpleChange", map[string]any{"customerNumber": s.cn, "appliedOn": "2025/8/1"})), "application/json"},
		{jsonOf(f, form(f, "new", map[string]any{"customerRemarks": "至急\u0000", "appliedOn": "2025/8/1", "desiredDate": "2025/8/1"})), "application/json"},
		{jsonOf(f, form(f, "new", map[string]any{"customerRemarks": "一行目\n\t二行目", "appliedOn": "2025/8/1", "desiredDate": "2025/8/1"})), "application/json"},
		{jsonOf(f, form(f, "new", map[string]any{"appliedOn": "9999/12/28", "desiredDate": "9999/12/31"})), "application/json"},
		{bytes.Replace(newForm, []byte(`{`), []byte(`{"type":"cancel",`), 1), "application/json"},
		{[]byte(`{"type":`), "application/json"},
		{newForm, "application/xml"},
		{newForm, "application/x-www-form-urlencoded"},
		{newForm, ""},
	} {
		f.Add(seed.body, seed.contentType)
	}
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		s.check(t, "POST /orders", s.send(t, "POST", "/api/v1/orders", s.token, body, "Content-Type", contentType))
	})
}

func FuzzAmendOrder(f *testing.F) {
	s := startFuzzService(f, false)
	applied := map[string]any{"appliedOn": "2025/7/1", "desiredDate": "2025/7/1"}
	r := must(f, s.env.Do("POST", "/api/v1/orders", s.token, form(f, "new", applied)), 201)
	var created struct{ OrderID string }
	r.JSON(f, &created)
	path := "/api/v1/orders/" + created.OrderID
	valid := jsonOf(f, form(f, "new", applied))
	for _, seed := range []struct {
		body                 []byte
		contentType, ifMatch string
	}{
		{valid, "application/json", ""},
		{valid, "application/json", `"1"`},
		{valid, "application/json", "*"},
		{valid, "application/json", `W/"2"`},
		{valid, "application/json", "abc"},
		{jsonOf(f, form(f, "new", map[string]any{"appliedOn": "2025/7/1", "desiredDate": "2025/7/2", "customerRemarks": "\u0000"})), "application/json", ""},
		{jsonOf(f, form(f, "cancel", map[string]any{"appliedOn": "2025/7/1", "desiredDate": "2025/7/2"})), "application/json", ""},
		{bytes.Replace(valid, []byte(`"plan":"basic"`), []byte(`"plan":"basic","plan":"pro"`), 1), "application/json", ""},
		{valid, "text/plain", ""},
	} {
		f.Add(seed.body, seed.contentType, seed.ifMatch)
	}
	f.Fuzz(func(t *testing.T, body []byte, contentType, ifMatch string) {
		s.check(t, "PUT /orders/{id}", s.send(t, "PUT", path, s.token, body, "Content-Type", contentType, "If-Match", ifMatch))
	})
}

func FuzzAcceptOrder(f *testing.F) {
	s := startFuzzService(f, false)
	order := jsonOf(f, form(f, "new", map[string]any{"appliedOn": "2025/7/1", "desiredDate": "2025/7/1"}))
	for _, seed := range []struct {
		body                 string
		contentType, ifMatch string
	}{
		{`{"acceptedAt":"2025-07-01T16:00:00+09:00"}`, "application/json", ""},
		{`{"acceptedAt":"2025-08-01T10:04:59+09:00"}`, "application/json", `"1"`},
		{``, "", ""},
		{`{}`, "application/json", `"2"`},
		{`{"acceptedAt":null}`, "application/json", "*"},
		{`{"acceptedAt":"9999-12-28T16:00:00+09:00"}`, "application/json", ""},
		{`{"acceptedAt":"0001-01-01T00:00:00Z"}`, "application/json", ""},
		{`{"acceptedAt":"2025-07-01T10:00:00+09:00\u0000"}`, "application/json", ""},
		{`{"acceptedAt":"2025-07-01T10:00:00+09:00","acceptedAt":"2025-07-02T10:00:00+09:00"}`, "application/json", ""},
		{`<acceptedAt/>`, "application/xml", ""},
	} {
		f.Add([]byte(seed.body), seed.contentType, seed.ifMatch)
	}
	f.Fuzz(func(t *testing.T, body []byte, contentType, ifMatch string) {
		id := s.newOrder(t, order)
		r := s.send(t, "POST", "/api/v1/orders/"+id+"/accept", s.token, body, "Content-Type", contentType, "If-Match", ifMatch)
		s.check(t, "POST /orders/{id}/accept", r)
	})
}

// lifecycleFuzz is the fuzz body of the order commands without a body of their own (notice,
// complete, withdraw): each input gets a new order taken to a stage (received, accepted, notice
// sent, completed) and sends the command to it, or to orderRef when that is not empty, with
// random headers and body.
func lifecycleFuzz(f *testing.F, command string) {
	s := startFuzzService(f, false)
	order := jsonOf(f, form(f, "new", map[string]any{"appliedOn": "2025/7/1", "desiredDate": "2025/7/1"}))
	for _, seed := range []struct {
		stage                   uint8
		orderRef, ifMatch, idem string
		body                    string
	}{
		{0, "", "", "", ""},
		{1, "", "", "", ""},
		{2, "", `"3"`, "", ""},
		{3, "", "", "key-1", ""},
		{1, "", `"2"`, "key-2", `{"anything":true}`},
		{0, "not-an-order", "", "", ""},
		{1, "0199a0e4-1f6b-7c2e-9d34-6c1b0a7e8f21", "", "", ""},
		{2, "", "", "bad key with spaces", ""},
	} {
		f.Add(seed.stage, seed.orderRef, seed.ifMatch, seed.idem, []byte(seed.body))
	}
	f.Fuzz(func(t *testing.T, stage uint8, orderRef, ifMatch, idem string, body []byte) {
		id := s.newOrder(t, order)
		base := "/api/v1/orders/" + id
		steps := []string{"/accept", "/notice", "/complete"}
		for _, step := range steps[:stage%4] {
			var b []byte
			if step == "/accept" {
				b = []byte(`{"acceptedAt":"2025-07-01T10:00:00+09:00"}`)
			}
			if r := s.send(t, "POST", base+step, s.token, b, "Content-Type", "application/json"); r.Status != http.StatusOK {
				t.Fatalf("take the order to %s: %d %s", step, r.Status, r.Body)
			}
		}
		if orderRef != "" {
			base = "/api/v1/orders/" + url.PathEscape(orderRef)
		}
		r := s.send(t, "POST", base+"/"+command, s.token, body, "If-Match", ifMatch, "Idempotency-Key", idem)
		s.check(t, "POST /orders/{id}/"+command, r)
	})
}

func FuzzOrderNotice(f *testing.F)   { lifecycleFuzz(f, "notice") }
func FuzzCompleteOrder(f *testing.F) { lifecycleFuzz(f, "complete") }
func FuzzWithdrawOrder(f *testing.F) { lifecycleFuzz(f, "withdraw") }

func FuzzPublishPriceList(f *testing.F) {
	s := startFuzzService(f, false)
	for _, seed := range []struct{ body, contentType string }{
		{`{"effectiveFrom":"2025-10","baseMenu":3280,"healthCheckIdAddition":198,"webFiltering":165,"securityTicket":11000,"taxRate":"0.10"}`, "application/json"},
		{`{"effectiveFrom":"2026-04","baseMenu":3280,"healthCheckIdAddition":198,"webFiltering":165,"securityTicket":11000}`, "application/json"},
		{`{"effectiveFrom":"2026-10","baseMenu":0,"healthCheckIdAddition":0,"webFiltering":0,"securityTicket":0,"taxRate":0.08}`, ""},
		{`{"effectiveFrom":"9999-12","baseMenu":1,"healthCheckIdAddition":1,"webFiltering":1,"securityTicket":1}`, "application/json"},
		{`{"effectiveFrom":"2025-10","baseMenu":1,"healthCheckIdAddition":1,"webFiltering":1,"securityTicket":1,"taxRate":"1e-999999999"}`, "application/json"},
		{`{"effectiveFrom":"2025-10\u0000","baseMenu":1,"baseMenu":2}`, "application/json"},
		{`{"effectiveFrom":"2025-10","baseMenu":1e3,"healthCheckIdAddition":-1,"webFiltering":"1","securityTicket":99999999999999999999}`, "application/json"},
		{`{"effectiveFrom":"2025-10"}`, "text/plain"},
	} {
		f.Add([]byte(seed.body), seed.contentType)
	}
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		s.check(t, "POST /billing/price-lists", s.send(t, "POST", "/api/v1/billing/price-lists", s.token, body, "Content-Type", contentType))
	})
}

func FuzzCloseMonth(f *testing.F) {
	s := startFuzzService(f, true)
	for _, seed := range []struct{ month, idem string }{
		{"2025-07", ""},
		{"2025-07", "close-1"},
		{"2025-06", ""},
		{"2025-08", ""},
		{"2025-03", ""},
		{"9999-12", ""},
		{"0001-01", ""},
		{"2025-13", ""},
		{"2025-7", ""},
		{"2025-07\x00", ""},
	} {
		f.Add(seed.month, seed.idem)
	}
	f.Fuzz(func(t *testing.T, month, idem string) {
		r := s.send(t, "POST", "/api/v1/billing/months/"+url.PathEscape(month)+"/close", s.token, nil, "Idempotency-Key", idem)
		s.check(t, "POST /billing/months/{month}/close", r)
	})
}

func FuzzLogin(f *testing.F) {
	s := startFuzzService(f, false)
	s.env.Clock.Advance(30 * time.Second)
	code := s.env.Code(s.staff, 0)
	login := func(id, password, otp string) string {
		return string(jsonOf(f, map[string]string{"staffId": id, "password": password, "otp": otp}))
	}
	for _, seed := range []struct{ body, contentType string }{
		{login(s.staff.ID, s.staff.Password, code), "application/json"},
		{login(s.staff.ID, "wrong password", code), "application/json"},
		{login("nobody", s.staff.Password, code), "application/json"},
		{login(s.staff.ID+"\x00", s.staff.Password, code), "application/json"},
		{`{"staffId":"fuzz","staffId":"x","password":"p","otp":"1"}`, "application/json"},
		{`{"staffId":"fuzz"}`, "application/json"},
		{`[]`, "application/json"},
		{login(s.staff.ID, s.staff.Password, code), "application/xml"},
	} {
		f.Add([]byte(seed.body), seed.contentType)
	}
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		s.check(t, "POST /auth/login", s.send(t, "POST", "/api/v1/auth/login", "", body, "Content-Type", contentType))
	})
}
