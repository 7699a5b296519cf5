package commands

import (
	"io"

	"yorozu/domain/access"
	"yorozu/domain/event"
)

// AccessDeps are what the staff and API-key use cases need besides Deps.
type AccessDeps struct {
	Deps
	Policy access.Policy
	// Random is crypto/rand.Reader in production.
	Random io.Reader
}

// foldStaff folds a staff stream with the access package's own decoder (its events name
// themselves with EventType).
func foldStaff(s *access.Staff, r event.Record, _ any) error {
	e, err := access.Decode(r.Type, r.Data)
	if err != nil {
		return err
	}
	*s = s.Evolve(e)
	return nil
}

func accessEvents(es []access.Event) []any {
	out := make([]any, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}
