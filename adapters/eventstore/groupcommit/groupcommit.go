// Package groupcommit batches concurrent appends into one storage transaction. One writer at a
// time makes positions follow commit order (no reader can skip a late-committing event), and
// many appends per transaction share one fsync, which is what makes a durable store fast.
package groupcommit

import (
	"context"
	"sync"

	"yorozu/domain/event"
)

// Append is one caller's request inside a batch. The commit function sets Result or Err on each.
type Append struct {
	Stream   string
	Expected event.ExpectedVersion
	Drafts   []event.Draft

	Result event.AppendResult
	Err    error
	done   chan struct{}
}

// CommitFunc stores a batch in one transaction. It sets Err on appends it refuses (concurrency,
// duplicates) and stores the others; if the transaction itself fails it returns the error, and
// every append without its own Err gets it.
type CommitFunc func(batch []*Append) error

// Writer runs the single writer loop.
type Writer struct {
	commit   CommitFunc
	maxBatch int
	reqs     chan *Append
	quit     chan struct{}
	wg       sync.WaitGroup
	once     sync.Once
	closedMu sync.RWMutex
	closed   bool
}

// New starts a writer that gathers up to maxBatch waiting appends per transaction.
func New(commit CommitFunc, maxBatch int) *Writer {
	if maxBatch <= 0 {
		maxBatch = 256
	}
	w := &Writer{commit: commit, maxBatch: maxBatch, reqs: make(chan *Append, maxBatch), quit: make(chan struct{})}
	w.wg.Add(1)
	go w.loop()
	return w
}

// Do submits one append and waits until its batch committed (or failed).
func (w *Writer) Do(ctx context.Context, a *Append) error {
	a.done = make(chan struct{})
	w.closedMu.RLock()
	if w.closed {
		w.closedMu.RUnlock()
		return event.ErrClosed
	}
	select {
	case w.reqs <- a:
	case <-ctx.Done():
		w.closedMu.RUnlock()
		return ctx.Err()
	}
	w.closedMu.RUnlock()
	// Once queued, the append is committed or refused regardless of ctx: the caller must learn
	// which, or an acknowledged-looking timeout could hide a stored event.
	<-a.done
	return a.Err
}

// Close stops accepting appends, finishes those queued and stops the loop.
func (w *Writer) Close() {
	w.once.Do(func() {
		w.closedMu.Lock()
		w.closed = true
		close(w.quit)
		w.closedMu.Unlock()
	})
	w.wg.Wait()
}

func (w *Writer) loop() {
	defer w.wg.Done()
	batch := make([]*Append, 0, w.maxBatch)
	for {
		var first *Append
		select {
		case first = <-w.reqs:
		case <-w.quit:
			// Drain what was queued before Close.
			for {
				select {
				case a := <-w.reqs:
					w.run([]*Append{a})
				default:
					return
				}
			}
		}
		batch = append(batch[:0], first)
	gather:
		for len(batch) < w.maxBatch {
			select {
			case a := <-w.reqs:
				batch = append(batch, a)
			default:
				break gather
			}
		}
		w.run(batch)
	}
}

func (w *Writer) run(batch []*Append) {
	if err := w.commit(batch); err != nil {
		for _, a := range batch {
			if a.Err == nil {
				a.Err = err
			}
		}
	}
	for _, a := range batch {
		close(a.done)
	}
}
