// Package idempotencytest is the one conformance suite every httpx.IdempotencyStore runs: the
// in-memory store here, and a PostgreSQL one when it exists.
package idempotencytest

import (
	"bytes"
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"yorozu/api/httpx"
)

// Factory makes a store for one subtest.
type Factory func(t *testing.T) httpx.IdempotencyStore

// Run runs every conformance test against stores made by open. Keys are fresh UUIDs, so a
// shared database may hold other data.
func Run(t *testing.T, open Factory) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s httpx.IdempotencyStore)
	}{
		{"FirstClaimWinsSecondSeesInFlight", testClaim},
		{"CompleteIsReplayedExactly", testComplete},
		{"ReleaseFreesTheKey", testRelease},
		{"ReleaseKeepsACompletedResponse", testReleaseAfterComplete},
		{"LeaseEndsAnAbandonedClaim", testLease},
		{"TTLEndsACompletedResponse", testTTL},
		{"SixteenClaimersOneWinner", testRacingClaims},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

var ctx = context.Background()

func claim(t *testing.T, s httpx.IdempotencyStore, key, fp string, lease time.Duration) (httpx.IdempotencyRecord, bool) {
	t.Helper()
	rec, ok, err := s.Claim(ctx, key, fp, lease)
	if err != nil {
		t.Fatalf("claim %s: %v", key, err)
	}
	return rec, ok
}

func response() httpx.StoredResponse {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("Location", "/api/v1/orders/42")
	h.Set("ETag", `"3"`)
	return httpx.StoredResponse{Status: http.StatusCreated, Header: h, Body: []byte(`{"orderId":"42","status":"received"}` + "\n")}
}

func testClaim(t *testing.T, s httpx.IdempotencyStore) {
	key := uuid.NewString()
	if _, ok := claim(t, s, key, "fp-1", time.Minute); !ok {
		t.Fatal("first claim of a new key was refused")
	}
	rec, ok := claim(t, s, key, "fp-2", time.Minute)
	if ok {
		t.Fatal("second claim of a key in flight succeeded")
	}
	if rec.Done || rec.Fingerprint != "fp-1" {
		t.Fatalf("in-flight record = %+v, want not done with the first fingerprint", rec)
	}
}

func testComplete(t *testing.T, s httpx.IdempotencyStore) {
	key := uuid.NewString()
	claim(t, s, key, "fp", time.Minute)
	want := response()
	if err := s.Complete(ctx, key, want, time.Hour); err != nil {
		t.Fatal(err)
	}
	rec, ok := claim(t, s, key, "fp", time.Minute)
	if ok || !rec.Done || rec.Fingerprint != "fp" {
		t.Fatalf("after complete: claimed %v, record %+v", ok, rec)
	}
	got := rec.Response
	if got.Status != want.Status || !bytes.Equal(got.Body, want.Body) {
		t.Fatalf("stored response %d %q, want %d %q", got.Status, got.Body, want.Status, want.Body)
	}
	for _, h := range []string{"Content-Type", "Location", "ETag"} {
		if got.Header.Get(h) != want.Header.Get(h) {
			t.Fatalf("header %s = %q, want %q", h, got.Header.Get(h), want.Header.Get(h))
		}
	}
}

func testRelease(t *testing.T, s httpx.IdempotencyStore) {
	key := uuid.NewString()
	claim(t, s, key, "fp", time.Minute)
	if err := s.Release(ctx, key); err != nil {
		t.Fatal(err)
	}
	if _, ok := claim(t, s, key, "fp", time.Minute); !ok {
		t.Fatal("a released key cannot be claimed again")
	}
}

func testReleaseAfterComplete(t *testing.T, s httpx.IdempotencyStore) {
	key := uuid.NewString()
	claim(t, s, key, "fp", time.Minute)
	if err := s.Complete(ctx, key, response(), time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := s.Release(ctx, key); err != nil {
		t.Fatal(err)
	}
	if rec, ok := claim(t, s, key, "fp", time.Minute); ok || !rec.Done {
		t.Fatal("Release removed a completed response")
	}
}

func testLease(t *testing.T, s httpx.IdempotencyStore) {
	key := uuid.NewString()
	claim(t, s, key, "fp", 50*time.Millisecond)
	time.Sleep(150 * time.Millisecond)
	if _, ok := claim(t, s, key, "fp", time.Minute); !ok {
		t.Fatal("a claim whose lease ended still blocks the key")
	}
}

func testTTL(t *testing.T, s httpx.IdempotencyStore) {
	key := uuid.NewString()
	claim(t, s, key, "fp", time.Minute)
	if err := s.Complete(ctx, key, response(), 50*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	time.Sleep(150 * time.Millisecond)
	if _, ok := claim(t, s, key, "fp-new", time.Minute); !ok {
		t.Fatal("a response whose TTL ended is still replayed")
	}
}

func testRacingClaims(t *testing.T, s httpx.IdempotencyStore) {
	key := uuid.NewString()
	var wins atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, ok, err := s.Claim(ctx, key, "fp", time.Minute)
			if err != nil {
				t.Error(err)
			}
			if ok {
				wins.Add(1)
			}
		}()
	}
	close(start)
	wg.Wait()
	if n := wins.Load(); n != 1 {
		t.Fatalf("%d of 16 concurrent claims won, want exactly 1", n)
	}
}
