package api_test

import (
	"testing"

	"yorozu/adapters/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }
