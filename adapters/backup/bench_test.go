package backup_test

// Run with:
//
//	go test ./adapters/backup -run '^$' -bench . -benchtime 1x
//
// YOROZU_BENCH_EVENTS sets the size of the log (default 1,000,000 events). Each benchmark loads
// its source store first (by Import, not timed); PostgreSQL runs on a throwaway cluster (pgtest).

import (
	"context"
	"os"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"syscall"
	"testing"
	"time"

	"yorozu/adapters/backup"
	"yorozu/adapters/eventstore/bolt"
	pgevents "yorozu/adapters/eventstore/postgres"
	"yorozu/adapters/eventstore/storetest"
	"yorozu/adapters/postgres/pgtest"
	"yorozu/domain/event"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func benchEvents() int {
	if n, err := strconv.Atoi(os.Getenv("YOROZU_BENCH_EVENTS")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}

// fixtureStore makes an embedded store of benchEvents() events (by Import, not timed).
func fixtureStore(b *testing.B) *bolt.Store {
	b.Helper()
	b.StopTimer()
	defer b.StartTimer()
	s, err := bolt.OpenDir(b.TempDir(), bolt.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	n := benchEvents()
	if err := s.Import(context.Background(), event.Position(n), storetest.SyntheticLog(n)); err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkEmbedded backs up an embedded store of benchEvents() events, verifies the file, and
// restores it into a new embedded store, each timed on its own.
func BenchmarkEmbedded(b *testing.B) {
	src := fixtureStore(b)
	backupT, verifyT, restoreT := phase{name: "backup"}, phase{name: "verify"}, phase{name: "restore"}
	var sum backup.Summary
	for i := 0; i < b.N; i++ {
		var err error
		backupT.run(func() {
			sum, err = backup.Create(context.Background(), src, backup.CreateOptions{Dir: b.TempDir(), Engine: backup.EngineEmbedded})
		})
		if err != nil {
			b.Fatal(err)
		}
		verifyT.run(func() { _, err = backup.Verify(context.Background(), sum.File) })
		if err != nil {
			b.Fatal(err)
		}
		dst, err := bolt.OpenDir(b.TempDir(), bolt.Options{})
		if err != nil {
			b.Fatal(err)
		}
		restoreT.run(func() { _, err = backup.Restore(context.Background(), sum.File, dst, backup.RestoreOptions{}) })
		if err != nil {
			b.Fatal(err)
		}
		dst.Close()
	}
	fi, _ := os.Stat(sum.File)
	b.ReportMetric(float64(fi.Size())/float64(sum.Events), "file-bytes/event")
	backupT.report(b, sum.Events*b.N)
	verifyT.report(b, sum.Events*b.N)
	restoreT.report(b, sum.Events*b.N)
}

// BenchmarkPostgres restores a backup of benchEvents() events into a fresh PostgreSQL database,
// then backs that database up, each timed on its own. The CPU figures are this process's only,
// not the server's.
func BenchmarkPostgres(b *testing.B) {
	src := fixtureStore(b)
	b.StopTimer()
	sum, err := backup.Create(context.Background(), src, backup.CreateOptions{Dir: b.TempDir(), Engine: backup.EngineEmbedded})
	if err != nil {
		b.Fatal(err)
	}
	b.StartTimer()
	restoreT, backupT := phase{name: "restore"}, phase{name: "backup"}
	for i := 0; i < b.N; i++ {
		s, err := pgevents.Open(context.Background(), pgtest.NewDatabase(b), pgevents.Options{Migrate: true})
		if err != nil {
			b.Fatal(err)
		}
		restoreT.run(func() { _, err = backup.Restore(context.Background(), sum.File, s, backup.RestoreOptions{}) })
		if err != nil {
			b.Fatal(err)
		}
		backupT.run(func() {
			_, err = backup.Create(context.Background(), s, backup.CreateOptions{Dir: b.TempDir(), Engine: backup.EnginePostgres})
		})
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
	restoreT.report(b, sum.Events*b.N)
	backupT.report(b, sum.Events*b.N)
}

// phase measures one timed step: its wall-clock time and the CPU time of the whole process
// (user and system, all threads), which other processes on the machine do not inflate.
type phase struct {
	name          string
	wall, cpu, gc time.Duration
}

// gcTime is the CPU time the garbage collector has used so far.
func gcTime() time.Duration {
	s := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}}
	metrics.Read(s)
	return time.Duration(s[0].Value.Float64() * float64(time.Second))
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func (p *phase) run(fn func()) {
	start, cpu, gc := time.Now(), cpuTime(), gcTime()
	// Labelled for CPU profiles: go tool pprof -tagfocus phase=restore
	pprof.Do(context.Background(), pprof.Labels("phase", p.name), func(context.Context) { fn() })
	p.wall += time.Since(start)
	p.cpu += cpuTime() - cpu
	p.gc += gcTime() - gc
}

func (p phase) report(b *testing.B, events int) {
	b.ReportMetric(float64(events)/p.wall.Seconds(), p.name+"-events/s")
	b.ReportMetric(float64(p.cpu.Microseconds())/float64(events), p.name+"-cpu-µs/event")
	b.ReportMetric(float64(p.gc.Microseconds())/float64(events), p.name+"-gc-µs/event")
}
