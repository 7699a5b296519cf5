package commands

import (
	"context"
	"errors"
	"fmt"

	"yorozu/domain/access"
	"yorozu/domain/event"
)

// CreateAPIKey creates a service account's key (yorozu apikey create).
type CreateAPIKey struct {
	Meta
	Name string
	Role string
}

// APIKeyCreated is what creating a key answers: the key itself, shown once.
type APIKeyCreated struct {
	Outcome
	Key string
}

// CreateAPIKeyHandler handles CreateAPIKey.
type CreateAPIKeyHandler struct{ deps AccessDeps }

// NewCreateAPIKeyHandler builds the handler.
func NewCreateAPIKeyHandler(d AccessDeps) CreateAPIKeyHandler { return CreateAPIKeyHandler{deps: d} }

// Handle implements the use case.
func (h CreateAPIKeyHandler) Handle(ctx context.Context, cmd CreateAPIKey) (APIKeyCreated, error) {
	role, err := access.ParseRole(cmd.Role)
	if err != nil {
		return APIKeyCreated{}, err
	}
	es, key, err := access.CreateAPIKey(cmd.Name, role, h.deps.Random)
	if err != nil {
		return APIKeyCreated{}, err
	}
	stream := access.APIKeyStream(cmd.Name)
	drafts, err := toDrafts(h.deps.Deps, cmd.Meta, stream, accessEvents(es))
	if err != nil {
		return APIKeyCreated{}, err
	}
	// Expecting no stream is what keeps key names unique.
	res, err := h.deps.Events.Append(ctx, stream, event.NoStream(), drafts)
	if errors.Is(err, event.ErrConcurrency) {
		return APIKeyCreated{}, fmt.Errorf("%w: API key %q", access.ErrExists, cmd.Name)
	}
	if err != nil {
		return APIKeyCreated{}, err
	}
	return APIKeyCreated{Outcome: Outcome{Stream: stream, Version: res.LastVersion, Position: res.LastPosition}, Key: key}, nil
}
