package commands

import (
	"context"
	"fmt"

	"yorozu/domain/access"
)

// RevokeAPIKey ends a service account's key for good (yorozu apikey revoke,
// POST /api/v1/api-keys/{name}/revoke). Revoking a revoked key changes nothing.
type RevokeAPIKey struct {
	Meta
	Name string
}

// APIKeyChanged is what a command on an API key answers: the key after it.
type APIKeyChanged struct {
	Outcome
	Key access.APIKeyInfo
}

// RevokeAPIKeyHandler handles RevokeAPIKey.
type RevokeAPIKeyHandler struct{ deps AccessDeps }

// NewRevokeAPIKeyHandler builds the handler.
func NewRevokeAPIKeyHandler(d AccessDeps) RevokeAPIKeyHandler { return RevokeAPIKeyHandler{deps: d} }

// Handle implements the use case.
func (h RevokeAPIKeyHandler) Handle(ctx context.Context, cmd RevokeAPIKey) (APIKeyChanged, error) {
	if !access.ValidName(cmd.Name) {
		return APIKeyChanged{}, fmt.Errorf("%w: %q", access.ErrUnknownAPIKey, cmd.Name)
	}
	var after access.APIKey
	out, err := execute(ctx, h.deps.Deps, cmd.Meta, access.APIKeyStream(cmd.Name), access.APIKey{}, foldAPIKey,
		func(k access.APIKey, _ uint64) ([]any, error) {
			es, err := k.Revoke(h.deps.Clock())
			after = k
			for _, e := range es {
				after = after.Evolve(e)
			}
			return accessEvents(es), err
		})
	return APIKeyChanged{Outcome: out, Key: after.Info()}, err
}
