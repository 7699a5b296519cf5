package esdb_test

import (
	"context"
	"os"
	"testing"
	"time"

	"yorozu/adapters/eventstore/esdb"
	"yorozu/adapters/eventstore/storetest"
	"yorozu/domain/event"
)

// TestConformance runs the suite every event store passes against a real EventStoreDB or
// KurrentDB (docs/eventstoredb.md). The suite names its streams with fresh UUIDs and reads the
// global log only from the head it saw at its start, so a server that already holds data,
// including earlier runs, serves as well as an empty one.
func TestConformance(t *testing.T) {
	url := os.Getenv("YOROZU_TEST_ESDB_URL")
	if url == "" {
		t.Skip("set YOROZU_TEST_ESDB_URL=esdb://host:2113?tls=false to run the EventStoreDB conformance suite")
	}
	storetest.Run(t, func(t *testing.T) event.Store {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		s, err := esdb.Open(ctx, url, esdb.Options{})
		if err != nil {
			t.Fatalf("open %s: %v", url, err)
		}
		return s
	})
}

// TestTransferConformance checks, against a real server, that an import into a store that holds
// events is refused. The rest of the import suite needs an empty database for every test, which
// a shared server cannot give; it runs against the protocol fake (TestTransferAgainstProtocolFake).
func TestTransferConformance(t *testing.T) {
	url := os.Getenv("YOROZU_TEST_ESDB_URL")
	if url == "" {
		t.Skip("set YOROZU_TEST_ESDB_URL=esdb://host:2113?tls=false to run the EventStoreDB conformance suite")
	}
	storetest.RunTransfer(t, func(t *testing.T) event.Store {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		s, err := esdb.Open(ctx, url, esdb.Options{})
		if err != nil {
			t.Fatalf("open %s: %v", url, err)
		}
		return s
	}, storetest.ImportOptions{NewPositions: true, NotAtomic: true, WholeStreamsOnly: true, SharedServer: true})
}
