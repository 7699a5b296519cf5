package httpx

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// HeaderIdempotencyKey is the request header a command endpoint honours (docs/security.md).
const HeaderIdempotencyKey = "Idempotency-Key"

// IdempotencyStore keeps the outcome of requests by idempotency key. Claim is atomic across
// every replica that shares the store, so two copies of one request never both run: a
// PostgreSQL store claims with INSERT ... ON CONFLICT DO NOTHING and reads the row otherwise.
// Keys reach the store already hashed with the principal, method and path.
type IdempotencyStore interface {
	// Claim returns the record stored under key, with claimed false. If there is none (or only
	// an in-flight one whose lease ended), it stores an in-flight record with fingerprint for
	// lease and returns claimed true: the caller runs the request and then Completes or
	// Releases the key.
	Claim(ctx context.Context, key, fingerprint string, lease time.Duration) (rec IdempotencyRecord, claimed bool, err error)
	// Complete replaces the in-flight record of key with the final response, kept for ttl.
	Complete(ctx context.Context, key string, resp StoredResponse, ttl time.Duration) error
	// Release removes the in-flight record of key, so a retry runs the request again.
	Release(ctx context.Context, key string) error
}

// IdempotencyRecord is what a store holds under a key.
type IdempotencyRecord struct {
	// Fingerprint is the SHA-256 of the request (query and body) that claimed the key.
	Fingerprint string
	// Done is false while the first request still runs.
	Done     bool
	Response StoredResponse
}

// StoredResponse is a response as it is replayed: status, the headers that describe the
// result, and the body.
type StoredResponse struct {
	Status int
	Header http.Header
	Body   []byte
}

// replayedHeaders are the response headers stored and replayed.
var replayedHeaders = []string{"Content-Type", "Location", "ETag"}

// IdempotencyConfig configures Idempotency. Zero fields mean the defaults.
type IdempotencyConfig struct {
	Store IdempotencyStore
	// TTL is how long a final response is replayed (24 hours when zero).
	TTL time.Duration
	// Lease is how long a claim by a running request holds; it must exceed the longest
	// command (1 minute when zero). A claim whose server died ends with its lease.
	Lease time.Duration
	// Wait is how long a duplicate waits for the first request to finish before it gets a
	// 409 problem (10 seconds when zero, longer than the read-your-writes wait).
	Wait time.Duration
	// MaxBody is the largest response body stored (1 MiB when zero); a larger response is
	// sent but not stored, so a retry runs the request again.
	MaxBody int
}

// Idempotency makes a command endpoint honour the Idempotency-Key header. It must run after
// Authenticate and BodyLimit. Requests without the header pass straight through.
//
// The same key from the same principal on the same method and path:
//   - with the same query and body, after the first request finished: the stored status,
//     Content-Type, Location, ETag and body are sent again, with Idempotent-Replayed: true,
//     and the handler does not run (no new events);
//   - while the first request still runs: waits for it, then replays (409 after Wait);
//   - with a different query or body: 422 problem "idempotency-key-reused", following the
//     IETF draft on the Idempotency-Key header, since the request is well-formed but cannot be
//     processed under this key.
//
// Only final answers are stored: 2xx, and 4xx other than 401, 403, 408, 409, 412, 423, 425 and
// 429, whose outcome may change on a retry (a conflict or a precondition that may be fixed by
// then). 5xx and panics release the key.
func Idempotency(cfg IdempotencyConfig) func(http.Handler) http.Handler {
	if cfg.TTL <= 0 {
		cfg.TTL = 24 * time.Hour
	}
	if cfg.Lease <= 0 {
		cfg.Lease = time.Minute
	}
	if cfg.Wait <= 0 {
		cfg.Wait = 10 * time.Second
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 1 << 20
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			key, present, valid := idempotencyKey(r)
			if !present {
				next.ServeHTTP(w, r)
				return
			}
			if !valid {
				WriteProblem(w, r, &Problem{
					Type: ProblemType("invalid-idempotency-key"), Title: "Invalid Idempotency-Key", Status: http.StatusBadRequest,
					Detail: "Send one Idempotency-Key header of 1 to 255 visible ASCII characters.",
				})
				return
			}
			body, err := io.ReadAll(r.Body)
			if err != nil {
				WriteError(w, r, err)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			scope := idempotencyScope(r, key)
			fp := digest(r.URL.RawQuery, string(body))

			ctx := r.Context()
			deadline := time.Now().Add(cfg.Wait)
			pause := 10 * time.Millisecond
			for {
				rec, claimed, err := cfg.Store.Claim(ctx, scope, fp, cfg.Lease)
				switch {
				case err != nil:
					WriteError(w, r, fmt.Errorf("idempotency store: %w", err))
					return
				case claimed:
					runAndStore(w, r, next, cfg, scope)
					return
				case rec.Fingerprint != fp:
					WriteError(w, r, ErrIdempotencyKeyReused)
					return
				case rec.Done:
					replay(w, rec.Response)
					return
				}
				if time.Now().Add(pause).After(deadline) {
					w.Header().Set("Retry-After", "1")
					WriteError(w, r, ErrRequestInProgress)
					return
				}
				select {
				case <-ctx.Done():
					WriteError(w, r, ctx.Err())
					return
				case <-time.After(pause):
				}
				pause = min(2*pause, 200*time.Millisecond)
			}
		})
	}
}

func runAndStore(w http.ResponseWriter, r *http.Request, next http.Handler, cfg IdempotencyConfig, scope string) {
	// The outcome is stored even if the client has gone: its retry must find it.
	ctx := context.WithoutCancel(r.Context())
	tee := &teeRecorder{ResponseWriter: w, max: cfg.MaxBody}
	finished := false
	defer func() {
		if !finished { // the handler panicked; Recover answers, the key is freed for a retry
			_ = cfg.Store.Release(ctx, scope)
		}
	}()
	next.ServeHTTP(tee, r)
	finished = true
	status := tee.statusOr(http.StatusOK)
	if !finalStatus(status) || tee.overflow {
		if err := cfg.Store.Release(ctx, scope); err != nil {
			LoggerFrom(ctx).Error("idempotency: release key", "error", err)
		}
		return
	}
	resp := StoredResponse{Status: status, Header: tee.header, Body: tee.buf.Bytes()}
	if err := cfg.Store.Complete(ctx, scope, resp, cfg.TTL); err != nil {
		LoggerFrom(ctx).Error("idempotency: store response", "error", err)
	}
}

func finalStatus(status int) bool {
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusRequestTimeout, http.StatusConflict,
		http.StatusPreconditionFailed, http.StatusLocked, http.StatusTooEarly, http.StatusTooManyRequests:
		return false
	}
	return status >= 200 && status < 500
}

func replay(w http.ResponseWriter, resp StoredResponse) {
	h := w.Header()
	for _, name := range replayedHeaders {
		h.Del(name)
		for _, v := range resp.Header.Values(name) {
			h.Add(name, v)
		}
	}
	h.Set("Idempotent-Replayed", "true")
	w.WriteHeader(resp.Status)
	_, _ = w.Write(resp.Body)
}

// idempotencyKey reads the header. The IETF draft sends it as a structured-field string
// ("abc", quoted); clients commonly send it bare. Both are accepted.
func idempotencyKey(r *http.Request) (key string, present, valid bool) {
	values := r.Header.Values(HeaderIdempotencyKey)
	if len(values) == 0 {
		return "", false, false
	}
	if len(values) > 1 {
		return "", true, false
	}
	key = strings.TrimSpace(values[0])
	if len(key) >= 2 && key[0] == '"' && key[len(key)-1] == '"' {
		key = key[1 : len(key)-1]
	}
	if key == "" || len(key) > 255 {
		return "", true, false
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x21 || key[i] > 0x7e {
			return "", true, false
		}
	}
	return key, true, true
}

// idempotencyScope makes the store key: a key is only the same key for the same principal,
// method and path. Hashing keeps principals and client keys out of the store.
func idempotencyScope(r *http.Request, key string) string {
	who := "anonymous"
	if p, ok := PrincipalFrom(r.Context()); ok {
		who = p.Kind.String() + ":" + p.ID
	}
	return digest(who, r.Method, r.URL.Path, key)
}

func digest(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s;", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// teeRecorder passes a response through and keeps a copy for the store.
type teeRecorder struct {
	http.ResponseWriter
	status   int
	header   http.Header
	buf      bytes.Buffer
	max      int
	overflow bool
}

func (t *teeRecorder) WriteHeader(status int) {
	if t.status == 0 && status >= 200 {
		t.status = status
		t.header = http.Header{}
		for _, name := range replayedHeaders {
			for _, v := range t.ResponseWriter.Header().Values(name) {
				t.header.Add(name, v)
			}
		}
	}
	t.ResponseWriter.WriteHeader(status)
}

func (t *teeRecorder) Write(b []byte) (int, error) {
	if t.status == 0 {
		t.WriteHeader(http.StatusOK)
	}
	if !t.overflow {
		if t.buf.Len()+len(b) > t.max {
			t.overflow = true
			t.buf = bytes.Buffer{}
		} else {
			t.buf.Write(b)
		}
	}
	return t.ResponseWriter.Write(b)
}

func (t *teeRecorder) statusOr(def int) int {
	if t.status == 0 {
		return def
	}
	return t.status
}

// Unwrap gives http.ResponseController the underlying writer.
func (t *teeRecorder) Unwrap() http.ResponseWriter { return t.ResponseWriter }

// MemoryIdempotencyStore is an IdempotencyStore for one process (the embedded deployment and
// tests). Expired records are swept as new keys are claimed.
type MemoryIdempotencyStore struct {
	now       func() time.Time
	mu        sync.Mutex
	records   map[string]memoryRecord
	lastSweep time.Time
}

type memoryRecord struct {
	rec     IdempotencyRecord
	expires time.Time
}

// NewMemoryIdempotencyStore returns an empty store; now is its clock (time.Now when nil).
func NewMemoryIdempotencyStore(now func() time.Time) *MemoryIdempotencyStore {
	if now == nil {
		now = time.Now
	}
	return &MemoryIdempotencyStore{now: now, records: make(map[string]memoryRecord)}
}

// Claim implements IdempotencyStore.
func (s *MemoryIdempotencyStore) Claim(_ context.Context, key, fingerprint string, lease time.Duration) (IdempotencyRecord, bool, error) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Sub(s.lastSweep) >= time.Minute {
		for k, r := range s.records {
			if !now.Before(r.expires) {
				delete(s.records, k)
			}
		}
		s.lastSweep = now
	}
	if r, ok := s.records[key]; ok && now.Before(r.expires) {
		return cloneRecord(r.rec), false, nil
	}
	s.records[key] = memoryRecord{rec: IdempotencyRecord{Fingerprint: fingerprint}, expires: now.Add(lease)}
	return IdempotencyRecord{}, true, nil
}

// Complete implements IdempotencyStore.
func (s *MemoryIdempotencyStore) Complete(_ context.Context, key string, resp StoredResponse, ttl time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.records[key]
	if !ok {
		return fmt.Errorf("httpx: complete idempotency key: %w", errNotClaimed)
	}
	r.rec.Done = true
	r.rec.Response = cloneResponse(resp)
	r.expires = s.now().Add(ttl)
	s.records[key] = r
	return nil
}

// Release implements IdempotencyStore.
func (s *MemoryIdempotencyStore) Release(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.records[key]; ok && !r.rec.Done {
		delete(s.records, key)
	}
	return nil
}

var errNotClaimed = errors.New("key not claimed (lease ended?)")

func cloneRecord(r IdempotencyRecord) IdempotencyRecord {
	r.Response = cloneResponse(r.Response)
	return r
}

func cloneResponse(resp StoredResponse) StoredResponse {
	resp.Header = resp.Header.Clone()
	resp.Body = bytes.Clone(resp.Body)
	return resp
}
