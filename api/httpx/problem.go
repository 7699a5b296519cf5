// Package httpx is the HTTP plumbing every handler of the API shares: problem+json errors
// (RFC 9457) mapped from Go errors in one place, strict JSON bodies, and the middleware chain
// (request IDs, access log, metrics, panic recovery, rate limit, body limit, network allow-list,
// bearer authentication, permissions and Idempotency-Key). It holds no business rules.
//
// A typical chain, outermost first (gorilla/mux runs Use middlewares after a route matched,
// so metrics and logs see the route template):
//
//	r.Use(httpx.RequestID, httpx.AccessLog(logger), metrics.Middleware, httpx.Recover(logger),
//		httpx.RateLimit(httpx.RateLimitConfig{}))
//	api.Use(httpx.BodyLimit(httpx.APIBodyLimit), httpx.Authenticate(auth))
//	api.Handle("/orders", httpx.RequirePermission(access.PermCommand)(idem(submitOrder))).Methods("POST")
package httpx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"

	"yorozu/domain/access"
)

// ContentTypeProblem is the media type of every error body.
const ContentTypeProblem = "application/problem+json"

// problemTypePrefix makes a problem type URI from a slug. The URI is relative (RFC 9457 3.1.1
// allows a URI reference): "/problems/body-too-large". It identifies the kind of problem; clients
// compare it and need not dereference it.
const problemTypePrefix = "/problems/"

// ProblemType returns the type URI of a problem slug.
func ProblemType(slug string) string {
	if slug == "" {
		return "about:blank"
	}
	return problemTypePrefix + slug
}

// Problem is an RFC 9457 problem details object. Detail is always sent (the title when nothing
// more specific is known); RequestID is an extension member that ties the answer to the logs.
//
// A *Problem is also an error, so a handler can return one to WriteError as it is.
type Problem struct {
	Type      string       `json:"type"`
	Title     string       `json:"title"`
	Status    int          `json:"status"`
	Detail    string       `json:"detail"`
	Instance  string       `json:"instance,omitempty"`
	Errors    []FieldError `json:"errors,omitempty"`
	RequestID string       `json:"requestId,omitempty"`
	// Extensions are further members of the problem (RFC 9457 3.2), such as the code of a
	// business rule or the date from which a request may be repeated. They never replace a
	// member above.
	Extensions map[string]any `json:"-"`
}

// MarshalJSON writes the standard members, then the extensions.
func (p Problem) MarshalJSON() ([]byte, error) {
	type plain Problem
	body, err := json.Marshal(plain(p))
	if err != nil || len(p.Extensions) == 0 {
		return body, err
	}
	var std map[string]json.RawMessage
	if err := json.Unmarshal(body, &std); err != nil {
		return nil, err
	}
	ext := map[string]any{}
	for k, v := range p.Extensions {
		if _, taken := std[k]; !taken {
			ext[k] = v
		}
	}
	more, err := json.Marshal(ext)
	if err != nil || len(ext) == 0 {
		return body, err
	}
	return append(append(body[:len(body)-1], ','), more[1:]...), nil
}

func (p *Problem) Error() string {
	if p.Detail != "" && p.Detail != p.Title {
		return fmt.Sprintf("%d %s: %s", p.Status, p.Title, p.Detail)
	}
	return fmt.Sprintf("%d %s", p.Status, p.Title)
}

// FieldError is one invalid field of a request. Field is a JSON path such as
// "contractor.nameKana" or "lines[2].amount"; Code is a stable machine word ("required",
// "format", "unknown", "type", ...).
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// NewProblem builds a problem of a status with a type slug and a title.
func NewProblem(status int, typeSlug, title, detail string) *Problem {
	return &Problem{Type: ProblemType(typeSlug), Title: title, Status: status, Detail: detail}
}

// WriteProblem sends p as application/problem+json. It fills in what p leaves empty: the type
// (about:blank), the title (the status text), the detail (the title), the instance (the request
// path) and the request ID.
func WriteProblem(w http.ResponseWriter, r *http.Request, p *Problem) {
	out := *p
	if out.Status < 400 || out.Status > 599 {
		out.Status = http.StatusInternalServerError
	}
	if out.Type == "" {
		out.Type = "about:blank"
	}
	if out.Title == "" {
		out.Title = http.StatusText(out.Status)
	}
	if out.Detail == "" {
		out.Detail = out.Title
	}
	if r != nil {
		if out.Instance == "" {
			out.Instance = r.URL.Path
		}
		if out.RequestID == "" {
			out.RequestID = RequestIDFrom(r.Context())
		}
	}
	body, err := json.Marshal(out)
	if err != nil { // cannot happen for this type; keep the answer well-formed anyway
		body = []byte(`{"type":"about:blank","title":"Internal Server Error","status":500,"detail":"Internal Server Error"}`)
		out.Status = http.StatusInternalServerError
	}
	h := w.Header()
	h.Set("Content-Type", ContentTypeProblem)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Del("Content-Length")
	w.WriteHeader(out.Status)
	_, _ = w.Write(append(body, '\n'))
}

// ValidationError carries the invalid fields of a request; it maps to 422 with "errors".
// Build one with Add and return Err(), which is nil when nothing was added.
type ValidationError struct {
	Detail string
	Errors []FieldError
}

// Add records one invalid field.
func (e *ValidationError) Add(field, code, message string) {
	e.Errors = append(e.Errors, FieldError{Field: field, Code: code, Message: message})
}

// Err returns e if it holds a field error, else nil.
func (e *ValidationError) Err() error {
	if e == nil || len(e.Errors) == 0 {
		return nil
	}
	return e
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Errors))
	for i, f := range e.Errors {
		parts[i] = f.Field + ": " + f.Message
	}
	return "validation failed: " + strings.Join(parts, "; ")
}

// ErrorMapper turns errors into problems, the one place where that happens. Rules registered
// first are tried first; after them come the built-in rules for this package's own errors, the
// access package's credential errors and context timeouts. Anything unknown is a 500 whose body
// says nothing about the error.
//
// For a 4xx the detail is the error's message, unless an error in its chain has a method
// ProblemDetail() string, whose result is used instead (access.CredentialError uses it so a
// client cannot tell a wrong password from a wrong code). Errors mapped to 4xx must therefore
// not carry SQL or other internals in their message. A 5xx never shows the error.
type ErrorMapper struct {
	mu    sync.RWMutex
	rules []func(error) (*Problem, bool)
}

// NewErrorMapper returns a mapper with only the built-in rules.
func NewErrorMapper() *ErrorMapper { return &ErrorMapper{} }

// Register maps every error matching target (errors.Is) to a problem of status, type slug and
// title. Call it at start-up, from the composition root.
func (m *ErrorMapper) Register(target error, status int, typeSlug, title string) {
	m.RegisterFunc(func(err error) (*Problem, bool) {
		if !errors.Is(err, target) {
			return nil, false
		}
		return NewProblem(status, typeSlug, title, publicDetail(err, status)), true
	})
}

// RegisterFunc adds a rule for errors a sentinel cannot describe, such as a domain's own
// validation error type (use errors.As inside and return its fields as Errors).
func (m *ErrorMapper) RegisterFunc(rule func(error) (*Problem, bool)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rules = append(m.rules, rule)
}

// Problem returns the problem for err.
func (m *ErrorMapper) Problem(err error) *Problem {
	m.mu.RLock()
	rules := m.rules
	m.mu.RUnlock()
	for _, rule := range rules {
		if p, ok := rule(err); ok {
			return p
		}
	}
	return builtinProblem(err)
}

// Write sends the problem for err and records err for the access log. A 5xx without an access
// log is logged here, so no server fault goes unseen.
func (m *ErrorMapper) Write(w http.ResponseWriter, r *http.Request, err error) {
	p := m.Problem(err)
	if st := stateFrom(r.Context()); st != nil {
		st.setErr(err)
	} else if p.Status >= 500 {
		slog.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	}
	WriteProblem(w, r, p)
}

// builtin has only the built-in rules: the errors of this package's own middleware, which run
// before any handler could choose a mapper.
var builtin = NewErrorMapper()

// WriteError sends the problem for err by the built-in rules only. Handlers that meet domain
// errors write through their own ErrorMapper.
func WriteError(w http.ResponseWriter, r *http.Request, err error) { builtin.Write(w, r, err) }

func publicDetail(err error, status int) string {
	if status >= 500 {
		return ""
	}
	var d interface{ ProblemDetail() string }
	if errors.As(err, &d) {
		return d.ProblemDetail()
	}
	return err.Error()
}

// Sentinels of this package's middleware, mapped by the built-in rules.
var (
	// ErrIdempotencyKeyReused: an Idempotency-Key was sent again with a different request.
	ErrIdempotencyKeyReused = errors.New("idempotency key already used for a different request")
	// ErrRequestInProgress: the first request with this Idempotency-Key has not finished yet.
	ErrRequestInProgress = errors.New("a request with this idempotency key is still in progress")
)

func builtinProblem(err error) *Problem {
	var (
		prob     *Problem
		valid    *ValidationError
		decoding *DecodeError
		tooLarge *http.MaxBytesError
	)
	switch {
	case errors.As(err, &prob):
		cp := *prob
		return &cp
	case errors.As(err, &valid):
		p := NewProblem(http.StatusUnprocessableEntity, "validation-failed", "The request is not valid", valid.Detail)
		p.Errors = valid.Errors
		return p
	case errors.As(err, &decoding):
		p := NewProblem(decoding.Status, decoding.slug(), decoding.title(), decoding.Message)
		p.Errors = decoding.Errors
		return p
	case errors.As(err, &tooLarge):
		return NewProblem(http.StatusRequestEntityTooLarge, "body-too-large", "Request body too large",
			fmt.Sprintf("The request body may be at most %d bytes.", tooLarge.Limit))
	case errors.Is(err, ErrIdempotencyKeyReused):
		return NewProblem(http.StatusUnprocessableEntity, "idempotency-key-reused", "Idempotency key reused",
			"This Idempotency-Key was already used with a different request; use a new key for a new request.")
	case errors.Is(err, ErrRequestInProgress):
		return NewProblem(http.StatusConflict, "request-in-progress", "Request in progress",
			"The first request with this Idempotency-Key is still running; retry shortly.")
	case errors.Is(err, access.ErrBadCredentials):
		return NewProblem(http.StatusUnauthorized, "bad-credentials", "Bad credentials",
			"The staff ID, password or one-time code is wrong.")
	case errors.Is(err, access.ErrSessionExpired):
		return NewProblem(http.StatusUnauthorized, "session-expired", "Session expired", "The session has expired; log in again.")
	case errors.Is(err, access.ErrUnauthenticated):
		return NewProblem(http.StatusUnauthorized, "unauthenticated", "Authentication required",
			"Send a valid session token or API key as Authorization: Bearer.")
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return NewProblem(http.StatusServiceUnavailable, "unavailable", "Service unavailable", "The request took too long; retry later.")
	}
	return NewProblem(http.StatusInternalServerError, "internal", "Internal Server Error", "")
}

// NotFoundHandler answers requests no route matches (set it as the router's NotFoundHandler).
func NotFoundHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		WriteProblem(w, r, NewProblem(http.StatusNotFound, "not-found", "Not Found", "No resource at this path."))
	})
}

// MethodNotAllowedHandler answers a known path with a method it does not take (set it as the
// router's MethodNotAllowedHandler). allowed lists the methods the path takes, sent in the Allow
// header (RFC 9110 15.5.6).
func MethodNotAllowedHandler(allowed func(*http.Request) []string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		methods := allowed(r)
		detail := "This path does not take " + r.Method + "."
		if len(methods) > 0 {
			w.Header().Set("Allow", strings.Join(methods, ", "))
			detail = "This path takes " + strings.Join(methods, ", ") + ", not " + r.Method + "."
		}
		WriteProblem(w, r, NewProblem(http.StatusMethodNotAllowed, "method-not-allowed", "Method Not Allowed", detail))
	})
}
