package readmodel_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestScratchVariants(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("SCRATCH_V"))
	if n == 0 {
		t.Skip()
	}
	ctx := context.Background()
	_ = open(t)
	pool := scratchPool
	var backend int
	pool.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&backend)
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(backend) + "/stat")
	st := string(b)
	f := strings.Fields(st[strings.LastIndexByte(st, ')')+2:])
	postmaster, _ := strconv.Atoi(f[1])

	docs := make([]string, 500)
	ids := make([]string, 500)
	cols := make([]string, 500)
	variants := map[string]string{
		"upsert_text": `INSERT INTO rm_docs (projection, collection, id, doc)
SELECT $1, x.collection, x.id, x.doc::jsonb
FROM unnest($2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS x(collection, id, doc, n)
ORDER BY x.n
ON CONFLICT (projection, collection, id) DO UPDATE SET doc = EXCLUDED.doc`,
		"upsert_noorder": `INSERT INTO rm_docs (projection, collection, id, doc)
SELECT $1, x.collection, x.id, x.doc::jsonb
FROM unnest($2::text[], $3::text[], $4::text[]) AS x(collection, id, doc)
ON CONFLICT (projection, collection, id) DO UPDATE SET doc = EXCLUDED.doc`,
		"insert_plain": `INSERT INTO rm_docs (projection, collection, id, doc)
SELECT $1, x.collection, x.id, x.doc::jsonb
FROM unnest($2::text[], $3::text[], $4::text[]) AS x(collection, id, doc)`,
	}
	for _, name := range strings.Split(os.Getenv("SCRATCH_VARIANTS"), ",") {
		sqlText := variants[name]
		proj := "p_" + name
		pg0, w0 := pgCPU(t, postmaster), time.Now()
		for u := 0; u < n/500; u++ {
			for i := range docs {
				k := u*500 + i
				line := map[string]any{"eventId": fmt.Sprintf("e%012d", k), "type": "TelemetryReceived", "stream": "terminal-" + strconv.Itoa(k%20000),
					"streamVersion": k / 20000, "position": k, "customerNumber": fmt.Sprintf("N%09d", k%20000), "actor": "system", "recordedAt": "2025-07-01T00:00:00Z"}
				bb, _ := json.Marshal(line)
				docs[i], ids[i], cols[i] = string(bb), fmt.Sprintf("e%012d", k), "events"
			}
			err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
				if os.Getenv("SCRATCH_ASYNC") != "" {
					tx.Exec(ctx, "SET LOCAL synchronous_commit TO off")
				}
				_, err := tx.Exec(ctx, sqlText, proj, cols, ids, docs)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("%s: n=%d wall=%v pgCPU=%v", name, n, time.Since(w0), pgCPU(t, postmaster)-pg0)
	}
}
