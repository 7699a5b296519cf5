package readmodel_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	port "yorozu/projections/readmodel"
	"yorozu/projections/readmodel/readmodeltest"
)

func TestScratchIndex(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("SCRATCH_I"))
	if n == 0 {
		t.Skip()
	}
	ctx := context.Background()
	s := open(t)
	readmodeltest.Fill(t, s, n)
	q := port.Query{Collection: "events", Where: []port.Cond{{Field: "customerNumber", Op: port.Eq, Value: "N000000007"}}}
	run := func(label string) {
		for i := 0; i < 8; i++ {
			start := time.Now()
			p, err := s.Find(ctx, "audit", q)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s run %d: %d docs in %v", label, i, len(p.Docs), time.Since(start))
		}
	}
	run("no index")
	if _, err := scratchPool.Exec(ctx, `CREATE INDEX rm_audit_customer ON rm_docs ((doc->>'customerNumber'), seq) WHERE projection = 'audit' AND collection = 'events'`); err != nil {
		t.Fatal(err)
	}
	scratchPool.Exec(ctx, "ANALYZE rm_docs")
	run("index")
}
