package agentsim

import (
	"bytes"
	"encoding/json"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"yorozu/domain/telemetry"
)

// A simulated batch is the realistic size the service is sized for (about 170 records, about
// 25 KB of JSON) and every record of it is accepted by the service's own rules.
func TestBatchesAreRealisticAndValid(t *testing.T) {
	s := New(Config{URL: "http://x", EnrollmentToken: "t", Terminals: 1})
	term := &Terminal{rng: rand.New(rand.NewPCG(1, 2))}
	var sizes []int
	for i := range 20 {
		b := s.makeBatch(term)
		zr, err := gzip.NewReader(bytes.NewReader(b.gz))
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(zr)
		sizes = append(sizes, len(raw))
		got, err := telemetry.DecodeUpload(raw, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if got.Dropped != (telemetry.Dropped{}) || len(got.Accepted) != b.records {
			t.Fatalf("batch %d: %d of %d accepted, dropped %+v", i, len(got.Accepted), b.records, got.Dropped)
		}
		if (i == 0) != (got.Inventory != nil) {
			t.Fatalf("batch %d: inventory %v", i, got.Inventory != nil)
		}
		if b.records < 165 || b.records > 180 {
			t.Fatalf("batch %d holds %d records", i, b.records)
		}
		var m map[string]any
		_ = json.Unmarshal(raw, &m)
	}
	for _, n := range sizes[1:] {
		if n < 18_000 || n > 34_000 {
			t.Fatalf("batch sizes %v, want about 25 KB", sizes)
		}
	}
	t.Logf("sizes %v", sizes)
}
