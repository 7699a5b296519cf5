package order_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"yorozu/domain/calendar"
	"yorozu/domain/order"
)

var (
	jst = calendar.JST()
	cal = calendar.New()
)

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, jst)
	if err != nil {
		panic(err)
	}
	return t
}

func day(s string) calendar.Date {
	d, err := calendar.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func ptr[T any](v T) *T { return &v }

// received is an order of type t received with the given desired date (YYYY/M/D or "").
func received(t order.Type, desired string) order.Order {
	f := order.Form{Type: t}
	if desired != "" {
		f.DesiredDate = ptr(desired)
	}
	return order.Order{}.Evolve(order.Receive(uuid.New(), f, order.Secrets{}, at("2025-07-01 09:00")))
}

func apply(o order.Order, events ...any) order.Order {
	for _, e := range events {
		o = o.Evolve(e)
	}
	return o
}

func TestAcceptanceDatesByTypeAndCutOff(t *testing.T) {
	cases := []struct {
		name                                 string
		typ                                  order.Type
		desired                              string
		acceptedAt                           time.Time
		acceptanceDay, earliest, scheduledOn string
	}{
		{"new order accepted after 15:00 counts from the next business day (SPEC example)", order.TypeNew, "2025/7/1", at("2025-07-01 16:00"), "2025-07-02", "2025-07-14", "2025-07-14"},
		{"new order accepted before 15:00 counts from the same day", order.TypeNew, "2025/7/1", at("2025-07-01 14:59"), "2025-07-01", "2025-07-11", "2025-07-11"},
		{"a later desired date wins over the earliest date", order.TypeNew, "2025/9/1", at("2025-07-01 10:00"), "2025-07-01", "2025-07-11", "2025-09-01"},
		{"accepted on a Saturday counts from Monday", order.TypeChange, "2025/7/5", at("2025-07-05 10:00"), "2025-07-07", "2025-07-17", "2025-07-17"},
		{"cancel has a lead time of 5 business days", order.TypeCancel, "2025/7/1", at("2025-07-01 10:00"), "2025-07-01", "2025-07-08", "2025-07-08"},
		{"simple change has a lead time of 6 business days and no desired date", order.TypeSimpleChange, "", at("2025-07-01 10:00"), "2025-07-01", "2025-07-09", "2025-07-09"},
		{"the year-end break is not counted", order.TypeCancel, "2025/12/26", at("2025-12-26 10:00"), "2025-12-26", "2026-01-09", "2026-01-09"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, err := received(c.typ, c.desired).Accept(c.acceptedAt, c.acceptedAt, "N000000001", cal)
			if err != nil {
				t.Fatal(err)
			}
			if e.AcceptanceDay.String() != c.acceptanceDay || e.EarliestDate.String() != c.earliest || e.ScheduledDate.String() != c.scheduledOn {
				t.Fatalf("acceptance %s, earliest %s, scheduled %s; want %s, %s, %s",
					e.AcceptanceDay, e.EarliestDate, e.ScheduledDate, c.acceptanceDay, c.earliest, c.scheduledOn)
			}
		})
	}
}

func TestAcceptanceTimeIsBetweenTheApplicationDayAndThePresent(t *testing.T) {
	applied := func() order.Order {
		f := order.Form{Type: order.TypeNew, AppliedOn: ptr("2025/7/1"), DesiredDate: ptr("2025/7/1")}
		return order.Order{}.Evolve(order.Receive(uuid.New(), f, order.Secrets{}, at("2025-07-03 09:00")))
	}
	now := at("2025-07-03 12:00")
	cases := []struct {
		name       string
		acceptedAt time.Time
		code       string // "" accepted
	}{
		{"now", now, ""},
		{"back-dated to the application day's first instant (JST)", at("2025-07-01 00:00"), ""},
		{"within the allowed clock skew", now.Add(order.ClockSkew), ""},
		{"just past the allowed clock skew", now.Add(order.ClockSkew + time.Second), order.CodeInFuture},
		{"a day in the future", now.Add(24 * time.Hour), order.CodeInFuture},
		{"in the year 9999, whose acceptance day would be in 10000", time.Date(9999, 12, 28, 16, 0, 0, 0, jst), order.CodeInFuture},
		{"a second before the application day (JST)", at("2025-07-01 00:00").Add(-time.Second), order.CodeBeforeAppliedOn},
		{"the first day of year 1", time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), order.CodeBeforeAppliedOn},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, err := applied().Accept(c.acceptedAt, now, "N000000001", cal)
			if c.code == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if !e.EffectiveTime().Equal(c.acceptedAt) {
					t.Fatalf("effective time %s, want the acceptance time %s", e.EffectiveTime(), c.acceptedAt)
				}
				return
			}
			var fe order.FieldErrors
			if !errors.As(err, &fe) || !fe.Has("acceptedAt", c.code) {
				t.Fatalf("err = %v, want acceptedAt %s", err, c.code)
			}
		})
	}
}

func TestLifecycleTransitions(t *testing.T) {
	newOrder := received(order.TypeNew, "2025/7/1")
	acc, _ := newOrder.Accept(at("2025-07-01 16:00"), at("2025-07-01 16:00"), "N000000001", cal) // scheduled 07-14
	accepted := apply(newOrder, acc)
	notice, _ := accepted.SendNotice(at("2025-07-11 09:00"))
	noticed := apply(accepted, notice)
	done, _ := noticed.Complete(day("2025-07-14"), at("2025-07-14 09:00"))
	completed := apply(noticed, done...)
	withdrawn := apply(accepted, &order.OrderWithdrawn{OrderID: accepted.ID})

	cancel := received(order.TypeCancel, "2025/7/1")
	cacc, _ := cancel.Accept(at("2025-07-01 10:00"), at("2025-07-01 10:00"), "N000000001", cal)
	cancelAccepted := apply(cancel, cacc)

	t.Run("accepting twice is refused", func(t *testing.T) {
		if _, err := accepted.Accept(at("2025-07-02 10:00"), at("2025-07-02 10:00"), "N000000002", cal); !errors.Is(err, order.ErrInvalidTransition) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("amend and withdraw are allowed until the notice", func(t *testing.T) {
		if !accepted.Amendable() || noticed.Amendable() {
			t.Fatalf("amendable: accepted %v, noticed %v", accepted.Amendable(), noticed.Amendable())
		}
		if _, err := noticed.Withdraw(at("2025-07-12 10:00")); !errors.Is(err, order.ErrInvalidTransition) {
			t.Fatalf("withdraw after the notice: %v", err)
		}
	})
	t.Run("cancel orders have no notice and stay amendable until completion", func(t *testing.T) {
		if _, err := cancelAccepted.SendNotice(at("2025-07-02 10:00")); !errors.Is(err, order.ErrInvalidTransition) {
			t.Fatalf("notice on a cancel order: %v", err)
		}
		if !cancelAccepted.Amendable() {
			t.Fatal("an accepted cancel order must stay amendable")
		}
	})
	t.Run("the notice is idempotent", func(t *testing.T) {
		if e, err := noticed.SendNotice(at("2025-07-11 10:00")); err != nil || e != nil {
			t.Fatalf("second notice: %v, %v", e, err)
		}
	})
	t.Run("completion before the scheduled date is refused", func(t *testing.T) {
		if _, err := noticed.Complete(day("2025-07-13"), at("2025-07-13 23:59")); !errors.Is(err, order.ErrTooEarly) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("completion takes effect on the scheduled date, not the day it runs", func(t *testing.T) {
		late, _ := noticed.Complete(day("2025-07-20"), at("2025-07-20 09:00"))
		c := late[len(late)-1].(*order.OrderCompleted)
		if c.CompletedOn.String() != "2025-07-14" || !c.EffectiveTime().Equal(at("2025-07-14 00:00")) {
			t.Fatalf("completed on %s effective %s", c.CompletedOn, c.EffectiveTime())
		}
	})
	t.Run("completing without a recorded notice records it first", func(t *testing.T) {
		evs, err := accepted.Complete(day("2025-07-14"), at("2025-07-14 09:00"))
		if err != nil || len(evs) != 2 {
			t.Fatalf("events %v, err %v", evs, err)
		}
		if _, ok := evs[0].(*order.OpeningNoticeSent); !ok {
			t.Fatalf("first event %T, want the notice", evs[0])
		}
	})
	t.Run("completion is idempotent", func(t *testing.T) {
		if evs, err := completed.Complete(day("2025-07-15"), at("2025-07-15 09:00")); err != nil || len(evs) != 0 {
			t.Fatalf("second completion: %v, %v", evs, err)
		}
		if completed.Status != order.StatusCompleted || completed.Status.Open() {
			t.Fatalf("status %s", completed.Status)
		}
	})
	t.Run("a withdrawn order cannot complete", func(t *testing.T) {
		if _, err := withdrawn.Complete(day("2025-07-14"), at("2025-07-14 09:00")); !errors.Is(err, order.ErrInvalidTransition) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("an amendment may not change the type", func(t *testing.T) {
		if _, err := accepted.Amend(order.Form{Type: order.TypeChange}, order.Secrets{}, at("2025-07-02 10:00")); !errors.Is(err, order.ErrTypeChanged) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("an amended desired date moves the scheduled date, not the earliest", func(t *testing.T) {
		e, err := accepted.Amend(order.Form{Type: order.TypeNew, DesiredDate: ptr("2025/8/1")}, order.Secrets{}, at("2025-07-02 10:00"))
		if err != nil {
			t.Fatal(err)
		}
		o := apply(accepted, e)
		if o.ScheduledDate.String() != "2025-08-01" || o.EarliestDate.String() != "2025-07-14" || o.Version != accepted.Version+1 {
			t.Fatalf("after amend: scheduled %s earliest %s version %d", o.ScheduledDate, o.EarliestDate, o.Version)
		}
	})
	t.Run("the notice is due one business day before the scheduled date", func(t *testing.T) {
		if d := accepted.NoticeDue(cal); d.String() != "2025-07-11" {
			t.Fatalf("notice due %s, want 2025-07-11 (the Friday before Monday 07-14)", d)
		}
	})
}
