package httpx_test

import (
	"testing"

	"yorozu/api/httpx"
	"yorozu/api/httpx/idempotencytest"
)

func TestMemoryIdempotencyStore(t *testing.T) {
	idempotencytest.Run(t, func(*testing.T) httpx.IdempotencyStore { return httpx.NewMemoryIdempotencyStore(nil) })
}
