package api

import (
	"errors"
	"fmt"
	"net/http"

	"yorozu/api/httpx"
	"yorozu/commands"
	"yorozu/domain/access"
	"yorozu/domain/contract"
	"yorozu/domain/event"
	"yorozu/domain/order"
	"yorozu/projections/readmodel"
)

// newErrorMapper maps the domain's errors to HTTP problems: the one place where a business
// error becomes a status code. Errors of the HTTP plumbing itself (bad JSON, body too large,
// credentials) are httpx's built-in rules.
func newErrorMapper() *httpx.ErrorMapper {
	m := httpx.NewErrorMapper()
	{
		m.Register(access.ErrLocked, http.StatusUnauthorized, "locked", "Staff ID locked")
		m.Register(access.ErrBadCredentials, http.StatusUnauthorized, "bad-credentials", "Login refused")
		m.Register(commands.ErrBusy, http.StatusTooManyRequests, "busy", "Too many logins at once; retry shortly")
		m.Register(access.ErrCurrentPassword, http.StatusForbidden, "wrong-current-password", "The current password is wrong")
		m.Register(access.ErrNotASession, http.StatusForbidden, "not-a-session", "Only a staff session can do this")
		m.Register(access.ErrUnknownStaff, http.StatusNotFound, "staff-not-found", "Staff member not found")
		m.Register(access.ErrUnknownAPIKey, http.StatusNotFound, "api-key-not-found", "API key not found")
		m.Register(access.ErrUnknownRole, http.StatusUnprocessableEntity, "unknown-role", "Unknown role")
		m.Register(access.ErrInvalidName, http.StatusUnprocessableEntity, "invalid-name", "Invalid name")
		m.Register(access.ErrWeakPassword, http.StatusUnprocessableEntity, "weak-password", "Password too weak")
		m.Register(access.ErrExists, http.StatusConflict, "already-exists", "Already exists")
		m.Register(event.ErrConcurrency, http.StatusConflict, "concurrent-change", "Changed concurrently; reload and retry")
		m.Register(event.ErrUnstorableText, http.StatusUnprocessableEntity, "control-character", "Text with a NUL character")
		m.Register(readmodel.ErrBadCursor, http.StatusBadRequest, "bad-cursor", "Invalid cursor")
		registerBillingErrors(m)
		registerServiceErrors(m)
		registerHelpDeskErrors(m)
		registerInsuranceErrors(m)
		registerTelemetryErrors(m)
		m.Register(order.ErrNotFound, http.StatusNotFound, "order-not-found", "Order not found")
		m.Register(order.ErrInvalidTransition, http.StatusConflict, "order-status-conflict", "Not allowed in the order's status")
		m.Register(order.ErrTooEarly, http.StatusConflict, "before-scheduled-date", "Scheduled date not reached")
		m.Register(order.ErrTypeChanged, http.StatusUnprocessableEntity, "order-type-changed", "An amendment cannot change the order type or contract")
		m.Register(contract.ErrNotFound, http.StatusNotFound, "contract-not-found", "Contract not found")
		m.Register(contract.ErrOrderOpen, http.StatusConflict, "order-already-open", "The contract already has an open order")
		m.Register(contract.ErrNumbersExhausted, http.StatusServiceUnavailable, "numbers-exhausted", "No customer number left")
		m.Register(commands.ErrPreconditionFailed, http.StatusPreconditionFailed, "version-mismatch", "The resource changed since you read it")
		m.RegisterFunc(func(err error) (*httpx.Problem, bool) {
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
	}
	return m
}
