package commands

import (
	"fmt"
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

// foldStaff folds a staff stream.
func foldStaff(s *access.Staff, r event.Record, e any) error {
	ae, ok := e.(access.Event)
	if !ok {
		return fmt.Errorf("commands: %s in staff stream %s", r.Type, r.Stream)
	}
	*s = s.Evolve(ae)
	return nil
}

func accessEvents(es []access.Event) []any {
	out := make([]any, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}
