package readmodeltest

import (
	"testing"

	"yorozu/projections/readmodel"
)

func Fill(tb testing.TB, s readmodel.Store, n int) { fill(tb, s, n) }
