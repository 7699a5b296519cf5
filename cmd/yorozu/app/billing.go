package app

import "yorozu/commands"

// wireBilling registers the billing use cases and projections (SPEC 3).
func (a *App) wireBilling(deps commands.Deps) error { return nil }
