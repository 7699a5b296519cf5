package commands

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"yorozu/domain/access"
)

// ErrBusy: too many password checks are running and waiting already; retry shortly. The API
// answers 429 with Retry-After.
var ErrBusy = errors.New("commands: too many password checks at once; retry shortly")

// Password hashing defaults. An argon2id hash holds its memory cost (64 MiB for staff
// passwords) while it runs, and the Go heap, which is collected when it has doubled, can hold
// about as much again in finished hashes before the collector runs: the budget's peak in the
// heap is about twice the budget. 192 MiB is three staff hashes at once (a peak near 400 MB),
// which keeps the two cores of a small server busy; more at once only take longer each.
const (
	DefaultHashingBudgetKiB = 192 * 1024
	DefaultHashingQueue     = 64
	DefaultHashingWait      = 5 * time.Second
)

// HashingConfig bounds the memory that password hashing takes. Zero fields mean the defaults.
type HashingConfig struct {
	// BudgetKiB is the memory that hashes running at once may hold together; it allows
	// BudgetKiB / (the memory cost of a staff hash) of them, at least one.
	BudgetKiB uint32
	// Queue is how many more may wait for their turn; beyond it a request is refused at once
	// with ErrBusy.
	Queue int
	// Wait is how long one waits at most before it is refused with ErrBusy.
	Wait time.Duration
}

// PasswordHashing runs the argon2id computations of logins and password changes a few at a
// time (see HashingConfig), so that a burst of logins cannot take the server's memory: the
// excess waits its turn, briefly, or is refused with ErrBusy. Safe for concurrent use; one per
// process.
type PasswordHashing struct {
	slots   chan struct{}
	queue   int64
	wait    time.Duration
	waiting atomic.Int64
	hashed  atomic.Uint64
	refused atomic.Uint64
}

// NewPasswordHashing sizes the budget for hashes of cost params (the staff password cost).
func NewPasswordHashing(cfg HashingConfig, params access.PasswordParams) *PasswordHashing {
	if cfg.BudgetKiB == 0 {
		cfg.BudgetKiB = DefaultHashingBudgetKiB
	}
	if cfg.Queue <= 0 {
		cfg.Queue = DefaultHashingQueue
	}
	if cfg.Wait <= 0 {
		cfg.Wait = DefaultHashingWait
	}
	cost := params.MemoryKiB
	if cost == 0 {
		cost = access.DefaultPasswordParams.MemoryKiB
	}
	slots := max(1, int(cfg.BudgetKiB/cost))
	return &PasswordHashing{slots: make(chan struct{}, slots), queue: int64(cfg.Queue), wait: cfg.Wait}
}

// HashingStats is what /metrics shows of the hashing budget.
type HashingStats struct {
	Slots, Running, Waiting int
	Hashed, Refused         uint64
}

// Stats reports the budget's state.
func (h *PasswordHashing) Stats() HashingStats {
	return HashingStats{Slots: cap(h.slots), Running: len(h.slots), Waiting: int(h.waiting.Load()),
		Hashed: h.hashed.Load(), Refused: h.refused.Load()}
}

// acquire takes a slot, waiting in line (first come, first served) for at most the configured
// wait; a full line or the end of the wait is ErrBusy.
func (h *PasswordHashing) acquire(ctx context.Context) error {
	select {
	case h.slots <- struct{}{}:
		return nil
	default:
	}
	if h.waiting.Add(1) > h.queue {
		h.waiting.Add(-1)
		h.refused.Add(1)
		return ErrBusy
	}
	defer h.waiting.Add(-1)
	timer := time.NewTimer(h.wait)
	defer timer.Stop()
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-timer.C:
		h.refused.Add(1)
		return ErrBusy
	case <-ctx.Done():
		return ctx.Err()
	}
}

// KeyFunc returns the access.KeyFunc one use-case call hashes with: each hash takes a slot of
// the budget, and a hash the call already computed (the same password, salt and cost: a
// decision made again after a concurrent change) is not computed again.
func (h *PasswordHashing) KeyFunc(ctx context.Context) access.KeyFunc {
	var mu sync.Mutex
	done := map[string][]byte{}
	return func(password, salt []byte, p access.PasswordParams, keyLen uint32) ([]byte, error) {
		memo := fmt.Sprintf("%d,%d,%d,%d\x00%s\x00%s", p.MemoryKiB, p.Iterations, p.Parallelism, keyLen, salt, password)
		mu.Lock()
		k, ok := done[memo]
		mu.Unlock()
		if ok {
			return k, nil
		}
		if err := h.acquire(ctx); err != nil {
			return nil, err
		}
		k, err := access.IDKey(password, salt, p, keyLen)
		<-h.slots
		h.hashed.Add(1)
		if err != nil {
			return nil, err
		}
		mu.Lock()
		done[memo] = k
		mu.Unlock()
		return k, nil
	}
}
