package commands

import (
	"context"
	"errors"
	"fmt"

	"yorozu/domain/access"
	"yorozu/domain/event"
)

// CreateAPIKey creates a service account's key (yorozu apikey create). The outcome's Result is
// the key, shown once.
type CreateAPIKey struct {
	Meta
	Name string `json:"name"`
	Role string `json:"role"`
}

// CreateAPIKeyHandler handles CreateAPIKey.
type CreateAPIKeyHandler struct{ deps AccessDeps }

// NewCreateAPIKeyHandler builds the handler.
func NewCreateAPIKeyHandler(d AccessDeps) CreateAPIKeyHandler { return CreateAPIKeyHandler{deps: d} }

// Handle implements the use case.
func (h CreateAPIKeyHandler) Handle(ctx context.Context, cmd CreateAPIKey) (Outcome, error) {
	role, err := access.ParseRole(cmd.Role)
	if err != nil {
		return Outcome{}, err
	}
	es, key, err := access.CreateAPIKey(cmd.Name, role, h.deps.Random)
	if err != nil {
		return Outcome{}, err
	}
	stream := access.APIKeyStream(cmd.Name)
	drafts, err := toDrafts(h.deps.Deps, cmd.Meta, stream, accessEvents(es))
	if err != nil {
		return Outcome{}, err
	}
	// Expecting no stream is what keeps key names unique.
	res, err := h.deps.Events.Append(ctx, stream, event.NoStream(), drafts)
	if errors.Is(err, event.ErrConcurrency) {
		return Outcome{}, fmt.Errorf("%w: API key %q", access.ErrExists, cmd.Name)
	}
	if err != nil {
		return Outcome{}, err
	}
	return Outcome{Stream: stream, Version: res.LastVersion, Position: res.LastPosition, Result: key}, nil
}
