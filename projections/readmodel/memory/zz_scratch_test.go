package memory_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"

	"yorozu/projections/readmodel"
	"yorozu/projections/readmodel/memory"
	"yorozu/projections/readmodel/readmodeltest"
)

func threadCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestScratchFind(t *testing.T) {
	if os.Getenv("SCRATCH") == "" {
		t.Skip()
	}
	s := memory.New()
	c0, w0 := threadCPU(), time.Now()
	runtime.LockOSThread()
	c0 = threadCPU()
	readmodeltest.Fill(t, s, 1_000_000)
	t.Logf("fill: wall %v thread cpu %v", time.Since(w0), threadCPU()-c0)
	ctx := context.Background()
	for i := 0; i < 12; i++ {
		q := readmodel.Query{Collection: "events", Where: []readmodel.Cond{{Field: "customerNumber", Op: readmodel.Eq, Value: fmt.Sprintf("N%09d", i*17)}}}
		if i >= 8 {
			q = readmodel.Query{Collection: "events", OrderBy: "recordedAt", Desc: true, Where: []readmodel.Cond{{Field: "actor", Op: readmodel.Eq, Value: "system"}}}
		}
		if i >= 10 {
			q = readmodel.Query{Collection: "events", AnyOf: []readmodel.Cond{{Field: "stream", Op: readmodel.Contains, Value: "TERMINAL-1234"}}}
		}
		c0, w0 := threadCPU(), time.Now()
		p, err := s.Find(ctx, "audit", q)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("find %d: %d docs wall %v thread cpu %v", i, len(p.Docs), time.Since(w0), threadCPU()-c0)
	}
}
