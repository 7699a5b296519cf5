// Package catchup turns an adapter's ReadAll into a catch-up-then-live subscription: read pages
// until the log is exhausted, then wait for a commit signal (or a poll tick, for commits made by
// another process) and read again. Adapters with a native subscription (EventStoreDB) need not
// use it.
package catchup

import (
	"context"
	"sync"
	"time"

	"yorozu/domain/event"
)

// PageSize is how many events one read fetches.
const PageSize = 1000

// Reader is the part of a store a subscription needs.
type Reader interface {
	ReadAll(ctx context.Context, after event.Position, limit int) ([]event.Record, error)
}

// Signal wakes every waiting subscriber when something committed. The zero value is ready to use.
type Signal struct {
	mu sync.Mutex
	ch chan struct{}
}

// Wait returns a channel closed by the next Notify. Take it before reading, so that a commit
// between the read and the wait is not missed.
func (s *Signal) Wait() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}

// Notify wakes all current waiters.
func (s *Signal) Notify() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch != nil {
		close(s.ch)
		s.ch = nil
	}
}

// Subscribe calls fn for each event after `after`, first the stored ones, then live ones. poll
// bounds how long a commit by another process can go unnoticed; 0 means only the signal wakes it.
func Subscribe(ctx context.Context, r Reader, sig *Signal, poll time.Duration, after event.Position, fn func(event.Record) error) error {
	var tick <-chan time.Time
	if poll > 0 {
		t := time.NewTicker(poll)
		defer t.Stop()
		tick = t.C
	}
	for {
		wake := sig.Wait()
		recs, err := r.ReadAll(ctx, after, PageSize)
		if err != nil {
			return err
		}
		for _, rec := range recs {
			if err := fn(rec); err != nil {
				return err
			}
			after = rec.Position
		}
		if len(recs) == PageSize {
			if err := ctx.Err(); err != nil {
				return err
			}
			continue
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wake:
		case <-tick:
		}
	}
}
