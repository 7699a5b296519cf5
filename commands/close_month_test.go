package commands_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"yorozu/adapters/eventstore/memory"
	"yorozu/commands"
	"yorozu/domain/billing"
	"yorozu/domain/calendar"
	"yorozu/domain/schema"
)

func TestMonthDueForAutoClose(t *testing.T) {
	cal := calendar.New()
	jst := calendar.JST()
	for _, tc := range []struct {
		name string
		now  time.Time
		want string // "" when no month is due
	}{
		{"on the first business day of August (Fri 08-01) July waits for review", time.Date(2025, 8, 1, 17, 0, 0, 0, jst), ""},
		{"from the day after it, July is due", time.Date(2025, 8, 2, 0, 0, 0, 0, jst), "2025-07"},
		{"late in the month the previous month is still the one", time.Date(2025, 8, 31, 23, 59, 0, 0, jst), "2025-07"},
		{"the year-end break pushes January's first business day to 01-05", time.Date(2026, 1, 5, 12, 0, 0, 0, jst), ""},
		{"December is due from 01-06", time.Date(2026, 1, 6, 0, 0, 0, 0, jst), "2025-12"},
		{"a month starting on a weekend: November 2025 begins Saturday, first business day Tue 11-04 after 文化の日 on Mon 11-03", time.Date(2025, 11, 4, 10, 0, 0, 0, jst), ""},
		{"October is due from 11-05", time.Date(2025, 11, 5, 0, 0, 0, 0, jst), "2025-10"},
		{"JST decides, not UTC: 2025-08-01 15:30 UTC is already 08-02 in Tokyo", time.Date(2025, 8, 1, 15, 30, 0, 0, time.UTC), "2025-07"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, due := commands.MonthDueForAutoClose(tc.now, cal)
			got := ""
			if due {
				got = m.String()
			}
			if got != tc.want {
				t.Fatalf("due %q, want %q", got, tc.want)
			}
		})
	}
}

func TestInvoiceNumbersAreSequentialWithinTheirMonth(t *testing.T) {
	m, _ := billing.ParseMonth("2025-07")
	if got := billing.InvoiceNumber(m, 1); got != "INV-2025-07-000001" {
		t.Fatalf("first number %s", got)
	}
	if got := billing.InvoiceNumber(m.Next(), 123456); got != "INV-2025-08-123456" {
		t.Fatalf("number %s", got)
	}
}

// A month outside the service's years is refused before anything is read or decided: the month
// after 9999-12 has no first day, so its end would read as long past.
func TestCloseRefusesMonthsOutsideTheServiceYears(t *testing.T) {
	store := memory.New()
	issuer, err := billing.NewIssuer("株式会社よろず相談", "T1234567890123")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 10, 10, 0, 0, 0, calendar.JST())
	h := commands.NewCloseMonthHandler(commands.Deps{Events: store, Codec: schema.Registry(), Clock: func() time.Time { return now }}, nil, issuer)
	for _, s := range []string{"9999-12", "0001-01", "1999-12", "2101-01"} {
		m, err := billing.ParseMonth(s)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.Handle(context.Background(), commands.CloseMonth{Month: m}); !errors.Is(err, billing.ErrInvalidMonth) {
			t.Errorf("close %s: err = %v, want ErrInvalidMonth", s, err)
		}
	}
	if head, err := store.Head(context.Background()); err != nil || head != 0 {
		t.Fatalf("refused closes appended events: head %d, %v", head, err)
	}
}
