package httpx

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/mux"
)

// HeaderRequestID carries the request ID in both directions.
const HeaderRequestID = "X-Request-ID"

type ctxKey int

const (
	stateKey ctxKey = iota
	principalKey
	loggerKey
	bodyKey
)

// requestState is shared by the middlewares of one request through a pointer in the context,
// so outer ones (the access log) learn what inner ones found out (principal, error).
type requestState struct {
	id        string
	mu        sync.Mutex
	err       error
	principal string
}

func (s *requestState) setErr(err error) {
	s.mu.Lock()
	s.err = err
	s.mu.Unlock()
}

func (s *requestState) setPrincipal(id string) {
	s.mu.Lock()
	s.principal = id
	s.mu.Unlock()
}

func stateFrom(ctx context.Context) *requestState {
	s, _ := ctx.Value(stateKey).(*requestState)
	return s
}

// withState returns r with a request state, reusing the one already there.
func withState(r *http.Request) (*http.Request, *requestState) {
	if s := stateFrom(r.Context()); s != nil {
		return r, s
	}
	s := &requestState{}
	return r.WithContext(context.WithValue(r.Context(), stateKey, s)), s
}

// RequestID gives every request an ID: the client's X-Request-ID when it is a short token of
// safe characters, else a new UUIDv7. The ID is echoed in the response header, in problem
// bodies and in the access log.
func RequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r, st := withState(r)
		id := r.Header.Get(HeaderRequestID)
		if !validRequestID(id) {
			id = newRequestID()
		}
		st.id = id
		w.Header().Set(HeaderRequestID, id)
		next.ServeHTTP(w, r)
	})
}

// RequestIDFrom returns the request ID set by RequestID, or "".
func RequestIDFrom(ctx context.Context) string {
	if s := stateFrom(ctx); s != nil {
		return s.id
	}
	return ""
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_.:", c)) {
			return false
		}
	}
	return true
}

func newRequestID() string {
	if id, err := uuid.NewV7(); err == nil {
		return id.String()
	}
	return uuid.NewString()
}

// LoggerFrom returns the request's logger (with its request ID) set by AccessLog, or the
// default logger.
func LoggerFrom(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}

// AccessLog writes one structured line per request when it ends: method, route template, path,
// status, size, duration, request ID, principal and, if WriteError was used, the error. Server
// errors are logged at level Error, the rest at Info. Put it inside RequestID; it may sit
// inside or outside Recover (a panic passing through is logged as a 500).
func AccessLog(logger *slog.Logger) func(http.Handler) http.Handler {
	if logger == nil {
		logger = slog.Default()
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			r, st := withState(r)
			reqLogger := logger
			if st.id != "" {
				reqLogger = logger.With("requestId", st.id)
			}
			r = r.WithContext(context.WithValue(r.Context(), loggerKey, reqLogger))
			rec := newRecorder(w)
			returned := false
			defer func() {
				status := rec.statusOr(http.StatusOK)
				st.mu.Lock()
				err, principal := st.err, st.principal
				st.mu.Unlock()
				if !returned { // a panic is passing through to a Recover further out
					status, err = panicStatus(rec), panicError{}
				}
				attrs := []any{
					"method", r.Method, "route", routeOf(r), "path", r.URL.Path, "status", status,
					"bytes", rec.bytes, "durationMs", float64(time.Since(start).Microseconds()) / 1000,
					"client", r.RemoteAddr,
				}
				if principal != "" {
					attrs = append(attrs, "principal", principal)
				}
				if err != nil {
					attrs = append(attrs, "error", err.Error())
				}
				level := slog.LevelInfo
				if status >= 500 {
					level = slog.LevelError
				}
				reqLogger.Log(r.Context(), level, "http request", attrs...)
			}()
			next.ServeHTTP(rec, r)
			returned = true
		})
	}
}

// routeOf is the route template ("/api/v1/orders/{orderId}"), never the raw path, so logs and
// metric labels stay bounded. Requests no route matched are "unmatched".
func routeOf(r *http.Request) string {
	if route := mux.CurrentRoute(r); route != nil {
		if tpl, err := route.GetPathTemplate(); err == nil {
			return tpl
		}
	}
	return "unmatched"
}

// panicStatus is the status a request that panicked ends with: 500 from Recover, or, if part
// of the response was sent, what was sent before net/http cut the connection. Observers that
// sit outside Recover see it without recovering, so the panic keeps its stack.
func panicStatus(rec *recorder) int {
	if rec.started() {
		return rec.status
	}
	return http.StatusInternalServerError
}

// recorder notes the status and size of a response while passing it through.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func newRecorder(w http.ResponseWriter) *recorder { return &recorder{ResponseWriter: w} }

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 && status >= 200 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

func (r *recorder) statusOr(def int) int {
	if r.status == 0 {
		return def
	}
	return r.status
}

func (r *recorder) started() bool { return r.status != 0 }

// Flush lets streaming handlers (CSV exports) flush through the recorder.
func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		if r.status == 0 {
			r.status = http.StatusOK
		}
		f.Flush()
	}
}

// Unwrap gives http.ResponseController the underlying writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
