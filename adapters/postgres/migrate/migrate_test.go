package migrate_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"yorozu/adapters/postgres/migrate"
	"yorozu/adapters/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestMigrationsAreNumberedInOrder(t *testing.T) {
	ms, err := migrate.All()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 || ms[0].Version != 1 {
		t.Fatal("the first migration is not 0001")
	}
	for i := 1; i < len(ms); i++ {
		if ms[i].Version <= ms[i-1].Version {
			t.Fatalf("migration %04d_%s follows %04d_%s", ms[i].Version, ms[i].Name, ms[i-1].Version, ms[i-1].Name)
		}
	}
}

func TestUpCreatesTheSchemaOnce(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	if err := migrate.Up(ctx, pool); err != nil {
		t.Fatal(err)
	}
	if err := migrate.Up(ctx, pool); err != nil {
		t.Fatalf("second Up: %v", err)
	}
	for _, table := range []string{"events", "events_plain", "events_timed", "event_streams", "projection_checkpoints"} {
		var ok bool
		if err := pool.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", table).Scan(&ok); err != nil || !ok {
			t.Errorf("table %s missing after Up (%v)", table, err)
		}
	}
	ms, _ := migrate.All()
	applied, err := migrate.Applied(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) != len(ms) || applied[len(applied)-1] != ms[len(ms)-1].Version {
		t.Fatalf("applied %v, want all %d migrations", applied, len(ms))
	}
}

func TestReplicasStartingTogetherMigrateOnce(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() { errs[i] = migrate.Up(ctx, pool) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	applied, _ := migrate.Applied(ctx, pool)
	ms, _ := migrate.All()
	if len(applied) != len(ms) || !slices.IsSorted(applied) {
		t.Fatalf("applied %v after concurrent Up", applied)
	}
}

func TestAppliedOnAnEmptyDatabaseIsEmpty(t *testing.T) {
	applied, err := migrate.Applied(context.Background(), pgtest.NewPool(t))
	if err != nil || len(applied) != 0 {
		t.Fatalf("Applied = %v, %v on a fresh database", applied, err)
	}
}
