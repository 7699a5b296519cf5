package contract_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"yorozu/domain/calendar"
	"yorozu/domain/contract"
	"yorozu/domain/order"
)

func ptr[T any](v T) *T { return &v }

func opened(additional int, web bool) contract.Contract {
	return contract.Contract{}.Evolve(&contract.ContractOpened{CustomerNumber: "N000000001", CommonCustomerID: "C1234567890",
		OpenedOn: calendar.MustDate(2025, 7, 14), AdditionalIDs: additional, WebFiltering: web, TicketsBought: 2,
		Contractor: contract.Contractor{Name: "株式会社大和商事"}})
}

func completedOrder(typ order.Type, f order.Form) (order.Order, *order.OrderCompleted) {
	f.Type = typ
	o := order.Order{ID: uuid.New(), Type: typ, Status: order.StatusNoticeSent, CustomerNumber: "N000000001", Form: f,
		ScheduledDate: calendar.MustDate(2025, 8, 14)}
	return o, &order.OrderCompleted{OrderID: o.ID, CustomerNumber: o.CustomerNumber, CompletedOn: o.ScheduledDate}
}

func TestOneOpenOrderPerContract(t *testing.T) {
	c := opened(15, true)
	id := uuid.New()
	rec, err := c.ReceiveOrder(id, order.Form{Type: order.TypeChange}, order.Secrets{}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	c = c.Evolve(rec)
	if _, err := c.ReceiveOrder(uuid.New(), order.Form{Type: order.TypeCancel}, order.Secrets{}, time.Now()); !errors.Is(err, contract.ErrOrderOpen) {
		t.Fatalf("second open order: err = %v", err)
	}
	c = c.Evolve(&order.OrderWithdrawn{OrderID: id})
	if _, err := c.ReceiveOrder(uuid.New(), order.Form{Type: order.TypeCancel}, order.Secrets{}, time.Now()); err != nil {
		t.Fatalf("after the first was withdrawn: %v", err)
	}
}

func TestEffectsOfCompletedOrders(t *testing.T) {
	t.Run("ending ID additions sets them to 0", func(t *testing.T) {
		o, done := completedOrder(order.TypeChange, order.Form{Changes: &order.Changes{HealthCheckIDs: ptr(true)}, HealthCheckIDChange: ptr(order.IDChangeEnd)})
		c := opened(15, false).Evolve(contract.Effect(o, done))
		if c.AdditionalIDs != 0 || c.TotalIDs() != 5 {
			t.Fatalf("after end: %d additional, %d total", c.AdditionalIDs, c.TotalIDs())
		}
	})
	t.Run("adding IDs and buying tickets", func(t *testing.T) {
		o, done := completedOrder(order.TypeChange, order.Form{
			Changes:             &order.Changes{HealthCheckIDs: ptr(true), SecurityTickets: ptr(true)},
			HealthCheckIDChange: ptr(order.IDChangeAdd), IDsAfterChange: ptr(40), SecurityTicketCount: ptr(3),
		})
		c := opened(15, true).Evolve(contract.Effect(o, done))
		if c.AdditionalIDs != 40 || c.TicketsPurchased != 5 || !c.WebFiltering {
			t.Fatalf("after change: %+v", c)
		}
	})
	t.Run("turning web filtering off leaves the IDs", func(t *testing.T) {
		o, done := completedOrder(order.TypeChange, order.Form{Changes: &order.Changes{WebFiltering: ptr(true)}, WebFiltering: ptr(order.UsageNotUse)})
		c := opened(15, true).Evolve(contract.Effect(o, done))
		if c.WebFiltering || c.AdditionalIDs != 15 {
			t.Fatalf("after web filtering off: %+v", c)
		}
	})
	t.Run("cancel terminates on the scheduled date", func(t *testing.T) {
		o, done := completedOrder(order.TypeCancel, order.Form{})
		c := opened(15, true).Evolve(contract.Effect(o, done))
		if c.Status != contract.StatusTerminated || c.TerminatedOn.String() != "2025-08-14" {
			t.Fatalf("after cancel: %+v", c)
		}
		if f := c.Facts(); f.Active || !f.Exists {
			t.Fatalf("facts of a terminated contract: %+v", f)
		}
	})
	t.Run("a simple change replaces the contractor", func(t *testing.T) {
		o, done := completedOrder(order.TypeSimpleChange, order.Form{Contractor: &order.Contractor{Name: ptr("株式会社ヤマトＨＤ")}})
		c := opened(15, true).Evolve(contract.Effect(o, done))
		if c.Contractor.Name != "株式会社ヤマトＨＤ" {
			t.Fatalf("contractor %+v", c.Contractor)
		}
	})
}

func TestOpeningFromANewOrder(t *testing.T) {
	o, done := completedOrder(order.TypeNew, order.Form{
		CommonCustomerID: ptr("D0123456789"), HealthCheckIDAddition: ptr(order.UsageUse), AdditionalIDs: ptr(10),
		WebFiltering: ptr(order.UsageUse), SecurityTicketApplication: ptr(order.TicketNo),
	})
	e := contract.Open(o, done)
	if e.OpenedOn.String() != "2025-08-14" || e.AdditionalIDs != 10 || !e.WebFiltering || e.TicketsBought != 0 || e.CommonCustomerID != "D0123456789" {
		t.Fatalf("opened: %+v", e)
	}
	if !e.EffectiveTime().Equal(e.OpenedOn.Start()) {
		t.Fatal("the opening is effective at the start of its day")
	}
}

func TestCustomerNumbers(t *testing.T) {
	for v, want := range map[uint64]string{1: "N000000001", 42: "N000000042", 999_999_999: "N999999999"} {
		if got, err := contract.CustomerNumberAt(v); err != nil || got != want {
			t.Fatalf("version %d: %q, %v", v, got, err)
		}
	}
	if _, err := contract.CustomerNumberAt(1_000_000_000); !errors.Is(err, contract.ErrNumbersExhausted) {
		t.Fatalf("past the last number: %v", err)
	}
}
