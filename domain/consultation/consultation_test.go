package consultation_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"yorozu/domain/calendar"
	"yorozu/domain/consultation"
	"yorozu/domain/contract"
	"yorozu/domain/validation"
)

var cal = calendar.New()

func jst(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, calendar.JST())
}

func ptr[T any](v T) *T { return &v }

var customer = contract.Standing{Known: true, Contract: contract.Contract{
	CustomerNumber: "N000000001", Status: contract.StatusActive, Contractor: contract.Contractor{Name: "株式会社大和商事"}}}

func validIntake(channel string, at time.Time) consultation.IntakeInput {
	return consultation.IntakeInput{
		Channel: ptr(channel), ReceivedAt: &at, CustomerNumber: ptr("N000000001"), CompanyName: ptr("株式会社大和商事"),
		PersonName: ptr("山田　太郎"), Email: ptr("yamada@example.co.jp"), Phone: ptr("03-1234-5678"),
		Subject: ptr("件名"), Body: ptr("本文\r\n\t二行目"),
	}
}

func received(t *testing.T, channel string, at time.Time) consultation.Consultation {
	t.Helper()
	in, errs := consultation.NewIntake(validIntake(channel, at))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	return consultation.Consultation{}.Evolve(consultation.Receive(uuid.New(), in, customer, cal))
}

func TestNewIntakeReportsEveryRuleAtOnce(t *testing.T) {
	in := validIntake("email", jst(2025, 7, 1, 10, 0))
	in.Channel, in.ReceivedAt, in.CustomerNumber = ptr("letter"), nil, ptr("N12")
	in.PersonName, in.Subject, in.Body = ptr("   "), ptr("a\x00b"), ptr("ok\x1b[31m")
	in.DurationMinutes = ptr(5000)
	_, errs := consultation.NewIntake(in)
	want := map[string]string{"channel": "invalidChoice", "receivedAt": "required", "customerNumber": "invalidFormat",
		"personName": "required", "subject": "controlCharacter", "body": "controlCharacter", "durationMinutes": "outOfRange"}
	got := map[string]string{}
	for _, e := range errs {
		got[e.Field] = e.Code
	}
	if len(got) != len(want) {
		t.Fatalf("errors %v, want %v", got, want)
	}
	for f, c := range want {
		if got[f] != c {
			t.Errorf("%s: %q, want %q (all: %v)", f, got[f], c, got)
		}
	}
}

func TestReceiveDecidesAcceptanceAndDueTime(t *testing.T) {
	c := received(t, "email", jst(2025, 7, 4, 16, 0))
	if c.Status != consultation.StatusOpen || !c.DueAt.Equal(jst(2025, 7, 7, 16, 0)) {
		t.Fatalf("e-mail on Friday 16:00: %+v", c)
	}
	if c := received(t, "phone", jst(2025, 7, 4, 16, 0)); c.Status != consultation.StatusOpen || !c.DueAt.IsZero() {
		t.Fatalf("phone in hours: %+v", c)
	}
	if c := received(t, "phone", jst(2025, 7, 4, 12, 0)); c.Status != consultation.StatusRejected || c.RejectionReason != consultation.RejectOutsideBusinessHours {
		t.Fatalf("phone at 12:00: %+v", c)
	}
	in, _ := consultation.NewIntake(validIntake("email", jst(2025, 7, 4, 16, 0)))
	in.CompanyName = "株式会社大和物産"
	e := consultation.Receive(uuid.New(), in, customer, cal)
	if r, ok := e.(*consultation.ConsultationRejected); !ok || r.Reason != contract.CallerCompanyNameMismatch {
		t.Fatalf("wrong company: %#v", e)
	}
}

func TestOverdue(t *testing.T) {
	base := received(t, "email", jst(2025, 7, 1, 10, 0)) // due 07-02 10:00
	due := jst(2025, 7, 2, 10, 0)
	answer := func(c consultation.Consultation, at time.Time) consultation.Consultation {
		e, err := c.Answer(consultation.ReplyInput{At: at, Body: "x"})
		if err != nil {
			t.Fatal(err)
		}
		return c.Evolve(e)
	}
	closed := func(c consultation.Consultation, at time.Time) consultation.Consultation {
		e, err := c.Close(at)
		if err != nil {
			t.Fatal(err)
		}
		return c.Evolve(e)
	}
	for _, tc := range []struct {
		name string
		c    consultation.Consultation
		now  time.Time
		want bool
	}{
		{"open, at the due time", base, due, false},
		{"open, a second later", base, due.Add(time.Second), true},
		{"answered exactly at the due time", answer(base, due), due.Add(time.Hour), false},
		{"answered late", answer(base, due.Add(time.Minute)), due.Add(time.Hour), true},
		{"closed unanswered in time", closed(base, due.Add(-time.Hour)), due.Add(48 * time.Hour), false},
		{"closed unanswered late", closed(base, due.Add(time.Hour)), due.Add(48 * time.Hour), true},
		{"phone", received(t, "phone", jst(2025, 7, 1, 10, 0)), due.Add(48 * time.Hour), false},
	} {
		if got := tc.c.Overdue(tc.now); got != tc.want {
			t.Errorf("%s: overdue %v, want %v", tc.name, got, tc.want)
		}
	}
	// Reopening an answered-late consultation starts a new due time.
	late := answer(base, due.Add(time.Minute))
	e, err := late.Reopen(jst(2025, 7, 3, 9, 0), cal)
	if err != nil {
		t.Fatal(err)
	}
	reopened := late.Evolve(e)
	if !reopened.DueAt.Equal(jst(2025, 7, 3, 17, 30)) || reopened.Overdue(jst(2025, 7, 3, 17, 30)) || !reopened.Overdue(jst(2025, 7, 3, 17, 31)) {
		t.Fatalf("reopened at 09:00 (counts from 09:30, due at the close): due %s", reopened.DueAt)
	}
}

func TestLifecycleTransitions(t *testing.T) {
	open := received(t, "email", jst(2025, 7, 1, 10, 0))
	rejected := consultation.Consultation{}.Evolve(&consultation.ConsultationRejected{Reason: contract.CallerUnknownCustomer})
	later := jst(2025, 7, 1, 11, 0)
	e, _ := open.Answer(consultation.ReplyInput{At: later, Body: "x"})
	answered := open.Evolve(e)
	c, _ := answered.Close(later)
	closed := answered.Evolve(c)
	type op func(consultation.Consultation) error
	ops := map[string]op{
		"triage": func(c consultation.Consultation) error {
			_, err := c.Triage(consultation.Triage{Category: consultation.CategoryOther, Decision: consultation.DecisionAnswer}, later)
			return err
		},
		"reply": func(c consultation.Consultation) error {
			_, err := c.Answer(consultation.ReplyInput{At: later, Body: "x"})
			return err
		},
		"close":  func(c consultation.Consultation) error { _, err := c.Close(later); return err },
		"reopen": func(c consultation.Consultation) error { _, err := c.Reopen(later, cal); return err },
		"quote":  func(c consultation.Consultation) error { _, err := c.QuoteTickets(2, later); return err },
	}
	allowed := map[consultation.Status]map[string]bool{
		consultation.StatusOpen:     {"triage": true, "reply": true, "close": true, "quote": true},
		consultation.StatusAnswered: {"triage": true, "close": true, "reopen": true, "quote": true},
		consultation.StatusClosed:   {"reopen": true},
		consultation.StatusRejected: {},
	}
	for _, c := range []consultation.Consultation{open, answered, closed, rejected} {
		for name, run := range ops {
			err := run(c)
			if allowed[c.Status][name] != (err == nil) {
				t.Errorf("%s on %s: %v", name, c.Status, err)
			}
			if err != nil && !errors.Is(err, consultation.ErrInvalidTransition) {
				t.Errorf("%s on %s: %v, want ErrInvalidTransition", name, c.Status, err)
			}
		}
	}
	if _, err := (consultation.Consultation{}).Close(later); !errors.Is(err, consultation.ErrNotFound) {
		t.Errorf("close of nothing: %v", err)
	}
}

func TestNewTriage(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   consultation.TriageInput
		want consultation.Triage
		errs map[string]string
	}{
		{"a category answers", consultation.TriageInput{Category: ptr("ransomware")},
			consultation.Triage{Category: "ransomware", Decision: "answer"}, nil},
		{"a decline with its reason", consultation.TriageInput{Decision: ptr("decline"), Reason: ptr("basicOperation")},
			consultation.Triage{Decision: "decline", Reason: "basicOperation"}, nil},
		{"a referral, with what it was about", consultation.TriageInput{Decision: ptr("refer"), Referral: ptr("antiPhishingCouncil"), Category: ptr("suspiciousMail")},
			consultation.Triage{Decision: "refer", Referral: "antiPhishingCouncil", Category: "suspiciousMail"}, nil},
		{"nothing", consultation.TriageInput{}, consultation.Triage{}, map[string]string{"category": validation.CodeRequired}},
		{"a referral without a window, with a reason", consultation.TriageInput{Decision: ptr("refer"), Reason: ptr("ispQuality")}, consultation.Triage{},
			map[string]string{"reason": validation.CodeMustBeAbsent, "referral": validation.CodeRequired}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, errs := consultation.NewTriage(tc.in)
			if len(errs) != len(tc.errs) {
				t.Fatalf("errors %v, want %v", errs, tc.errs)
			}
			for _, e := range errs {
				if tc.errs[e.Field] != e.Code {
					t.Fatalf("errors %v, want %v", errs, tc.errs)
				}
			}
			if tc.errs == nil && got != tc.want {
				t.Fatalf("triage %+v, want %+v", got, tc.want)
			}
		})
	}
}
