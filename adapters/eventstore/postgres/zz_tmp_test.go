package postgres_test
import ("context";"testing";"time";"sync";"os";"fmt";"path/filepath";"github.com/google/uuid";"yorozu/adapters/eventstore/postgres";"yorozu/adapters/postgres/pgtest";"yorozu/domain/event")
func TestZZSingle(t *testing.T) {
	s, _ := open(t, postgres.Options{})
	ctx := context.Background()
	s.Pool().Exec(ctx, "ALTER SYSTEM SET log_min_duration_statement = 3")
	s.Pool().Exec(ctx, "SELECT pg_reload_conf()")
	var wg sync.WaitGroup
	t0 := time.Now()
	for w := 0; w < 32; w++ {
		wg.Go(func() {
			st := fmt.Sprintf("order-%d-%s", w, uuid.NewString())
			for i := 0; i < 200; i++ {
				if _, err := s.Append(ctx, st, event.Any(), benchDrafts(1, i, time.Now())); err != nil { t.Error(err); return }
			}
		})
	}
	wg.Wait()
	t.Log("total", time.Since(t0))
	b, _ := os.ReadFile(filepath.Join(pgtest.Start(t).Dir, "postgres.log"))
	if len(b) > 6000 { b = b[len(b)-6000:] }
	t.Log(string(b))
}
