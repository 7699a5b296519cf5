package memory_test

import (
	"testing"

	"yorozu/adapters/readmodel/memory"
	"yorozu/projections/readmodel"
	"yorozu/projections/readmodel/readmodeltest"
)

func TestConformance(t *testing.T) {
	readmodeltest.Run(t, func(*testing.T) readmodel.Store { return memory.New() })
}

// benchDocs is the size of the audit read model the benchmarks model: a million events.
const benchDocs = 1_000_000

func BenchmarkRebuild(b *testing.B) { readmodeltest.BenchRebuild(b, memory.New(), benchDocs) }

func BenchmarkFindEq(b *testing.B) { readmodeltest.BenchFindEq(b, memory.New(), benchDocs) }
