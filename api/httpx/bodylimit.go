package httpx

import (
	"context"
	"fmt"
	"io"
	"net/http"
)

// Body limits of docs/security.md.
const (
	APIBodyLimit   int64 = 1 << 20 // /api/v1
	AgentBodyLimit int64 = 8 << 20 // agent telemetry batches
)

// BodyLimit refuses request bodies larger than limit bytes with a 413 problem: at once when
// Content-Length says so, else when a handler reads past the limit (DecodeJSON then returns
// the *http.MaxBytesError, which WriteError maps to 413).
//
// Limits nest by the innermost: a route can take BodyLimit(AgentBodyLimit) inside a router
// that applies BodyLimit(APIBodyLimit), and gets 8 MiB.
func BodyLimit(limit int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ContentLength > limit {
				WriteProblem(w, r, NewProblem(http.StatusRequestEntityTooLarge, "body-too-large", "Request body too large",
					fmt.Sprintf("The request body may be at most %d bytes.", limit)))
				return
			}
			orig, ok := r.Context().Value(bodyKey).(io.ReadCloser)
			if !ok {
				orig = r.Body
				r = r.WithContext(context.WithValue(r.Context(), bodyKey, orig))
			}
			if orig != nil && orig != http.NoBody {
				r.Body = http.MaxBytesReader(w, orig, limit)
			}
			next.ServeHTTP(w, r)
		})
	}
}
