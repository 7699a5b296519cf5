package httpx

import (
	"log/slog"
	"net/http"
	"runtime/debug"
)

// Recover turns a panic in a handler into a 500 problem. The panic value and stack go to the
// log, never to the client. http.ErrAbortHandler is passed on, as net/http expects.
func Recover(logger *slog.Logger) func(http.Handler) http.Handler {
	if logger == nil {
		logger = slog.Default()
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rec := newRecorder(w)
			defer func() {
				v := recover()
				if v == nil {
					return
				}
				if v == http.ErrAbortHandler {
					panic(v)
				}
				logger.ErrorContext(r.Context(), "handler panicked",
					"requestId", RequestIDFrom(r.Context()), "method", r.Method, "path", r.URL.Path,
					"panic", v, "stack", string(debug.Stack()))
				if st := stateFrom(r.Context()); st != nil {
					st.setErr(panicError{})
				}
				if rec.started() {
					// Part of a response is on its way; all that is left is to cut it off.
					panic(http.ErrAbortHandler)
				}
				// Drop what the handler had set (Location, ETag, ...) for an answer it never gave.
				for k := range w.Header() {
					if k != http.CanonicalHeaderKey(HeaderRequestID) {
						w.Header().Del(k)
					}
				}
				WriteProblem(w, r, NewProblem(http.StatusInternalServerError, "internal", "Internal Server Error", ""))
			}()
			next.ServeHTTP(rec, r)
		})
	}
}

type panicError struct{}

func (panicError) Error() string { return "handler panicked (see the panic log line)" }
