// Package storetest is the one conformance suite every event.Store adapter runs.
package storetest

import (
	"testing"

	"yorozu/domain/event"
)

// Factory opens a fresh, empty store for one subtest. The suite closes it.
type Factory func(t *testing.T) event.Store

// Run runs every conformance test against stores made by open.
func Run(t *testing.T, open Factory) {
	t.Helper()
	// Filled in by the suite author; adapters call only this.
	_ = open
}
