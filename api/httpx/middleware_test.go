package httpx_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"yorozu/api/httpx"
	"yorozu/domain/access"
)

func decodeEcho(w http.ResponseWriter, r *http.Request) {
	var v map[string]any
	if err := httpx.DecodeJSON(r, &v); err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, v)
}

func TestBodyLimit(t *testing.T) {
	big := `{"data":"` + strings.Repeat("x", 2<<20) + `"}`
	tests := []struct {
		name    string
		handler http.Handler
		body    io.Reader
		status  int
	}{
		{"small body", httpx.BodyLimit(httpx.APIBodyLimit)(http.HandlerFunc(decodeEcho)), strings.NewReader(`{"a":1}`), 200},
		{"over 1 MiB by Content-Length", httpx.BodyLimit(httpx.APIBodyLimit)(http.HandlerFunc(decodeEcho)), strings.NewReader(big), 413},
		// io.MultiReader hides the length, as a chunked upload does.
		{"over 1 MiB while reading", httpx.BodyLimit(httpx.APIBodyLimit)(http.HandlerFunc(decodeEcho)), io.MultiReader(strings.NewReader(big)), 413},
		{"a route's own 8 MiB limit inside 1 MiB", httpx.BodyLimit(httpx.APIBodyLimit)(httpx.BodyLimit(httpx.AgentBodyLimit)(http.HandlerFunc(decodeEcho))), io.MultiReader(strings.NewReader(big)), 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := serve(tc.handler, httptest.NewRequest(http.MethodPost, "/api/v1/orders", tc.body))
			if tc.status == 200 {
				if rec.Code != 200 {
					t.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
				return
			}
			if p := problemOf(t, rec, tc.status); p.Type != "/problems/body-too-large" {
				t.Fatalf("type %q", p.Type)
			}
		})
	}
}

type fakeAuth map[string]access.Principal

func (f fakeAuth) Authenticate(token string) (access.Principal, error) {
	switch token {
	case "expired":
		return access.Principal{}, access.ErrSessionExpired
	case "store-down":
		return access.Principal{}, errors.New("postgres: connection refused")
	}
	if p, ok := f[token]; ok {
		return p, nil
	}
	return access.Principal{}, access.ErrUnauthenticated
}

var principals = fakeAuth{
	"op":   {ID: "sato", Role: access.RoleOperator, Kind: access.KindStaff},
	"bill": {ID: "billing-system", Role: access.RoleBilling, Kind: access.KindAPIKey},
	"aud":  {ID: "ito", Role: access.RoleAuditor, Kind: access.KindStaff},
}

func TestAuthenticationAndPermissions(t *testing.T) {
	chain := func(p access.Permission) http.Handler {
		return httpx.Authenticate(principals)(httpx.RequirePermission(p)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			who, _ := httpx.PrincipalFrom(r.Context())
			httpx.WriteJSON(w, http.StatusOK, map[string]string{"actor": who.ID})
		})))
	}
	tests := []struct {
		name      string
		auth      string
		perm      access.Permission
		status    int
		challenge bool
	}{
		{"no header", "", access.PermCommand, 401, true},
		{"not bearer", "Basic c2F0bzpwdw==", access.PermCommand, 401, true},
		{"unknown token", "Bearer nope", access.PermCommand, 401, true},
		{"expired session", "Bearer expired", access.PermReadOperations, 401, true},
		{"authenticator failure is not a 401", "Bearer store-down", access.PermCommand, 500, false},
		{"operator command", "Bearer op", access.PermCommand, 200, false},
		{"lower-case scheme", "bearer op", access.PermCommand, 200, false},
		{"billing key on a command", "Bearer bill", access.PermCommand, 403, false},
		{"billing key on the feed", "Bearer bill", access.PermBillingFeed, 200, false},
		{"auditor on a command", "Bearer aud", access.PermCommand, 403, false},
		{"auditor on the audit trail", "Bearer aud", access.PermReadAudit, 200, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/api/v1/orders", nil)
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			rec := serve(chain(tc.perm), req)
			if got := rec.Header().Get("WWW-Authenticate"); strings.HasPrefix(got, "Bearer") != tc.challenge {
				t.Fatalf("WWW-Authenticate %q, want a Bearer challenge: %v", got, tc.challenge)
			}
			if tc.status == 200 {
				if rec.Code != 200 {
					t.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
				return
			}
			problemOf(t, rec, tc.status)
		})
	}
	// RequirePermission alone, without Authenticate before it, refuses.
	problemOf(t, serve(httpx.RequirePermission(access.PermReadBilling)(ok200), httptest.NewRequest("GET", "/", nil)), 401)
}

// idempotentOrders is a command endpoint that counts its runs and answers 201 with headers.
type idempotentOrders struct {
	mu     sync.Mutex
	runs   int
	status int
	delay  time.Duration
}

func (h *idempotentOrders) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.runs++
	n := h.runs
	status := h.status
	h.mu.Unlock()
	time.Sleep(h.delay)
	if status == 0 {
		status = http.StatusCreated
	}
	body, _ := io.ReadAll(r.Body)
	w.Header().Set("Location", "/api/v1/orders/1")
	w.Header().Set("ETag", `"1"`)
	w.Header().Set("X-Run", string(rune('0'+n)))
	httpx.WriteJSON(w, status, map[string]any{"orderId": "1", "run": n, "echo": string(body)})
}

func (h *idempotentOrders) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.runs
}

func idemRequest(token, key, body string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/api/v1/orders", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set(httpx.HeaderIdempotencyKey, key)
	}
	return req
}

func idemChain(h http.Handler) http.Handler {
	store := httpx.NewMemoryIdempotencyStore(nil)
	return httpx.Authenticate(principals)(httpx.Idempotency(httpx.IdempotencyConfig{Store: store, Wait: 2 * time.Second})(h))
}

func TestIdempotencyReplaysTheFirstAnswer(t *testing.T) {
	h := &idempotentOrders{}
	srv := idemChain(h)
	first := serve(srv, idemRequest("op", "key-1", `{"type":"new"}`))
	again := serve(srv, idemRequest("op", `"key-1"`, `{"type":"new"}`)) // quoted form of the same key
	if h.count() != 1 {
		t.Fatalf("handler ran %d times, want once", h.count())
	}
	if again.Code != first.Code || !bytes.Equal(again.Body.Bytes(), first.Body.Bytes()) {
		t.Fatalf("replay %d %s, want %d %s", again.Code, again.Body, first.Code, first.Body)
	}
	for _, name := range []string{"Content-Type", "Location", "ETag"} {
		if again.Header().Get(name) != first.Header().Get(name) {
			t.Errorf("replayed %s = %q, want %q", name, again.Header().Get(name), first.Header().Get(name))
		}
	}
	if again.Header().Get("Idempotent-Replayed") != "true" || again.Header().Get("X-Run") != "" {
		t.Errorf("replay headers %v", again.Header())
	}

	// Same key, different body: 422.
	p := problemOf(t, serve(srv, idemRequest("op", "key-1", `{"type":"change"}`)), 422)
	if p.Type != "/problems/idempotency-key-reused" {
		t.Fatalf("type %q", p.Type)
	}
	// Same key from another principal is another key.
	if rec := serve(srv, idemRequest("aud", "key-1", `{"type":"new"}`)); rec.Code != 201 || h.count() != 2 {
		t.Fatalf("another principal's key: %d, runs %d", rec.Code, h.count())
	}
	// Without a key every request runs.
	serve(srv, idemRequest("op", "", `{}`))
	serve(srv, idemRequest("op", "", `{}`))
	if h.count() != 4 {
		t.Fatalf("requests without a key ran %d times in all, want 4", h.count())
	}
	problemOf(t, serve(srv, idemRequest("op", "bad key with spaces", `{}`)), 400)
}

func TestIdempotencyConcurrentDuplicateWaitsForTheFirst(t *testing.T) {
	h := &idempotentOrders{delay: 200 * time.Millisecond}
	srv := idemChain(h)
	var wg sync.WaitGroup
	recs := make([]*httptest.ResponseRecorder, 5)
	for i := range recs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			recs[i] = serve(srv, idemRequest("op", "key-c", `{"n":1}`))
		}()
	}
	wg.Wait()
	if h.count() != 1 {
		t.Fatalf("handler ran %d times for 5 concurrent duplicates, want once", h.count())
	}
	for _, rec := range recs[1:] {
		if rec.Code != 201 || rec.Body.String() != recs[0].Body.String() {
			t.Fatalf("duplicate answered %d %s, want %d %s", rec.Code, rec.Body, recs[0].Code, recs[0].Body)
		}
	}
}

func TestIdempotencyStoresOnlyFinalAnswers(t *testing.T) {
	tests := []struct {
		status   int
		wantRuns int
	}{
		{http.StatusOK, 1},
		{http.StatusAccepted, 1},
		{http.StatusUnprocessableEntity, 1},
		{http.StatusNotFound, 1},
		{http.StatusConflict, 2},
		{http.StatusPreconditionFailed, 2},
		{http.StatusInternalServerError, 2},
		{http.StatusServiceUnavailable, 2},
	}
	for _, tc := range tests {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			h := &idempotentOrders{status: tc.status}
			srv := idemChain(h)
			serve(srv, idemRequest("op", "k", `{}`))
			serve(srv, idemRequest("op", "k", `{}`))
			if h.count() != tc.wantRuns {
				t.Fatalf("handler ran %d times, want %d", h.count(), tc.wantRuns)
			}
		})
	}
}

func TestIdempotencyReleasesTheKeyWhenTheHandlerPanics(t *testing.T) {
	runs := 0
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		runs++
		if runs == 1 {
			panic("boom")
		}
		httpx.WriteJSON(w, 201, map[string]int{"run": runs})
	})
	srv := httpx.Recover(slog.New(slog.DiscardHandler))(idemChain(h))
	problemOf(t, serve(srv, idemRequest("op", "k", `{}`)), 500)
	if rec := serve(srv, idemRequest("op", "k", `{}`)); rec.Code != 201 || runs != 2 {
		t.Fatalf("retry after a panic: %d, runs %d", rec.Code, runs)
	}
}

func TestRateLimit(t *testing.T) {
	now := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	limited := httpx.RateLimit(httpx.RateLimitConfig{PerSecond: 1, Burst: 2, Now: clock})(ok200)
	from := func(addr string) *http.Request {
		req := httptest.NewRequest("GET", "/api/v1/contracts", nil)
		req.RemoteAddr = addr
		return req
	}
	for i := range 2 {
		if rec := serve(limited, from("192.0.2.1:5000")); rec.Code != 200 {
			t.Fatalf("request %d within the burst: %d", i, rec.Code)
		}
	}
	rec := serve(limited, from("192.0.2.1:5001"))
	problemOf(t, rec, 429)
	if rec.Header().Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
	if rec := serve(limited, from("192.0.2.2:5000")); rec.Code != 200 {
		t.Fatalf("another client was limited: %d", rec.Code)
	}
	now = now.Add(time.Second)
	if rec := serve(limited, from("192.0.2.1:5000")); rec.Code != 200 {
		t.Fatalf("after a second the bucket has a token again: %d", rec.Code)
	}
}

func TestDefaultRateLimitAllowsAThousandRequestsAtOnce(t *testing.T) {
	limited := httpx.RateLimit(httpx.RateLimitConfig{})(ok200)
	for i := range 1000 {
		if rec := serve(limited, httptest.NewRequest("GET", "/", nil)); rec.Code != 200 {
			t.Fatalf("request %d refused with %d", i, rec.Code)
		}
	}
}

func TestRecoverAnswersAProblemAndLogsTheStack(t *testing.T) {
	panicky := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "/half-done")
		panic("secret internal state")
	})
	orders := []struct {
		name  string
		chain func(l *slog.Logger, m *httpx.Metrics) http.Handler
	}{
		{"observers outside Recover", func(l *slog.Logger, m *httpx.Metrics) http.Handler {
			return httpx.RequestID(httpx.AccessLog(l)(m.Middleware(httpx.Recover(l)(panicky))))
		}},
		{"observers inside Recover", func(l *slog.Logger, m *httpx.Metrics) http.Handler {
			return httpx.RequestID(httpx.Recover(l)(httpx.AccessLog(l)(m.Middleware(panicky))))
		}},
	}
	for _, tc := range orders {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			logger := slog.New(slog.NewJSONHandler(&logs, nil))
			reg := prometheus.NewRegistry()
			metrics, err := httpx.NewMetrics(reg)
			if err != nil {
				t.Fatal(err)
			}
			rec := serve(tc.chain(logger, metrics), httptest.NewRequest("POST", "/api/v1/orders", nil))
			p := problemOf(t, rec, 500)
			if strings.Contains(rec.Body.String(), "secret internal state") || rec.Header().Get("Location") != "" {
				t.Fatalf("the problem leaks the panic: %s %v", rec.Body, rec.Header())
			}
			if p.RequestID == "" || p.RequestID != rec.Header().Get(httpx.HeaderRequestID) {
				t.Fatalf("problem request ID %q, header %q", p.RequestID, rec.Header().Get(httpx.HeaderRequestID))
			}
			if !strings.Contains(logs.String(), "secret internal state") || !strings.Contains(logs.String(), "TestRecoverAnswersAProblemAndLogsTheStack") {
				t.Fatalf("the panic and its stack (down to the handler) are not logged: %s", logs.String())
			}
			if !strings.Contains(logs.String(), `"status":500`) {
				t.Fatalf("the access log does not show the 500: %s", logs.String())
			}
			want := `
# HELP yorozu_http_requests_total HTTP requests served, by route template, method and status code.
# TYPE yorozu_http_requests_total counter
yorozu_http_requests_total{method="POST",route="unmatched",status="500"} 1
`
			if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "yorozu_http_requests_total"); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestAccessLogAndMetricsUseTheRouteTemplate(t *testing.T) {
	var logs bytes.Buffer
	reg := prometheus.NewRegistry()
	metrics, err := httpx.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := httpx.NewMetrics(reg); err != nil {
		t.Fatalf("second registration with the same registry: %v", err)
	}
	r := mux.NewRouter()
	r.Use(httpx.RequestID, httpx.AccessLog(slog.New(slog.NewJSONHandler(&logs, nil))), metrics.Middleware)
	api := r.PathPrefix("/api/v1").Subrouter()
	api.Use(httpx.Authenticate(principals))
	api.Handle("/orders/{orderId}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpx.WriteError(w, r, httpx.NewProblem(404, "not-found", "Not Found", "no order "+mux.Vars(r)["orderId"]))
	})).Methods("GET")

	req := httptest.NewRequest("GET", "/api/v1/orders/abc-123", nil)
	req.Header.Set("Authorization", "Bearer op")
	req.Header.Set(httpx.HeaderRequestID, "client-id-1")
	rec := serve(r, req)
	if rec.Code != 404 || rec.Header().Get(httpx.HeaderRequestID) != "client-id-1" {
		t.Fatalf("status %d, request ID %q", rec.Code, rec.Header().Get(httpx.HeaderRequestID))
	}
	want := `
# HELP yorozu_http_requests_total HTTP requests served, by route template, method and status code.
# TYPE yorozu_http_requests_total counter
yorozu_http_requests_total{method="GET",route="/api/v1/orders/{orderId}",status="404"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "yorozu_http_requests_total"); err != nil {
		t.Fatal(err)
	}
	var line map[string]any
	if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
		t.Fatalf("access log %q: %v", logs.String(), err)
	}
	wantLog := map[string]any{"route": "/api/v1/orders/{orderId}", "status": 404.0, "principal": "sato", "requestId": "client-id-1", "error": "404 Not Found: no order abc-123"}
	for k, v := range wantLog {
		if line[k] != v {
			t.Errorf("access log %s = %v, want %v", k, line[k], v)
		}
	}
}

func TestAllowList(t *testing.T) {
	def := httpx.DefaultAllowList()
	proxy := []netip.Prefix{netip.MustParsePrefix("10.0.0.5/32")}
	var flags httpx.CIDRFlag
	for _, v := range []string{"192.0.2.0/24", "2001:db8::/32,198.51.100.7"} {
		if err := flags.Set(v); err != nil {
			t.Fatal(err)
		}
	}
	office := httpx.NewAllowList(flags.Prefixes...)
	tests := []struct {
		name   string
		list   httpx.AllowList
		remote string
		xff    string
		status int
	}{
		{"loopback v4", def, "127.0.0.1:40000", "", 200},
		{"loopback v6", def, "[::1]:40000", "", 200},
		{"v4-mapped loopback", def, "[::ffff:127.0.0.1]:40000", "", 200},
		{"another network", def, "203.0.113.9:40000", "", 403},
		{"forged X-Forwarded-For from an untrusted peer", def, "203.0.113.9:40000", "127.0.0.1", 403},
		{"office network", office, "192.0.2.44:1", "", 200},
		{"single address", office, "198.51.100.7:1", "", 200},
		{"v6 office network", office, "[2001:db8::1]:1", "", 200},
		{"behind the trusted proxy", office, "10.0.0.5:1", "203.0.113.1, 192.0.2.9", 200},
		{"behind the trusted proxy, outside", office, "10.0.0.5:1", "192.0.2.9, 203.0.113.1", 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", "/api/v1/auth/login", nil)
			req.RemoteAddr = tc.remote
			if tc.xff != "" {
				req.Header.Set("X-Forwarded-For", tc.xff)
			}
			rec := serve(tc.list.Middleware(proxy)(ok200), req)
			if tc.status == 200 {
				if rec.Code != 200 {
					t.Fatalf("refused: %s", rec.Body)
				}
				return
			}
			problemOf(t, rec, tc.status)
		})
	}
	if _, err := httpx.ParseAllowList([]string{"10.0.0.0/33"}); err == nil {
		t.Fatal("an invalid CIDR was accepted")
	}
	if l, err := httpx.ParseAllowList(nil); err != nil || l.String() != "127.0.0.0/8,::1/128" {
		t.Fatalf("empty allow-list = %q, %v; want loopback", l, err)
	}
}

func TestRequestIDIsGeneratedWhenMissingOrUnsafe(t *testing.T) {
	var seen string
	h := httpx.RequestID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = httpx.RequestIDFrom(r.Context())
	}))
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set(httpx.HeaderRequestID, "bad id\nwith newline")
	rec := serve(h, req)
	if len(seen) != 36 || rec.Header().Get(httpx.HeaderRequestID) != seen {
		t.Fatalf("request ID %q, header %q", seen, rec.Header().Get(httpx.HeaderRequestID))
	}
}
