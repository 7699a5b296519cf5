package readmodel_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"github.com/jackc/pgx/v5/pgxpool"
	"time"

	"yorozu/projections/readmodel/readmodeltest"
)

func pgCPU(t *testing.T, postmaster int) time.Duration {
	entries, _ := os.ReadDir("/proc")
	var total int64
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		ppid, _ := strconv.Atoi(f[1])
		if pid == postmaster || ppid == postmaster {
			u, _ := strconv.ParseInt(f[11], 10, 64)
			st, _ := strconv.ParseInt(f[12], 10, 64)
			total += u + st
		}
	}
	return time.Duration(total) * 10 * time.Millisecond
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestScratchCPU(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("SCRATCH_N"))
	if n == 0 {
		t.Skip()
	}
	s := open(t)
	pool := scratchPool
	var backend int
	pool.QueryRow(context.Background(), "SELECT pg_backend_pid()").Scan(&backend)
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(backend) + "/stat")
	st := string(b)
	f := strings.Fields(st[strings.LastIndexByte(st, ')')+2:])
	postmaster, _ := strconv.Atoi(f[1])
	if ddl := os.Getenv("SCRATCH_DDL"); ddl != "" {
		if _, err := pool.Exec(context.Background(), ddl); err != nil {
			t.Fatal(err)
		}
	}
	pg0, go0, w0 := pgCPU(t, postmaster), selfCPU(), time.Now()
	readmodeltest.Fill(t, s, n)
	pg1, go1, w1 := pgCPU(t, postmaster), selfCPU(), time.Now()
	t.Logf("n=%d wall=%v pgCPU=%v goCPU=%v", n, w1.Sub(w0), pg1-pg0, go1-go0)
}

var scratchPool *pgxpool.Pool
