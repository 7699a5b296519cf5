// Package api is the HTTP surface of docs/api.md: routes, authentication and role checks, and the
// translation between JSON and commands or read-model queries. It holds no business rule.
package api

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"yorozu/api/httpx"
	"yorozu/commands"
	"yorozu/domain/access"
	"yorozu/domain/event"
	"yorozu/projections"
	"yorozu/projections/staffdir"
)

// Deps are what the API talks to.
type Deps struct {
	// App is every use case; handlers call them directly.
	App commands.Application
	// Runner tells how far the read models are (read your writes, readiness).
	Runner *projections.Runner
	// Integrity reports an intact event of the log whose data does not decode: the service is
	// not ready while there is one (nil: none is checked).
	Integrity interface {
		Undecodable() *projections.IntegrityError
	}
	// Log answers the readiness probe and the integrity check.
	Log            event.Log
	Directory      *access.Directory
	Clock          func() time.Time
	AllowCIDRs     []string
	RateLimit      float64 // requests per second per client (0: the default, negative: none)
	RateBurst      int     // requests a client may send at once (0: the default)
	ReadYourWrites time.Duration
	Idempotency    httpx.IdempotencyStore
	// AgentContracts authenticates agents polling their web-filtering policy (nil: every poll
	// is 401).
	AgentContracts AgentAuthenticator
	Logger         *slog.Logger
	Metrics        *prometheus.Registry

	// Codec decodes events and removes their secrets before they leave (Redact).
	Codec *event.Registry
	// DirectoryProgress tells how far the staff directory has read the log: a request is
	// authenticated once it has read up to the log's head, so a revoked credential is refused
	// at once.
	DirectoryProgress DirectoryProgress
}

// DirectoryProgress is how far the staff directory has read the log (staffdir.Projection).
type DirectoryProgress interface {
	Applied() event.Position
	WaitFor(ctx context.Context, pos event.Position) error
}

// Server serves the API.
type Server struct {
	Deps
	allow httpx.AllowList
	// errs maps every error a handler meets to its problem: the one place that does.
	errs *httpx.ErrorMapper
}

// New builds the HTTP handler.
func New(d Deps) (http.Handler, error) {
	allow, err := httpx.ParseAllowList(d.AllowCIDRs)
	if err != nil {
		return nil, err
	}
	if d.Idempotency == nil {
		d.Idempotency = httpx.NewMemoryIdempotencyStore(d.Clock)
	}
	metrics, err := httpx.NewMetrics(d.Metrics)
	if err != nil {
		return nil, err
	}
	if err := registerProjectionMetrics(d.Metrics, d.Runner); err != nil {
		return nil, err
	}
	s := &Server{Deps: d, allow: allow, errs: newErrorMapper()}
	return s.routes(metrics), nil
}

// Route is one documented endpoint; the OpenAPI test checks the router against docs/openapi.yaml.
type route struct {
	method, path string
	perm         access.Permission // 0: no token needed
	command      bool              // honours Idempotency-Key
	handler      http.HandlerFunc
}

// table lists every route, area by area; each area's file owns its part.
func (s *Server) table() []route {
	var all []route
	for _, area := range [][]route{
		{
			{"GET", "/healthz", 0, false, s.healthz},
			{"GET", "/readyz", 0, false, s.readyz},
			{"POST", "/api/v1/auth/login", 0, false, s.login},
			{"POST", "/api/v1/auth/logout", access.PermOwnAccount, true, s.logout},
			{"POST", "/api/v1/auth/password", access.PermOwnAccount, false, s.changeOwnPassword},
			{"GET", "/api/v1/audit/events", access.PermReadAudit, false, s.auditEvents},
			{"GET", "/api/v1/audit/verify", access.PermReadAudit, false, s.auditVerify},
		},
		s.orderRoutes(),
		s.contractRoutes(),
		s.billingRoutes(),
		s.webFilteringRoutes(),
		s.diagnosisRoutes(),
		s.mailMagazineRoutes(),
		s.consultationRoutes(),
		s.failureRoutes(),
		s.insuranceRoutes(),
		s.accessRoutes(),
		s.terminalRoutes(),
		s.reportRoutes(),
	} {
		all = append(all, area...)
	}
	return all
}

func (s *Server) routes(metrics *httpx.Metrics) http.Handler {
	r := mux.NewRouter()
	chain := []mux.MiddlewareFunc{httpx.RequestID, httpx.Recover(s.Logger), httpx.AccessLog(s.Logger), metrics.Middleware,
		httpx.RateLimit(httpx.RateLimitConfig{PerSecond: s.RateLimit, Burst: s.RateBurst}), httpx.URLText}
	r.Use(chain...)
	// mux runs Use middlewares only on a matched route: the answers to unknown paths and methods
	// go through the same chain, so that they carry a request ID and are logged and counted.
	r.NotFoundHandler = wrap(httpx.NotFoundHandler(), chain)
	r.MethodNotAllowedHandler = wrap(httpx.MethodNotAllowedHandler(func(req *http.Request) []string {
		return allowedMethods(r, req)
	}), chain)
	r.Handle("/metrics", promhttp.HandlerFor(s.Metrics, promhttp.HandlerOpts{})).Methods("GET")

	authn := httpx.Authenticate(httpx.AuthenticatorFunc(func(token string) (access.Principal, error) {
		if err := s.directoryCaughtUp(); err != nil {
			return access.Principal{}, err
		}
		return s.Directory.Authenticate(token, s.Clock())
	}))
	staffNetworks := s.allow.StaffOnly(nil)
	idem := httpx.Idempotency(httpx.IdempotencyConfig{Store: s.Idempotency})
	for _, rt := range s.table() {
		var h http.Handler = rt.handler
		if rt.command {
			h = idem(h)
		}
		if rt.perm != 0 {
			h = authn(staffNetworks(httpx.RequirePermission(rt.perm)(h)))
		}
		if len(rt.path) > 7 && rt.path[:7] == "/api/v1" {
			h = noStore(httpx.BodyLimit(httpx.APIBodyLimit)(h))
		}
		r.Handle(rt.path, h).Methods(rt.method)
	}
	return r
}

// wrap puts h inside the middlewares, the first outermost.
func wrap(h http.Handler, chain []mux.MiddlewareFunc) http.Handler {
	for i := len(chain) - 1; i >= 0; i-- {
		h = chain[i](h)
	}
	return h
}

// allowedMethods lists the methods of the routes whose path matches req (the Allow header of a
// 405).
func allowedMethods(r *mux.Router, req *http.Request) []string {
	var methods []string
	_ = r.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		var m mux.RouteMatch
		if route.Match(req, &m) || errors.Is(m.MatchErr, mux.ErrMethodMismatch) {
			ms, _ := route.GetMethods()
			for _, method := range ms {
				if !slices.Contains(methods, method) {
					methods = append(methods, method)
				}
			}
		}
		return nil
	})
	slices.Sort(methods)
	return methods
}

// commandNamespace scopes client Idempotency-Keys into command IDs.
var commandNamespace = uuid.MustParse("5d2c8f3e-1a4b-4c6d-9e8f-0a1b2c3d4e5f")

// meta is the command metadata of a request: the command ID comes from the Idempotency-Key,
// scoped to the principal, method and path as the idempotency middleware scopes it (so the same
// key on two endpoints names two commands), or is new; the request ID is the correlation ID; the
// principal is the actor.
func meta(r *http.Request) commands.Meta {
	m := commands.Meta{CorrelationID: httpx.RequestIDFrom(r.Context())}
	if p, ok := httpx.PrincipalFrom(r.Context()); ok {
		m.Actor = p.ID
	}
	if key := r.Header.Get(httpx.HeaderIdempotencyKey); key != "" {
		m.CommandID = uuid.NewSHA1(commandNamespace, []byte(m.Actor+"|"+r.Method+"|"+r.URL.Path+"|"+key)).String()
	} else {
		m.CommandID = uuid.Must(uuid.NewV7()).String()
	}
	return m
}

// awaitRead waits until the read models reflect a command's outcome (read your writes) and
// returns the status to answer: ok, or 202 when the wait ran out.
func (s *Server) awaitRead(r *http.Request, out commands.Outcome, ok int) int {
	if out.Position == 0 {
		return ok
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.ReadYourWrites)
	defer cancel()
	if err := s.Runner.WaitFor(ctx, out.Position); err != nil {
		return http.StatusAccepted
	}
	return ok
}

// fail answers err as a problem. A refusal that knows when a retry may succeed (a full
// password-hashing queue, a locked staff ID) says so in Retry-After.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var later interface{ RetryAfter() time.Duration }
	switch {
	case errors.Is(err, commands.ErrBusy):
		w.Header().Set("Retry-After", "1")
	case errors.As(err, &later) && later.RetryAfter() > 0:
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(later.RetryAfter().Seconds()))))
	}
	s.errs.Write(w, r, err)
}

// noStore marks every answer of the API as not to be cached: most carry personal data (orders,
// contracts, history, as-of, the audit trail) or a credential (a session token, an API key, a
// TOTP secret).
func noStore(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// directoryCaughtUp waits, bounded by the read-your-writes wait, until the staff directory has
// read the log up to its head as the store reports it now: a logout, a disabled member, a
// changed password or a revoked key recorded before this request (by any replica, or through the
// admin socket) is folded before the request is authenticated. It costs one look at the log's
// head per authenticated request. A directory stopped on an event is not waited for (its failure
// shows in /readyz).
func (s *Server) directoryCaughtUp() error {
	if s.DirectoryProgress == nil || s.Runner == nil {
		return nil
	}
	for _, st := range s.Runner.Statuses() {
		if st.Name == staffdir.Name && st.Stalled != nil {
			return nil
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.ReadYourWrites)
	defer cancel()
	head, err := s.Log.Head(ctx)
	if err != nil {
		return err
	}
	if s.DirectoryProgress.Applied() >= head {
		return nil
	}
	// Through the runner, which also stops waiting when the directory stops on an event.
	return s.Runner.WaitFor(ctx, head, staffdir.Name)
}

// writeCommandResult answers a command: body with the status send chose, and the position the
// read models must reach (what a client polls for after a 202).
func writeCommandResult(w http.ResponseWriter, out commands.Outcome, status int, body any) {
	setPosition(w, out)
	httpx.WriteJSON(w, status, body)
}

// setPosition sends the global position of the command's last event as X-Event-Position.
func setPosition(w http.ResponseWriter, out commands.Outcome) {
	if out.Position > 0 {
		w.Header().Set("X-Event-Position", strconv.FormatUint(uint64(out.Position), 10))
	}
}

func (s *Server) clientAllowed(r *http.Request) bool {
	addr := httpx.ClientIP(r, nil)
	return addr.IsValid() && s.allow.Allows(addr)
}
