package commands_test

import (
	"context"
	"crypto/rand"
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"yorozu/adapters/eventstore/memory"
	"yorozu/commands"
	"yorozu/domain/access"
	"yorozu/domain/calendar"
	"yorozu/domain/contract"
	"yorozu/domain/event"
	"yorozu/domain/order"
	"yorozu/domain/schema"
)

// world is the write side of the service on an in-memory event store, without a read model: what
// the use cases can do on their own.
type world struct {
	store *memory.Store
	cmds  commands.Commands
	now   atomic.Pointer[time.Time]
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{store: memory.New()}
	t.Cleanup(func() { _ = w.store.Close() })
	w.set(time.Date(2026, 11, 2, 10, 0, 0, 0, calendar.JST()))
	w.cmds = w.commandsOn(t, w.store)
	return w
}

// commandsOn builds another set of use cases on the same store: a second replica.
func (w *world) commandsOn(t *testing.T, s event.Streams) commands.Commands {
	t.Helper()
	box, err := access.NewAESGCMBox(make([]byte, 32), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	cmds, err := commands.NewCommands(commands.Config{
		Events: s, Codec: schema.Registry(), Clock: func() time.Time { return *w.now.Load() },
		Calendar: calendar.New(), Access: access.Policy{Secrets: box}, Random: rand.Reader,
		// The process manager and the month close read models these tests do not build.
		DueOrders: noDueOrders{}, Closing: noClosingView{},
	})
	if err != nil {
		t.Fatal(err)
	}
	return cmds
}

func (w *world) set(t time.Time) { w.now.Store(&t) }

type noDueOrders struct{}

func (noDueOrders) Due(context.Context, calendar.Date) ([]order.Order, error) { return nil, nil }

type noClosingView struct{ commands.ClosingView }

func meta(id string) commands.Meta { return commands.Meta{CommandID: id, Actor: "tanaka"} }

func formOf(t *testing.T, name string) order.Form {
	t.Helper()
	raw, err := os.ReadFile("../domain/order/testdata/" + name + ".json")
	if err != nil {
		t.Fatal(err)
	}
	f, errs := order.DecodeForm(raw)
	if len(errs) > 0 {
		t.Fatalf("%s form: %v", name, errs)
	}
	return f
}

// submitNew submits the sample new order (applied 2026-11-02) under command id.
func (w *world) submitNew(t *testing.T, cmds commands.Commands, id string) uuid.UUID {
	t.Helper()
	f := formOf(t, "new")
	oid := order.NewID(id, f.Type, "")
	if _, err := cmds.SubmitOrder.Handle(t.Context(), commands.SubmitOrder{Meta: meta(id), OrderID: oid, Form: f}); err != nil {
		t.Fatalf("submit %s: %v", id, err)
	}
	return oid
}

func (w *world) stream(t *testing.T, name string) []event.Record {
	t.Helper()
	recs, err := w.store.ReadStream(t.Context(), name, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// A command that keeps losing the race for its stream gives up after nine decisions with an
// error that says so (409 at the API), and appends nothing of its own.
func TestConflictRetriesAreBounded(t *testing.T) {
	w := newWorld(t)
	oid := w.submitNew(t, w.cmds, "submit-1")
	stream := order.Stream(oid)
	// Before every append of the accepting command, another writer gets in first.
	var attempts atomic.Int32
	var rivalling atomic.Bool
	w.store.FailAppends(func(s string, drafts []event.Draft) error {
		if s != stream || rivalling.Load() {
			return nil
		}
		attempts.Add(1)
		// A rival event that changes nothing of this order but the stream's version.
		typ, data, err := schema.Registry().Encode(&order.OrderAmended{OrderID: uuid.New()})
		if err != nil {
			return err
		}
		rival := drafts[0]
		rival.ID, rival.CommandID, rival.Type, rival.Data = uuid.New(), "rival", typ, data
		rivalling.Store(true)
		defer rivalling.Store(false)
		_, err = w.store.Append(context.Background(), s, event.Any(), []event.Draft{rival})
		return err
	})
	_, err := w.cmds.WithdrawOrder.Handle(t.Context(), commands.WithdrawOrder{Meta: meta("withdraw-1"), OrderID: oid})
	w.store.FailAppends(nil)
	if !errors.Is(err, commands.ErrTooManyConflicts) || !errors.Is(err, event.ErrConcurrency) {
		t.Fatalf("after endless conflicts: %v", err)
	}
	if n := attempts.Load(); n != 9 {
		t.Fatalf("decided %d times, want 9", n)
	}
	for _, r := range w.stream(t, stream) {
		if r.CommandID == "withdraw-1" {
			t.Fatalf("the refused command appended %s at version %d", r.Type, r.StreamVersion)
		}
	}
}

// Two replicas accepting two new orders at the same moment issue two distinct customer
// numbers, each once, in the register's order.
func TestRacingAcceptancesIssueDistinctCustomerNumbers(t *testing.T) {
	w := newWorld(t)
	replicas := []commands.Commands{w.cmds, w.commandsOn(t, w.store)}
	const n = 20
	ids := make([]uuid.UUID, n)
	for i := range ids {
		ids[i] = w.submitNew(t, w.cmds, "submit-"+uuid.NewString())
	}
	w.set(time.Date(2026, 11, 2, 16, 0, 0, 0, calendar.JST()))
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i, id := range ids {
		wg.Go(func() {
			_, err := replicas[i%2].AcceptOrder.Handle(context.Background(), commands.AcceptOrder{Meta: meta("accept-" + id.String()), OrderID: id})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	issued := w.stream(t, contract.NumberingStream)
	if len(issued) != n {
		t.Fatalf("%d numbers issued for %d acceptances", len(issued), n)
	}
	seen := map[string]bool{}
	for _, id := range ids {
		recs := w.stream(t, order.Stream(id))
		e, err := schema.Registry().Decode(recs[len(recs)-1])
		if err != nil {
			t.Fatal(err)
		}
		cn := e.(*order.OrderAccepted).CustomerNumber
		if seen[cn] {
			t.Fatalf("customer number %s issued twice", cn)
		}
		seen[cn] = true
	}
}

// Completing a new order opens its contract (one append) and then completes the order (another).
// If the service stops between the two, sending the completion again finishes the job without
// opening the contract twice.
func TestCompletionSurvivesACrashBetweenItsAppends(t *testing.T) {
	w := newWorld(t)
	oid := w.submitNew(t, w.cmds, "submit-1")
	w.set(time.Date(2026, 11, 2, 16, 0, 0, 0, calendar.JST()))
	if _, err := w.cmds.AcceptOrder.Handle(t.Context(), commands.AcceptOrder{Meta: meta("accept-1"), OrderID: oid}); err != nil {
		t.Fatal(err)
	}
	w.set(time.Date(2026, 12, 1, 0, 10, 0, 0, calendar.JST()))
	crash := errors.New("power cut")
	w.store.FailAppends(func(s string, _ []event.Draft) error {
		if s == order.Stream(oid) {
			return crash
		}
		return nil
	})
	if _, err := w.cmds.CompleteOrder.Handle(t.Context(), commands.CompleteOrder{Meta: meta("complete-1"), OrderID: oid}); !errors.Is(err, crash) {
		t.Fatalf("completion during the crash: %v", err)
	}
	w.store.FailAppends(nil)
	recs := w.stream(t, order.Stream(oid))
	accepted, _ := schema.Registry().Decode(recs[len(recs)-1])
	cn := accepted.(*order.OrderAccepted).CustomerNumber
	if got := w.stream(t, contract.Stream(cn)); len(got) != 1 || got[0].Type != "ContractOpened" {
		t.Fatalf("contract stream after the crash: %d events", len(got))
	}

	for range 2 { // the retry, and a retry of the retry
		if _, err := w.cmds.CompleteOrder.Handle(t.Context(), commands.CompleteOrder{Meta: meta("complete-1"), OrderID: oid}); err != nil {
			t.Fatalf("retried completion: %v", err)
		}
	}
	if got := w.stream(t, contract.Stream(cn)); len(got) != 1 {
		t.Fatalf("contract opened %d times", len(got))
	}
	completed := 0
	for _, r := range w.stream(t, order.Stream(oid)) {
		if r.Type == "OrderCompleted" {
			completed++
		}
	}
	if completed != 1 {
		t.Fatalf("order completed %d times", completed)
	}
}

// The write side finds an order from its ID alone: a change order can be accepted, noticed and
// withdrawn the moment it is submitted, though no read model (which a 202 answer may not have
// reached) has seen it.
func TestOrdersAreFoundWithoutAReadModel(t *testing.T) {
	w := newWorld(t)
	oid := w.submitNew(t, w.cmds, "submit-1")
	w.set(time.Date(2026, 11, 2, 16, 0, 0, 0, calendar.JST()))
	if _, err := w.cmds.AcceptOrder.Handle(t.Context(), commands.AcceptOrder{Meta: meta("accept-1"), OrderID: oid}); err != nil {
		t.Fatal(err)
	}
	w.set(time.Date(2026, 12, 1, 0, 10, 0, 0, calendar.JST()))
	if _, err := w.cmds.CompleteOrder.Handle(t.Context(), commands.CompleteOrder{Meta: meta("complete-1"), OrderID: oid}); err != nil {
		t.Fatal(err)
	}

	w.set(time.Date(2027, 2, 1, 10, 0, 0, 0, calendar.JST()))
	change := formOf(t, "change")
	cid := order.NewID("submit-change", change.Type, *change.CustomerNumber)
	if _, err := w.cmds.SubmitOrder.Handle(t.Context(), commands.SubmitOrder{Meta: meta("submit-change"), OrderID: cid, Form: change}); err != nil {
		t.Fatal(err)
	}
	out, err := w.cmds.AcceptOrder.Handle(t.Context(), commands.AcceptOrder{Meta: meta("accept-change"), OrderID: cid})
	if err != nil {
		t.Fatalf("accepting a change order right after its submission: %v", err)
	}
	if out.Stream != contract.Stream(*change.CustomerNumber) {
		t.Fatalf("the change order was accepted in %s", out.Stream)
	}
	if _, err := w.cmds.WithdrawOrder.Handle(t.Context(), commands.WithdrawOrder{Meta: meta("withdraw-change"), OrderID: cid}); err != nil {
		t.Fatal(err)
	}
	// An ID that names no order of the contract is not found, whatever contract it names.
	ghost := order.NewID("never-submitted", order.TypeChange, *change.CustomerNumber)
	if _, err := w.cmds.AcceptOrder.Handle(t.Context(), commands.AcceptOrder{Meta: meta("accept-ghost"), OrderID: ghost}); !errors.Is(err, order.ErrNotFound) {
		t.Fatalf("accepting an order never submitted: %v", err)
	}
}
