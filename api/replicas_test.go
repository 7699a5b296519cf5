package api_test

import (
	"testing"
	"time"

	"yorozu/adapters/postgres/pgtest"
	"yorozu/cmd/yorozu/app/apptest"
)

// Two replicas on one PostgreSQL database both run every projection. Each unit of work commits
// only where the stored checkpoint says the last one ended, so the replicas share the work and
// no event is applied twice (an order's events applied twice would show a higher version).
func TestReplicasProjectEachEventOnce(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	a := apptest.Start(t, apptest.Postgres, apptest.Options{PostgresURL: dsn})
	b := apptest.Start(t, apptest.Postgres, apptest.Options{PostgresURL: dsn})
	tokA := a.StaffToken("replica-a", "operator")

	const n = 20
	ids := make([]string, n)
	for i := range ids {
		ids[i] = submit(t, a, tokA, form(t, "new", map[string]any{"appliedOn": "2025/7/1", "desiredDate": "2025/7/1"}))
		must(t, a.Do("POST", "/api/v1/orders/"+ids[i]+"/accept", tokA, map[string]string{"acceptedAt": "2025-07-01T10:00:00+09:00"}), 200)
	}
	// Replica b reads the same read models; wait until its runner has seen the log too.
	tokB := b.Login(b.AddStaff("replica-b", "operator"))
	deadline := time.Now().Add(20 * time.Second)
	for _, id := range ids {
		for {
			r := b.Do("GET", "/api/v1/orders/"+id, tokB, nil)
			if r.Status == 200 {
				var o orderBody
				r.JSON(t, &o)
				if o.Version != 2 || o.Status != "accepted" {
					t.Fatalf("order %s as replica b shows it: version %d status %s (applied twice?)", id, o.Version, o.Status)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("replica b never saw order %s: %d %s", id, r.Status, r.Body)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	var q struct{ Items []orderBody }
	must(t, a.Do("GET", "/api/v1/orders?limit=1000", tokA, nil), 200).JSON(t, &q)
	if len(q.Items) != n {
		t.Fatalf("%d orders in the queue, want %d", len(q.Items), n)
	}
}
