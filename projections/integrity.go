package projections

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"

	"yorozu/domain/event"
)

// ErrIntegrity: a stored event fails the integrity check (see IntegrityError).
var ErrIntegrity = errors.New("event log integrity check failed")

// IntegrityError names the stored event the integrity check refused and why: its content does
// not match its hash, it does not continue its stream's hash chain, or its data does not decode.
// It matches ErrIntegrity.
type IntegrityError struct {
	Stream        string
	StreamVersion uint64
	Position      event.Position
	EventID       string
	Type          string
	Reason        string
}

func (e *IntegrityError) Error() string {
	return fmt.Sprintf("event log integrity: %s@%d (position %d, event %s, type %s): %s",
		e.Stream, e.StreamVersion, e.Position, e.EventID, e.Type, e.Reason)
}

func (e *IntegrityError) Unwrap() error { return ErrIntegrity }

// Integrity checks every event of the log before a reader acts on it: the event's hash over its
// content and its link to the previous event of its stream (an event that fails either was
// altered: nothing after it is passed on), and that its data decodes into its registered type
// (an intact event that does not is passed on and reported: see Undecodable). Each event is checked once, in log order, by whichever reader first reads
// past what was checked so far; readers behind it find their pages checked already. So the
// projections of a runner, which all read the whole log at start, pay for one check and not one
// each, and the chain needs only the last hash of each stream.
//
// A reader that starts ahead of the check (a projection whose checkpoint was stored by an
// earlier run) makes it read and check the log up to that point first: every start checks the
// whole log once. An event that fails is not passed on, nor anything after it: the readers stop
// there, and each retry checks it again (an operator may restore it from a backup).
//
// An event changed after it was checked is not seen until the next start (or `yorozu verify`):
// checking every read again would multiply the cost by the number of projections.
type Integrity struct {
	log   event.Log
	codec *event.Registry

	// undecodableEvent is the first intact event whose data did not decode (see check).
	undecodableEvent atomic.Pointer[IntegrityError]

	through atomic.Uint64 // every event up to this position has passed

	mu   sync.Mutex // held while checking: the chain is followed in log order
	tips map[string]event.ChainTip
}

// NewIntegrity returns the check of log, decoding with codec.
func NewIntegrity(log event.Log, codec *event.Registry) *Integrity {
	return &Integrity{log: log, codec: codec, tips: make(map[string]event.ChainTip)}
}

// integrityPage is how many events the check reads at once when it must catch up by itself.
const integrityPage = 2000

// Check takes a page recs that the caller read from the log after position `after` and returns
// the events of it, from the first, that passed. When one did not, it returns the events before
// it and an *IntegrityError naming it. Other errors are the log's.
func (in *Integrity) Check(ctx context.Context, after event.Position, recs []event.Record) ([]event.Record, error) {
	if len(recs) == 0 || event.Position(in.through.Load()) >= recs[len(recs)-1].Position {
		return recs, nil
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if err := in.catchUp(ctx, after); err != nil {
		return nil, err
	}
	through := event.Position(in.through.Load())
	first := sort.Search(len(recs), func(i int) bool { return recs[i].Position > through })
	passed, err := in.check(recs[first:])
	return recs[:first+passed], err
}

// catchUp checks the log up to position `to`, reading it itself. The caller holds mu.
func (in *Integrity) catchUp(ctx context.Context, to event.Position) error {
	for {
		through := event.Position(in.through.Load())
		if through >= to {
			return nil
		}
		page, err := in.log.ReadAll(ctx, through, integrityPage)
		if err != nil {
			return err
		}
		upTo := sort.Search(len(page), func(i int) bool { return page[i].Position > to })
		if _, err := in.check(page[:upTo]); err != nil {
			return err
		}
		if upTo < len(page) || len(page) == 0 {
			// Nothing else exists up to `to` (positions have gaps): everything before it passed.
			in.through.Store(uint64(to))
			return nil
		}
	}
}

// verdict is what the parallel part of the check found about one event.
type verdict struct {
	hashOK bool
	decode error
}

// check checks recs, which follow what passed so far, and moves `through` past those that pass.
// It returns how many passed and, if one failed, the *IntegrityError naming it. The caller holds
// mu.
func (in *Integrity) check(recs []event.Record) (int, error) {
	if len(recs) == 0 {
		return 0, nil
	}
	// Hashing and decoding are the cost, and they do not depend on the order: spread them over
	// the CPUs. Following the chains is a map lookup per event, done in order afterwards.
	verdicts := make([]verdict, len(recs))
	judge := func(first, step int) {
		for i := first; i < len(recs); i += step {
			r := &recs[i]
			verdicts[i].hashOK = event.ComputeHash(r) == r.Hash
			if verdicts[i].hashOK {
				_, verdicts[i].decode = in.codec.Decode(*r)
			}
		}
	}
	if workers := min(runtime.GOMAXPROCS(0), (len(recs)+255)/256); workers > 1 {
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() { judge(w, workers) })
		}
		wg.Wait()
	} else {
		judge(0, 1)
	}
	for i := range recs {
		r := &recs[i]
		tip, seen := in.tips[r.Stream]
		reason := ""
		switch {
		case !verdicts[i].hashOK:
			reason = event.ReasonHashMismatch
		default:
			reason = event.CheckLink(tip, seen, r)
		}
		if reason == "" && verdicts[i].decode != nil {
			// Intact but undecodable (a poison event, or one of a newer version): the projections
			// that follow its type stop on it by themselves, each alone; the others, and the
			// read-your-writes wait, go on. It is remembered for /readyz, which fails naming it.
			in.noteUndecodable(&IntegrityError{Stream: r.Stream, StreamVersion: r.StreamVersion, Position: r.Position,
				EventID: r.ID.String(), Type: r.Type, Reason: undecodable(r, verdicts[i].decode)})
		}
		if reason != "" {
			return i, &IntegrityError{Stream: r.Stream, StreamVersion: r.StreamVersion, Position: r.Position,
				EventID: r.ID.String(), Type: r.Type, Reason: reason}
		}
		in.tips[r.Stream] = event.ChainTip{Version: r.StreamVersion, Hash: r.Hash}
		in.through.Store(uint64(r.Position))
	}
	return len(recs), nil
}

func (in *Integrity) noteUndecodable(e *IntegrityError) {
	in.undecodableEvent.CompareAndSwap(nil, e)
}

// Undecodable is the first intact event seen whose data does not decode into its registered type
// (or whose type nobody registered), nil if none: the service is not ready while there is one.
func (in *Integrity) Undecodable() *IntegrityError { return in.undecodableEvent.Load() }

// undecodable is the reason for an event whose data does not decode.
func undecodable(r *event.Record, err error) string {
	if errors.Is(err, event.ErrUnknownType) {
		return fmt.Sprintf("unknown event type %q", r.Type)
	}
	var de *event.DecodeError
	if errors.As(err, &de) {
		err = de.Err
	}
	return fmt.Sprintf("data does not decode into %s: %v", r.Type, err)
}

// Log is the log as the check passes it: ReadAll returns the events up to the first one that
// fails, then the *IntegrityError naming it; Subscribe stops with that error. For readers that
// are not projections (the integration relay).
func (in *Integrity) Log() event.Log { return checkedLog{in} }

type checkedLog struct{ in *Integrity }

func (l checkedLog) ReadAll(ctx context.Context, after event.Position, limit int) ([]event.Record, error) {
	recs, err := l.in.log.ReadAll(ctx, after, limit)
	if err != nil {
		return nil, err
	}
	passed, err := l.in.Check(ctx, after, recs)
	if len(passed) > 0 {
		return passed, nil // the failing event comes first in the next read, with its error
	}
	return nil, err
}

func (l checkedLog) Head(ctx context.Context) (event.Position, error) { return l.in.log.Head(ctx) }

func (l checkedLog) Subscribe(ctx context.Context, after event.Position, fn func(event.Record) error) error {
	prev := after
	return l.in.log.Subscribe(ctx, after, func(r event.Record) error {
		passed, err := l.in.Check(ctx, prev, []event.Record{r})
		if len(passed) == 0 {
			return err
		}
		prev = r.Position
		return fn(r)
	})
}
