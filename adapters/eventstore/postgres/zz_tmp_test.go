package postgres_test
import ("context";"testing";"time";"fmt";"syscall";"path/filepath";"yorozu/adapters/postgres/pgtest";"sync";"os";"strings";"strconv";"github.com/google/uuid";"yorozu/adapters/eventstore/postgres";"yorozu/domain/event")
func cpu() time.Duration { var r syscall.Rusage; syscall.Getrusage(syscall.RUSAGE_SELF, &r); return time.Duration(r.Utime.Nano()+r.Stime.Nano()) }
var pgAcc int64
var pgSeen = map[string]int64{}
func pgcpu() time.Duration {
	var total int64
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil { continue }
		str := string(b)
		if !strings.Contains(str, "(postgres)") { continue }
		f := strings.Fields(str[strings.LastIndex(str, ")")+2:])
		u, _ := strconv.ParseInt(f[11], 10, 64); sy, _ := strconv.ParseInt(f[12], 10, 64)
		id := e.Name() + f[19]
		total += u + sy - pgSeen[id]
		pgSeen[id] = u + sy
	}
	pgAcc += total
	return time.Duration(pgAcc) * 10 * time.Millisecond
}
func TestZZWrite(t *testing.T) {
	s, _ := open(t, postgres.Options{})
	ctx := context.Background()
	for _, c := range []struct{writers, size, n int}{{32, 1, 300}, {8, 100, 100}, {32, 1, 300}, {8, 100, 100}} {
		var wg sync.WaitGroup
		t0 := time.Now(); c0 := cpu(); p0 := pgcpu()
		for w := 0; w < c.writers; w++ {
			wg.Go(func() {
				st := fmt.Sprintf("order-%d-%s", w, uuid.NewString())
				for i := 0; i < c.n; i++ {
					if _, err := s.Append(ctx, st, event.Any(), benchDrafts(c.size, i, time.Now())); err != nil { t.Error(err); return }
				}
			})
		}
		wg.Wait()
		el := time.Since(t0)
		ev := c.writers*c.size*c.n
		gc, pc := cpu()-c0, pgcpu()-p0
		t.Logf("writers %d size %d: %.0f events/s wall; per event go %.1fµs pg %.1fµs => cpu-bound estimate on 2 idle cores %.0f/s", c.writers, c.size, float64(ev)/el.Seconds(), float64(gc.Nanoseconds())/1e3/float64(ev), float64(pc.Nanoseconds())/1e3/float64(ev), 2/((gc+pc).Seconds()/float64(ev)))
	}
}
func TestZZSingleLog(t *testing.T) {
	s, _ := open(t, postgres.Options{})
	ctx := context.Background()
	s.Pool().Exec(ctx, "ALTER SYSTEM SET log_min_duration_statement = 0")
	s.Pool().Exec(ctx, "ALTER SYSTEM SET log_parameter_max_length = 0")
	s.Pool().Exec(ctx, "SELECT pg_reload_conf()")
	time.Sleep(100*time.Millisecond)
	var wg sync.WaitGroup
	t0 := time.Now()
	for w := 0; w < 32; w++ {
		wg.Go(func() {
			st := fmt.Sprintf("order-%d-%s", w, uuid.NewString())
			for i := 0; i < 100; i++ {
				if _, err := s.Append(ctx, st, event.Any(), benchDrafts(1, i, time.Now())); err != nil { t.Error(err); return }
			}
		})
	}
	wg.Wait()
	t.Log("wall", time.Since(t0))
	s.Pool().Exec(ctx, "ALTER SYSTEM RESET ALL")
	s.Pool().Exec(ctx, "SELECT pg_reload_conf()")
	b, _ := os.ReadFile(filepath.Join(pgtest.Start(t).Dir, "postgres.log"))
	for _, l := range strings.Split(string(b), "\n") { if strings.Contains(l, "duration") { if len(l) > 160 { l = l[:160] }; fmt.Println(l) } }
}
func TestZZRead(t *testing.T) {
	s, _ := open(t, postgres.Options{})
	ctx := context.Background()
	t0 := time.Now(); c0 := cpu(); p0 := pgcpu()
	for i := 0; i < 20; i++ {
		st, at := fmt.Sprintf("order-%s", uuid.NewString()), benchStart.Add(time.Duration(i)*time.Minute)
		if i%5 == 4 { st, at = fmt.Sprintf("telemetry-%s", uuid.NewString()), benchStart.AddDate(0, 0, i%3) }
		if _, err := s.Append(ctx, st, event.NoStream(), benchDrafts(10000, i*10000, at)); err != nil { t.Fatal(err) }
	}
	t.Logf("fill: wall %v go-cpu %v pg-cpu %v", time.Since(t0), cpu()-c0, pgcpu()-p0)
	s.Pool().Exec(ctx, "VACUUM ANALYZE events")
	for round := 0; round < 3; round++ {
		t0, c0, p0 = time.Now(), cpu(), pgcpu()
		var after event.Position; n := 0
		for { recs, err := s.ReadAll(ctx, after, 1000); if err != nil { t.Fatal(err) }; if len(recs) == 0 { break }; n += len(recs); after = recs[len(recs)-1].Position }
		el := time.Since(t0)
		t.Logf("read %d: wall %v (%.0f/s) go-cpu %v (%.2fµs/event) pg-cpu %v", n, el, float64(n)/el.Seconds(), cpu()-c0, float64((cpu()-c0).Microseconds())/float64(n), pgcpu()-p0)
	}
}
