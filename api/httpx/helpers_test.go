package httpx_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"yorozu/api/httpx"
)

// problemOf checks that rec holds an RFC 9457 problem of status and returns it.
func problemOf(t *testing.T, rec *httptest.ResponseRecorder, status int) httpx.Problem {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status %d, want %d; body %s", rec.Code, status, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != httpx.ContentTypeProblem {
		t.Fatalf("Content-Type %q, want %s", ct, httpx.ContentTypeProblem)
	}
	var p httpx.Problem
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatalf("problem body %s: %v", rec.Body, err)
	}
	if p.Status != status || p.Type == "" || p.Title == "" || p.Detail == "" {
		t.Fatalf("problem %+v lacks type, title, status or detail", p)
	}
	for _, leak := range []string{"goroutine", ".go:", "SELECT", "panic"} {
		if strings.Contains(rec.Body.String(), leak) {
			t.Fatalf("problem body leaks %q: %s", leak, rec.Body)
		}
	}
	return p
}

func serve(h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

var ok200 = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	httpx.WriteJSON(w, http.StatusOK, map[string]string{"ok": "yes"})
})
