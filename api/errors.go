package api

import (
	"net/http"
	"sync"

	"yorozu/api/httpx"
	"yorozu/domain/access"
	"yorozu/domain/event"
	"yorozu/projections/readmodel"
)

var registerOnce sync.Once

// registerErrors maps the domain's sentinel errors to HTTP problems: the one place where a
// business error becomes a status code.
func registerErrors() {
	registerOnce.Do(func() {
		httpx.Register(access.ErrBadCredentials, http.StatusUnauthorized, "bad-credentials", "Login refused")
		httpx.Register(access.ErrUnknownRole, http.StatusUnprocessableEntity, "unknown-role", "Unknown role")
		httpx.Register(access.ErrInvalidName, http.StatusUnprocessableEntity, "invalid-name", "Invalid name")
		httpx.Register(access.ErrWeakPassword, http.StatusUnprocessableEntity, "weak-password", "Password too weak")
		httpx.Register(access.ErrExists, http.StatusConflict, "already-exists", "Already exists")
		httpx.Register(event.ErrConcurrency, http.StatusConflict, "concurrent-change", "Changed concurrently; reload and retry")
		httpx.Register(readmodel.ErrBadCursor, http.StatusBadRequest, "bad-cursor", "Invalid cursor")
		httpx.Register(errNotFound, http.StatusNotFound, "not-found", "Not found")
	})
}
