package postgres_test
import ("context";"testing";"time";"fmt";"syscall";"os";"strings";"strconv";"github.com/google/uuid";"yorozu/adapters/eventstore/postgres";"yorozu/domain/event")
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
