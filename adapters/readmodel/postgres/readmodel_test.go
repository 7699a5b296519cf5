package postgres_test

import (
	"context"
	"testing"

	"yorozu/adapters/postgres/migrate"
	"yorozu/adapters/postgres/pgtest"
	"yorozu/adapters/readmodel/postgres"
	port "yorozu/projections/readmodel"
	"yorozu/projections/readmodel/readmodeltest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// open returns a store on a fresh, migrated database. Without PostgreSQL it fails the test.
func open(tb testing.TB) *postgres.Store {
	tb.Helper()
	pool := pgtest.NewPool(tb)
	if err := migrate.Up(context.Background(), pool); err != nil {
		tb.Fatalf("migrate: %v", err)
	}
	return postgres.New(pool)
}

// TestConformance runs the suite on one database, as the service runs every projection in one:
// the subtests' projections share rm_docs and projection_checkpoints.
func TestConformance(t *testing.T) {
	s := open(t)
	readmodeltest.Run(t, func(*testing.T) port.Store { return s })
}

// benchDocs is the size of the audit read model the benchmarks model: a million events.
const benchDocs = 1_000_000

func BenchmarkRebuild(b *testing.B) { readmodeltest.BenchRebuild(b, open(b), benchDocs) }

func BenchmarkFindEq(b *testing.B) { readmodeltest.BenchFindEq(b, open(b), benchDocs) }
