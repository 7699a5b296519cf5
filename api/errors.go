package api

import (
	"errors"
	"fmt"
	"net/http"
	"sync"

	"yorozu/api/httpx"
	"yorozu/commands"
	"yorozu/domain/access"
	"yorozu/domain/contract"
	"yorozu/domain/event"
	"yorozu/domain/order"
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
		registerBillingErrors()
		httpx.Register(order.ErrNotFound, http.StatusNotFound, "order-not-found", "Order not found")
		httpx.Register(order.ErrInvalidTransition, http.StatusConflict, "order-status-conflict", "Not allowed in the order's status")
		httpx.Register(order.ErrTooEarly, http.StatusConflict, "before-scheduled-date", "Scheduled date not reached")
		httpx.Register(order.ErrTypeChanged, http.StatusUnprocessableEntity, "order-type-changed", "An amendment cannot change the order type or contract")
		httpx.Register(contract.ErrNotFound, http.StatusNotFound, "contract-not-found", "Contract not found")
		httpx.Register(contract.ErrOrderOpen, http.StatusConflict, "order-already-open", "The contract already has an open order")
		httpx.Register(contract.ErrNumbersExhausted, http.StatusServiceUnavailable, "numbers-exhausted", "No customer number left")
		httpx.Register(commands.ErrPreconditionFailed, http.StatusPreconditionFailed, "version-mismatch", "The resource changed since you read it")
		httpx.RegisterFunc(func(err error) (*httpx.Problem, bool) {
			var fe order.FieldErrors
			if !errors.As(err, &fe) {
				return nil, false
			}
			p := httpx.NewProblem(http.StatusUnprocessableEntity, "validation", "The form has errors",
				fmt.Sprintf("%d field errors; nothing was stored", len(fe)))
			for _, e := range fe {
				p.Errors = append(p.Errors, httpx.FieldError{Field: e.Field, Code: e.Code, Message: e.Message})
			}
			return p, true
		})
	})
}
