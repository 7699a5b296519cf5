package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/gorilla/mux"

	"yorozu/cmd/yorozu/app"
	"yorozu/cmd/yorozu/app/apptest"
)

// openAPIPath is the document SPEC 12 asks for, checked here against the router.
const openAPIPath = "../docs/openapi.yaml"

// bearerScheme is the security scheme every /api/v1 operation but login must declare.
const bearerScheme = "bearerAuth"

// publicPaths need no token (SPEC 10, 12): the probes, the metrics and the login itself.
var publicPaths = map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true, "/api/v1/auth/login": true}

// opKey names an operation by method and path template with its variables reduced to their
// position, so "/orders/{orderId}" and "/orders/{id:[0-9a-f-]+}" are the same operation.
type opKey struct{ method, path string }

func (k opKey) String() string { return k.method + " " + k.path }

// normalizeTemplate replaces every {variable} (with or without a mux pattern, which may hold
// braces of its own) by {}.
func normalizeTemplate(tpl string) string {
	var b strings.Builder
	depth := 0
	for _, r := range tpl {
		switch {
		case r == '{':
			if depth == 0 {
				b.WriteString("{}")
			}
			depth++
		case r == '}' && depth > 0:
			depth--
		case depth == 0:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// routedOp is one method of one route of the real router.
type routedOp struct {
	template string // as registered, e.g. /api/v1/orders/{orderId}
	route    *mux.Route
}

// documentedOp is one operation of the document.
type documentedOp struct {
	path string // as documented
	op   *openapi3.Operation
}

func loadOpenAPI(t *testing.T) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(openAPIPath)
	if err != nil {
		t.Fatalf("load %s: %v", openAPIPath, err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("%s is not a valid OpenAPI document: %v", openAPIPath, err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("%s: openapi %q, want 3.x", openAPIPath, doc.OpenAPI)
	}
	return doc
}

func documentedOperations(doc *openapi3.T) map[opKey]documentedOp {
	ops := map[opKey]documentedOp{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			ops[opKey{strings.ToUpper(method), normalizeTemplate(path)}] = documentedOp{path: path, op: op}
		}
	}
	return ops
}

// routedOperations walks the service's router. Every route must have a path template and
// methods: a route without methods would answer any method, which the document cannot say.
func routedOperations(t *testing.T, router *mux.Router) map[opKey]routedOp {
	t.Helper()
	ops := map[opKey]routedOp{}
	var problems []string
	err := router.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tpl, err := route.GetPathTemplate()
		if err != nil {
			problems = append(problems, fmt.Sprintf("a route without a path template (%v)", err))
			return nil
		}
		methods, err := route.GetMethods()
		if err != nil || len(methods) == 0 {
			problems = append(problems, fmt.Sprintf("%s is routed for every method; route it with .Methods(...)", tpl))
			return nil
		}
		for _, m := range methods {
			k := opKey{strings.ToUpper(m), normalizeTemplate(tpl)}
			if prev, dup := ops[k]; dup {
				problems = append(problems, fmt.Sprintf("%s is routed twice (%s and %s)", k, prev.template, tpl))
			}
			ops[k] = routedOp{template: tpl, route: route}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk the router: %v", err)
	}
	if len(problems) > 0 {
		t.Errorf("router:\n  %s", strings.Join(problems, "\n  "))
	}
	return ops
}

// serviceRouter is the router api.New builds, as the service runs it.
func serviceRouter(t *testing.T, env *apptest.Env) *mux.Router {
	t.Helper()
	r, ok := env.App.Handler.(*mux.Router)
	if !ok {
		t.Fatalf("app.Handler is a %T, not the *mux.Router of api.New: the OpenAPI test cannot walk its routes", env.App.Handler)
	}
	return r
}

func sortedKeys[V any](m map[opKey]V) []opKey {
	keys := make([]opKey, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].path != keys[j].path {
			return keys[i].path < keys[j].path
		}
		return keys[i].method < keys[j].method
	})
	return keys
}

// effectiveSecurity is the operation's security, else the document's.
func effectiveSecurity(doc *openapi3.T, op *openapi3.Operation) openapi3.SecurityRequirements {
	if op.Security != nil {
		return *op.Security
	}
	return doc.Security
}

// requiresBearer reports whether every alternative of the operation's security needs a bearer
// token.
func requiresBearer(doc *openapi3.T, op *openapi3.Operation) bool {
	reqs := effectiveSecurity(doc, op)
	if len(reqs) == 0 {
		return false
	}
	for _, req := range reqs {
		if _, ok := req[bearerScheme]; !ok {
			return false // some alternative lets a caller in without a bearer token
		}
	}
	return true
}

func documentsHeader(op *openapi3.Operation, pathParams openapi3.Parameters, name string) bool {
	for _, params := range []openapi3.Parameters{op.Parameters, pathParams} {
		for _, p := range params {
			if p.Value != nil && p.Value.In == openapi3.ParameterInHeader && strings.EqualFold(p.Value.Name, name) {
				return true
			}
		}
	}
	return false
}

// concretePath fills a route's variables with values its patterns accept: the first candidate
// for which the router matches the request to this very route.
func concretePath(router *mux.Router, method string, ro routedOp) (string, bool) {
	candidates := []string{"0199a0e4-1f6b-7c2e-9d34-6c1b0a7e8f21", "N999999999", "2025-07", "section", "1", "x"}
	vars := strings.Count(normalizeTemplate(ro.template), "{}")
	// Try every combination of candidates (routes have at most a few variables).
	choice := make([]int, vars)
	for {
		var b strings.Builder
		i := 0
		for _, r := range normalizeTemplate(ro.template) {
			if r == '{' {
				b.WriteString(candidates[choice[i]])
				i++
				continue
			}
			if r != '}' {
				b.WriteRune(r)
			}
		}
		path := b.String()
		req := httptest.NewRequest(method, path, nil)
		var m mux.RouteMatch
		if router.Match(req, &m) && m.Route == ro.route {
			return path, true
		}
		// next combination
		j := 0
		for ; j < vars; j++ {
			choice[j]++
			if choice[j] < len(candidates) {
				break
			}
			choice[j] = 0
		}
		if j == vars {
			return "", false
		}
	}
}

// problemType reads the type of a problem+json body ("" if it is not one).
func problemType(body []byte) string {
	var p struct{ Type string }
	if json.Unmarshal(body, &p) != nil {
		return ""
	}
	return p.Type
}

// TestOpenAPIDocumentMatchesRouter checks docs/openapi.yaml against the router the service
// runs (SPEC 12): the same operations on both sides, bearer security on every /api/v1
// operation but login and on no public one, and Idempotency-Key on exactly the operations that
// honour it. What the router does is observed by calling it: without a token (401 or not), and
// with an operator token and a malformed Idempotency-Key (the idempotency middleware refuses it
// before the handler runs, so only command endpoints answer 400 invalid-idempotency-key).
func TestOpenAPIDocumentMatchesRouter(t *testing.T) {
	doc := loadOpenAPI(t)
	documented := documentedOperations(doc)

	env := apptest.Start(t, apptest.Embedded, apptest.Options{})
	router := serviceRouter(t, env)
	routed := routedOperations(t, router)

	t.Run("every routed operation is documented", func(t *testing.T) {
		var missing []string
		for _, k := range sortedKeys(routed) {
			if _, ok := documented[k]; !ok {
				missing = append(missing, fmt.Sprintf("%s %s", k.method, routed[k].template))
			}
		}
		if len(missing) > 0 {
			t.Errorf("%d routed operation(s) missing from %s:\n  %s", len(missing), openAPIPath, strings.Join(missing, "\n  "))
		}
	})

	t.Run("every documented operation is routed", func(t *testing.T) {
		var missing []string
		for _, k := range sortedKeys(documented) {
			if _, ok := routed[k]; !ok {
				missing = append(missing, fmt.Sprintf("%s %s", k.method, documented[k].path))
			}
		}
		if len(missing) > 0 {
			t.Errorf("%d documented operation(s) the router does not serve:\n  %s", len(missing), strings.Join(missing, "\n  "))
		}
	})

	t.Run("operations are described", func(t *testing.T) {
		var bad []string
		for _, k := range sortedKeys(documented) {
			d := documented[k]
			if strings.TrimSpace(d.op.Summary) == "" {
				bad = append(bad, fmt.Sprintf("%s %s: no summary", k.method, d.path))
			}
			if d.op.OperationID == "" {
				bad = append(bad, fmt.Sprintf("%s %s: no operationId", k.method, d.path))
			}
			if d.op.Responses == nil || d.op.Responses.Len() == 0 {
				bad = append(bad, fmt.Sprintf("%s %s: no responses", k.method, d.path))
			}
		}
		if len(bad) > 0 {
			t.Errorf("%s:\n  %s", openAPIPath, strings.Join(bad, "\n  "))
		}
	})

	t.Run("security is declared as routed", func(t *testing.T) {
		if s, ok := doc.Components.SecuritySchemes[bearerScheme]; !ok || s.Value == nil ||
			s.Value.Type != "http" || !strings.EqualFold(s.Value.Scheme, "bearer") {
			t.Fatalf("%s: components.securitySchemes.%s must be an http bearer scheme", openAPIPath, bearerScheme)
		}
		var bad []string
		for _, k := range sortedKeys(documented) {
			d := documented[k]
			public := publicPaths[d.path]
			switch bearer := requiresBearer(doc, d.op); {
			case strings.HasPrefix(d.path, "/api/v1/") && !public && !bearer:
				bad = append(bad, fmt.Sprintf("%s %s: does not declare security %s", k.method, d.path, bearerScheme))
			case public && len(effectiveSecurity(doc, d.op)) > 0:
				bad = append(bad, fmt.Sprintf("%s %s: needs no token but declares security (want security: [])", k.method, d.path))
			}
		}
		// What the router does: without a token, a secured operation answers 401, a public one
		// does not.
		for _, k := range sortedKeys(routed) {
			d, ok := documented[k]
			if !ok {
				continue // reported above
			}
			path, ok := concretePath(router, k.method, routed[k])
			if !ok {
				bad = append(bad, fmt.Sprintf("%s %s: cannot build a request path this route matches", k.method, routed[k].template))
				continue
			}
			r := env.Do(k.method, path, "", nil)
			secured := requiresBearer(doc, d.op)
			switch {
			case r.Status == http.StatusUnauthorized && !secured:
				bad = append(bad, fmt.Sprintf("%s %s: the router requires a token (401) but the document declares no bearer security", k.method, d.path))
			case r.Status != http.StatusUnauthorized && secured:
				bad = append(bad, fmt.Sprintf("%s %s: the document declares bearer security but the router answers %d without a token", k.method, d.path, r.Status))
			}
			if secured && d.op.Responses.Status(http.StatusUnauthorized) == nil {
				bad = append(bad, fmt.Sprintf("%s %s: needs a token but documents no 401 response", k.method, d.path))
			}
			if secured && d.op.Responses.Status(http.StatusForbidden) == nil {
				bad = append(bad, fmt.Sprintf("%s %s: needs a role but documents no 403 response", k.method, d.path))
			}
		}
		if len(bad) > 0 {
			t.Errorf("security:\n  %s", strings.Join(bad, "\n  "))
		}
	})

	t.Run("command operations document Idempotency-Key", func(t *testing.T) {
		token := env.StaffToken("openapi", "operator")
		var bad []string
		for _, k := range sortedKeys(routed) {
			d, ok := documented[k]
			if !ok {
				continue // reported above
			}
			path, ok := concretePath(router, k.method, routed[k])
			if !ok {
				bad = append(bad, fmt.Sprintf("%s %s: cannot build a request path this route matches", k.method, routed[k].template))
				continue
			}
			// A key with a space is malformed: the idempotency middleware answers 400 before
			// the handler runs; a route without it ignores the header.
			r := env.Do(k.method, path, token, nil, "Idempotency-Key", "not a valid key")
			command := r.Status == http.StatusBadRequest && problemType(r.Body) == "/problems/invalid-idempotency-key"
			var pathParams openapi3.Parameters
			if item := doc.Paths.Value(d.path); item != nil {
				pathParams = item.Parameters
			}
			documentsKey := documentsHeader(d.op, pathParams, "Idempotency-Key")
			switch {
			case command && !documentsKey:
				bad = append(bad, fmt.Sprintf("%s %s: a command endpoint (honours Idempotency-Key) that does not document the Idempotency-Key header", k.method, d.path))
			case !command && documentsKey:
				bad = append(bad, fmt.Sprintf("%s %s: documents Idempotency-Key but the router does not honour it (answered %d)", k.method, d.path, r.Status))
			}
			if command && d.op.Responses.Status(http.StatusBadRequest) == nil {
				bad = append(bad, fmt.Sprintf("%s %s: a command endpoint that documents no 400 response (invalid Idempotency-Key)", k.method, d.path))
			}
		}
		if len(bad) > 0 {
			t.Errorf("idempotency:\n  %s", strings.Join(bad, "\n  "))
		}
	})
}

// TestOpenAPINormalizeTemplate pins the comparison of path templates by position.
func TestOpenAPINormalizeTemplate(t *testing.T) {
	for in, want := range map[string]string{
		"/api/v1/orders":                                      "/api/v1/orders",
		"/api/v1/orders/{orderId}/accept":                     "/api/v1/orders/{}/accept",
		"/api/v1/billing/invoices/{cn}/{m:[0-9]{4}-[0-9]{2}}": "/api/v1/billing/invoices/{}/{}",
		"/api/v1/reports/{customerNumber}/{month}.html":       "/api/v1/reports/{}/{}.html",
	} {
		if got := normalizeTemplate(in); got != want {
			t.Errorf("normalizeTemplate(%q) = %q, want %q", in, got, want)
		}
	}
}

// strictObjects makes every object schema with properties and no additionalProperties of its
// own refuse undeclared properties, so that validating a response also checks that the handler
// sends no field the document does not name.
func strictObjects(doc *openapi3.T) {
	seen := map[*openapi3.Schema]bool{}
	var walk func(ref *openapi3.SchemaRef)
	walk = func(ref *openapi3.SchemaRef) {
		if ref == nil || ref.Value == nil || seen[ref.Value] {
			return
		}
		s := ref.Value
		seen[s] = true
		if len(s.Properties) > 0 && s.AdditionalProperties.Has == nil && s.AdditionalProperties.Schema == nil {
			no := false
			s.AdditionalProperties.Has = &no
		}
		for _, p := range s.Properties {
			walk(p)
		}
		walk(s.Items)
		for _, list := range []openapi3.SchemaRefs{s.AllOf, s.OneOf, s.AnyOf} {
			for _, sub := range list {
				walk(sub)
			}
		}
	}
	content := func(c openapi3.Content) {
		for _, mt := range c {
			walk(mt.Schema)
		}
	}
	for _, s := range doc.Components.Schemas {
		walk(s)
	}
	for _, r := range doc.Components.Responses {
		if r.Value != nil {
			content(r.Value.Content)
		}
	}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				content(op.RequestBody.Value.Content)
			}
			for _, r := range op.Responses.Map() {
				if r.Value != nil {
					content(r.Value.Content)
				}
			}
		}
	}
}

// conformance sends requests to the service's handler and checks each exchange against the
// document: the response (status documented, headers and body as its schema says, no
// undocumented field) always, the request too when it is meant to succeed.
type conformance struct {
	t         *testing.T
	env       *apptest.Env
	router    routers.Router
	exercised map[string]bool // operationId
}

type exchange struct {
	Status int
	Header http.Header
	Body   []byte
}

func (x exchange) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(x.Body, v); err != nil {
		t.Fatalf("response %d is not JSON: %v: %s", x.Status, err, x.Body)
	}
}

// call sends method path with an optional bearer token, body (a string is sent as is, anything
// else as JSON) and header pairs, and fails unless the answer has status want.
func (c *conformance) call(method, path, token string, body any, want int, headers ...string) exchange {
	c.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			c.t.Fatal(err)
		}
	}
	newReq := func() *http.Request {
		var rd io.Reader
		if raw != nil {
			rd = bytes.NewReader(raw)
		}
		req := httptest.NewRequest(method, "http://127.0.0.1:8080"+path, rd)
		req.RemoteAddr = "127.0.0.1:40000" // inside the default login allow-list
		if raw != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		return req
	}

	rec := httptest.NewRecorder()
	c.env.App.Handler.ServeHTTP(rec, newReq())
	x := exchange{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
	// A command may answer 202 when the read models lag on a loaded machine (read your writes).
	lagged := x.Status == http.StatusAccepted && (want == http.StatusOK || want == http.StatusCreated)
	if x.Status != want && !lagged {
		c.t.Fatalf("%s %s: status %d, want %d: %s", method, path, x.Status, want, x.Body)
	}

	req := newReq()
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		c.t.Errorf("%s %s: no documented operation: %v", method, path, err)
		return x
	}
	c.exercised[route.Operation.OperationID] = true
	opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, IncludeResponseStatus: true, MultiError: true}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
	ctx := c.t.Context()
	if want < 300 {
		if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
			c.t.Errorf("%s %s: the request does not conform to the document: %v", method, path, err)
		}
	}
	err = openapi3filter.ValidateResponse(ctx, &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: x.Status, Header: x.Header,
		Body: io.NopCloser(bytes.NewReader(x.Body)), Options: opts,
	})
	if err != nil {
		c.t.Errorf("%s %s → %d: the response does not conform to the document: %v\nbody: %s", method, path, x.Status, err, x.Body)
	}
	return x
}

// TestOpenAPIResponsesConform drives an order through its lifecycle, reads contracts, the audit
// trail and billing, and provokes the common errors, checking every exchange against
// docs/openapi.yaml.
func TestOpenAPIResponsesConform(t *testing.T) {
	doc := loadOpenAPI(t)
	doc.Servers = nil // match any host
	strictObjects(doc)
	docRouter, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatalf("route the document: %v", err)
	}
	env := apptest.Start(t, apptest.Embedded, apptest.Options{
		Now: at("2025-07-01 10:00"),
		Configure: func(c *app.Config) {
			c.Issuer, c.RegistrationNumber = "株式会社YOROZU", "T1234567890123"
		},
	})
	c := &conformance{t: t, env: env, router: docRouter, exercised: map[string]bool{}}

	// Probes and login.
	c.call("GET", "/healthz", "", nil, 200)
	c.call("GET", "/readyz", "", nil, 200)
	c.call("GET", "/metrics", "", nil, 200)
	staff := env.AddStaff("conform", "operator")
	env.Clock.Advance(30 * time.Second)
	var login struct{ Token string }
	c.call("POST", "/api/v1/auth/login", "", map[string]string{"staffId": staff.ID, "password": staff.Password, "otp": env.Code(staff, 0)}, 200).json(t, &login)
	op := login.Token
	c.call("POST", "/api/v1/auth/login", "", map[string]string{"staffId": staff.ID}, 422)
	c.call("POST", "/api/v1/auth/login", "", `{"staffId":`, 400)
	c.call("POST", "/api/v1/auth/login", "", "<staffId>x</staffId>", 415, "Content-Type", "application/xml")
	auditor := env.StaffToken("conform-auditor", "auditor")
	billingKey := env.APIKey("conform-billing", "billing")

	// Prices.
	prices := map[string]any{"effectiveFrom": "2025-04", "baseMenu": 3000, "healthCheckIdAddition": 200, "webFiltering": 100, "securityTicket": 5000, "taxRate": "0.10"}
	c.call("POST", "/api/v1/billing/price-lists", op, prices, 201, "Idempotency-Key", "prices-1")
	if r := c.call("POST", "/api/v1/billing/price-lists", op, prices, 201, "Idempotency-Key", "prices-1"); r.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("the retried publication was not replayed: %v", r.Header)
	}
	c.call("POST", "/api/v1/billing/price-lists", op, map[string]any{"baseMenu": -1}, 422)
	c.call("GET", "/api/v1/billing/price-lists", billingKey, nil, 200)

	// A new order through its lifecycle.
	newForm := form(t, "new", map[string]any{"appliedOn": "2025/7/1", "desiredDate": "2025/7/1"})
	var created struct{ OrderID string }
	c.call("POST", "/api/v1/orders", op, newForm, 201, "Idempotency-Key", "new-1").json(t, &created)
	id := created.OrderID
	c.call("POST", "/api/v1/orders", op, map[string]any{"type": "new", "contractor": map[string]any{"nameKana": "abc"}}, 422)
	c.call("POST", "/api/v1/orders", op, map[string]any{"type": "new", "customerRemarks": "\u0000"}, 422)
	c.call("POST", "/api/v1/orders", op, `{"type":"new","type":"cancel"}`, 400)
	c.call("POST", "/api/v1/orders", op, `[]`, 400)
	c.call("POST", "/api/v1/orders", op, `<form/>`, 415, "Content-Type", "application/xml")
	c.call("PUT", "/api/v1/orders/"+id, op, `{}`, 415, "Content-Type", "text/plain")
	c.call("POST", "/api/v1/orders/"+id+"/accept", op, map[string]string{"acceptedAt": "9999-12-28T16:00:00+09:00"}, 422)
	c.call("POST", "/api/v1/billing/price-lists", op, `{"effectiveFrom":"2025-04","effectiveFrom":"2025-05"}`, 400)
	c.call("GET", "/api/v1/orders?limit=1000000", op, nil, 200)
	c.call("GET", "/api/v1/orders?customerNumber=%00", op, nil, 422)
	c.call("GET", "/api/v1/orders/"+id+"?x=%00", op, nil, 422)
	c.call("GET", "/api/v1/orders", "", nil, 401)
	c.call("GET", "/api/v1/orders?status=received&type=new&sort=scheduledDate&limit=5", auditor, nil, 200)
	c.call("GET", "/api/v1/orders?status=bogus", op, nil, 422)
	c.call("GET", "/api/v1/orders/"+id, op, nil, 200)
	c.call("GET", "/api/v1/orders/0199a0e4-1f6b-7c2e-9d34-6c1b0a7e8f21", op, nil, 404)
	amended := form(t, "new", map[string]any{"appliedOn": "2025/7/1", "desiredDate": "2025/7/1", "customerRemarks": "至急"})
	c.call("PUT", "/api/v1/orders/"+id, op, amended, 200, "If-Match", `"1"`)
	c.call("PUT", "/api/v1/orders/"+id, op, amended, 412, "If-Match", `"1"`)
	c.call("POST", "/api/v1/orders/"+id+"/withdraw", auditor, nil, 403)
	env.Clock.Set(at("2025-07-01 16:00"))
	c.call("POST", "/api/v1/orders/"+id+"/accept", op, map[string]string{"acceptedAt": "2025-07-01T16:00:00+09:00"}, 200, "If-Match", `"2"`)
	c.call("POST", "/api/v1/orders/"+id+"/accept", op, map[string]string{"acceptedAt": "2025-07-01T16:00:00+09:00"}, 409)
	c.call("POST", "/api/v1/orders/"+id+"/complete", op, nil, 409)
	c.call("POST", "/api/v1/orders/"+id+"/notice", op, nil, 200, "Idempotency-Key", "notice-1")
	c.call("POST", "/api/v1/orders/"+id+"/notice", op, nil, 400, "Idempotency-Key", "not a valid key")
	env.Clock.Set(at("2025-07-14 08:00"))
	var done struct{ CustomerNumber string }
	c.call("POST", "/api/v1/orders/"+id+"/complete", op, nil, 200).json(t, &done)
	cn := done.CustomerNumber

	// Contracts, replay and audit.
	c.call("GET", "/api/v1/contracts?status=active&q=大和&limit=10", op, nil, 200)
	c.call("GET", "/api/v1/contracts/"+cn, op, nil, 200)
	c.call("GET", "/api/v1/contracts/N999999999", op, nil, 404)
	c.call("GET", "/api/v1/contracts/"+cn+"/history", auditor, nil, 200)
	c.call("GET", "/api/v1/contracts/"+cn+"/as-of?effectiveAt=2025-07-20&knownAt=2025-07-20T00:00:00Z", auditor, nil, 200)
	c.call("GET", "/api/v1/contracts/"+cn+"/as-of?effectiveAt=someday", auditor, nil, 422)
	c.call("GET", "/api/v1/contracts/"+cn+"/history", billingKey, nil, 403)

	env.Clock.Set(at("2025-07-22 10:00"))
	cancel := form(t, "cancel", map[string]any{"appliedOn": "2025/7/22", "desiredDate": "2025/8/31", "customerNumber": cn})
	var cancelled struct{ OrderID string }
	c.call("POST", "/api/v1/orders", op, cancel, 201).json(t, &cancelled)
	c.call("POST", "/api/v1/orders", op, cancel, 409)
	c.call("POST", "/api/v1/orders/"+cancelled.OrderID+"/withdraw", op, nil, 200, "If-Match", `"1"`)
	c.call("POST", "/api/v1/orders", op, strings.Repeat(" ", 1<<20+1), 413)

	var page struct{ Next *string }
	c.call("GET", "/api/v1/audit/events?customerNumber="+cn+"&limit=2", auditor, nil, 200).json(t, &page)
	if page.Next == nil {
		t.Fatal("the audit trail has one page of 2 events")
	}
	c.call("GET", "/api/v1/audit/events?customerNumber="+cn+"&limit=2&after="+*page.Next, auditor, nil, 200)
	c.call("GET", "/api/v1/audit/events?from=2025-07-01&to=2025-08-01&after="+*page.Next, auditor, nil, 400)
	c.call("GET", "/api/v1/audit/events?limit=0", auditor, nil, 422)
	c.call("GET", "/api/v1/audit/verify", auditor, nil, 200)

	// Billing: August is the first month charged; close it in September.
	env.Clock.Set(at("2025-09-02 10:00"))
	c.call("GET", "/api/v1/billing/invoices?month=2025-08", billingKey, nil, 200)
	c.call("GET", "/api/v1/billing/invoices?month=August", billingKey, nil, 422)
	c.call("GET", "/api/v1/billing/invoices/"+cn+"/2025-08", billingKey, nil, 200)
	c.call("GET", "/api/v1/billing/invoices/"+cn+"/2025-06", billingKey, nil, 404)
	c.call("GET", "/api/v1/billing/invoices.csv?month=2025-08", billingKey, nil, 200)
	c.call("GET", "/api/v1/billing/invoices.csv?month=2025-08&encoding=sjis", billingKey, nil, 200)
	c.call("POST", "/api/v1/billing/months/2025-08/close", billingKey, nil, 403)
	c.call("POST", "/api/v1/billing/months/2025-12/close", op, nil, 409)
	c.call("POST", "/api/v1/billing/months/9999-12/close", op, nil, 422)
	c.call("POST", "/api/v1/billing/months/2025-08%00/close", op, nil, 404)
	c.call("POST", "/api/v1/billing/months/2025-08/close", op, nil, 200, "Idempotency-Key", "close-2025-08")
	c.call("POST", "/api/v1/billing/months/2025-08/close", op, nil, 200)
	c.call("GET", "/api/v1/billing/invoices/"+cn+"/2025-08", billingKey, nil, 200)
	c.call("GET", "/api/v1/billing/feed?limit=10", billingKey, nil, 200)

	// Staff accounts, API keys and one's own session.
	c.call("GET", "/api/v1/staff?limit=1", op, nil, 200)
	c.call("GET", "/api/v1/staff/conform-auditor", op, nil, 200)
	c.call("GET", "/api/v1/staff/nobody", op, nil, 404)
	c.call("GET", "/api/v1/staff", auditor, nil, 403)
	c.call("POST", "/api/v1/staff/conform-auditor/disable", op, nil, 200, "Idempotency-Key", "disable-1")
	c.call("POST", "/api/v1/staff/conform-auditor/enable", op, nil, 200)
	c.call("POST", "/api/v1/staff/nobody/unlock", op, nil, 404)
	c.call("POST", "/api/v1/staff/conform-auditor/reset-totp", op, nil, 200)
	c.call("PUT", "/api/v1/staff/conform-auditor/password", op, map[string]string{"password": "another password"}, 200)
	c.call("PUT", "/api/v1/staff/conform-auditor/password", op, map[string]string{"password": ""}, 422)
	c.call("GET", "/api/v1/api-keys?limit=10", op, nil, 200)
	c.call("POST", "/api/v1/api-keys", op, map[string]string{"name": "conform-new", "role": "billing"}, 201)
	c.call("POST", "/api/v1/api-keys", op, map[string]string{"name": "conform-new", "role": "billing"}, 409)
	c.call("POST", "/api/v1/api-keys", op, map[string]string{"name": "", "role": ""}, 422)
	c.call("POST", "/api/v1/api-keys/conform-new/revoke", op, nil, 200, "Idempotency-Key", "revoke-1")
	c.call("POST", "/api/v1/api-keys/nope/revoke", op, nil, 404)
	locked := env.AddStaff("conform-locked", "auditor")
	for range 5 {
		c.call("POST", "/api/v1/auth/login", "", map[string]string{"staffId": locked.ID, "password": "wrong password", "otp": "123456"}, 401)
	}
	c.call("POST", "/api/v1/staff/conform-locked/unlock", op, nil, 200)
	own := env.Login(locked)
	c.call("POST", "/api/v1/auth/password", own, map[string]string{"currentPassword": "wrong", "newPassword": "a new password"}, 403)
	c.call("POST", "/api/v1/auth/password", own, map[string]string{"currentPassword": locked.Password, "newPassword": "a new password"}, 200)
	c.call("POST", "/api/v1/auth/logout", billingKey, nil, 403)
	c.call("POST", "/api/v1/auth/logout", op, nil, 200)
	c.call("POST", "/api/v1/auth/logout", op, nil, 401)

	var missed []string
	for _, k := range sortedKeys(documentedOperations(doc)) {
		if id := documentedOperations(doc)[k].op.OperationID; !c.exercised[id] {
			missed = append(missed, k.String())
		}
	}
	if len(missed) > 0 {
		t.Logf("operations this test does not exercise yet (add them here):\n  %s", strings.Join(missed, "\n  "))
	}
}
