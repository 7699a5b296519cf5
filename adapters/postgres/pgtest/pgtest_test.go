package pgtest_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"yorozu/adapters/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestEachTestGetsItsOwnDatabase(t *testing.T) {
	ctx := context.Background()
	a := pgtest.NewPool(t)
	b := pgtest.NewPool(t)
	if _, err := a.Exec(ctx, "CREATE TABLE only_in_a (x int)"); err != nil {
		t.Fatal(err)
	}
	var found bool
	if err := b.QueryRow(ctx, "SELECT to_regclass('only_in_a') IS NOT NULL").Scan(&found); err != nil {
		t.Fatal(err)
	}
	if found {
		t.Fatal("a table created in one test database is visible in another")
	}
}

func TestClusterKeepsDurabilityOn(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	for setting, want := range map[string]string{"fsync": "on", "synchronous_commit": "on", "max_connections": "200"} {
		var got string
		if err := pool.QueryRow(ctx, "SELECT current_setting($1)", setting).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s = %s, want %s", setting, got, want)
		}
	}
}

func TestClusterListensOnTCP(t *testing.T) {
	ctx := context.Background()
	c := pgtest.Start(t)
	conn, err := pgx.Connect(ctx, c.TCPDSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var one int
	if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("SELECT 1 over TCP = %d, %v", one, err)
	}
}
