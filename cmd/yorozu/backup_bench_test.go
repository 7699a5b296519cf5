package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"yorozu/adapters/eventstore/bolt"
	"yorozu/adapters/eventstore/storetest"
	"yorozu/adapters/postgres/pgtest"
	"yorozu/domain/event"
)

// BenchmarkCLIBackupRestore times the binary as an operator runs it, on a store of
// YOROZU_BENCH_EVENTS events (default 1,000,000; loaded by Import, not timed):
//
//	go test ./cmd/yorozu -run '^$' -bench CLIBackupRestore -benchtime 1x
//
// `yorozu backup --data DIR`, `yorozu restore FILE --data NEW` and `yorozu restore FILE
// --postgres URL`, each reported as events per second of wall-clock time and as CPU time of the
// yorozu process per event (user + system; the PostgreSQL server's own work is not in it), which
// other load on the machine inflates far less than the wall-clock time.
func BenchmarkCLIBackupRestore(b *testing.B) {
	n := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("YOROZU_BENCH_EVENTS")); err == nil && v > 0 {
		n = v
	}
	dir := b.TempDir()
	bin := filepath.Join(dir, "yorozu")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	data := filepath.Join(dir, "data")
	s, err := bolt.OpenDir(data, bolt.Options{})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Import(context.Background(), event.Position(n), storetest.SyntheticLog(n)); err != nil {
		b.Fatal(err)
	}
	s.Close()

	run := func(name string, args ...string) ([]byte, time.Duration, time.Duration) {
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		start := time.Now()
		out, err := cmd.Output()
		wall := time.Since(start)
		if err != nil {
			b.Fatalf("yorozu %s: %v\n%s", name, err, out)
		}
		return out, wall, cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	report := func(name string, wall, cpu time.Duration) {
		b.ReportMetric(float64(n*b.N)/wall.Seconds(), name+"-events/s")
		b.ReportMetric(float64(cpu.Microseconds())/float64(n*b.N), name+"-cpu-µs/event")
	}
	var backupWall, backupCPU, restoreWall, restoreCPU, pgWall, pgCPU time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out, wall, cpu := run("backup", "backup", "--data", data)
		backupWall, backupCPU = backupWall+wall, backupCPU+cpu
		var sum struct {
			File   string
			Events int
		}
		if err := json.Unmarshal(out, &sum); err != nil || sum.Events != n {
			b.Fatalf("backup printed %s", out)
		}
		_, wall, cpu = run("restore", "restore", sum.File, "--data", filepath.Join(dir, fmt.Sprintf("restored-%d", i)))
		restoreWall, restoreCPU = restoreWall+wall, restoreCPU+cpu
		_, wall, cpu = run("restore --postgres", "restore", sum.File, "--postgres", pgtest.NewDatabase(b))
		pgWall, pgCPU = pgWall+wall, pgCPU+cpu
	}
	b.StopTimer()
	report("backup", backupWall, backupCPU)
	report("restore", restoreWall, restoreCPU)
	report("restore-pg", pgWall, pgCPU)
}
