package mailmagazine_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"yorozu/domain/calendar"
	"yorozu/domain/mailmagazine"
)

var jst = calendar.JST()

func day(s string) calendar.Date {
	d, err := calendar.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func TestAddressesAreLowerCasedAndDeduplicated(t *testing.T) {
	got := mailmagazine.Addresses("Yamada@Yamato-Shoji.co.jp, soumu@yamato-shoji.co.jp,yamada@yamato-shoji.co.jp", "SOUMU@yamato-shoji.co.jp")
	want := []string{"soumu@yamato-shoji.co.jp", "yamada@yamato-shoji.co.jp"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%v", got)
	}
}

func TestRecipientsFollowTheContracts(t *testing.T) {
	var r mailmagazine.Roster
	r.Apply(mailmagazine.Change{CustomerNumber: "N000000001", Kind: mailmagazine.Opened, On: day("2025-07-14"), Seq: 1,
		ContactEmails: "a@x.jp,b@x.jp", SecurityEmail: "s@x.jp"})
	r.Apply(mailmagazine.Change{CustomerNumber: "N000000002", Kind: mailmagazine.Opened, On: day("2025-08-01"), Seq: 2,
		ContactEmails: "B@x.jp", SecurityEmail: "t@y.jp"})
	r.Apply(mailmagazine.Change{CustomerNumber: "N000000001", Kind: mailmagazine.SecurityChanged, On: day("2025-09-01"), Seq: 3,
		SecurityEmail: "u@x.jp"})
	r.Apply(mailmagazine.Change{CustomerNumber: "N000000001", Kind: mailmagazine.Terminated, On: day("2025-10-20"), Seq: 4})
	// A simple change recorded later but effective earlier (a back-dated order) still counts from its date.
	r.Apply(mailmagazine.Change{CustomerNumber: "N000000002", Kind: mailmagazine.ContactChanged, On: day("2025-08-15"), Seq: 5,
		ContactEmails: "c@y.jp"})

	emails := func(d string) []string {
		var out []string
		for _, rc := range r.AsOf(day(d)) {
			out = append(out, rc.Email)
		}
		return out
	}
	for d, want := range map[string][]string{
		"2025-07-13": nil,
		"2025-07-14": {"a@x.jp", "b@x.jp", "s@x.jp"},
		"2025-08-01": {"a@x.jp", "b@x.jp", "s@x.jp", "t@y.jp"},
		"2025-08-15": {"a@x.jp", "b@x.jp", "c@y.jp", "s@x.jp", "t@y.jp"},
		"2025-09-01": {"a@x.jp", "b@x.jp", "c@y.jp", "t@y.jp", "u@x.jp"},
		"2025-10-20": {"c@y.jp", "t@y.jp"},
	} {
		if got := emails(d); !reflect.DeepEqual(got, want) {
			t.Errorf("as of %s: %v, want %v", d, got, want)
		}
	}
	aug := r.AsOf(day("2025-08-05"))
	if aug[1].Email != "b@x.jp" || !reflect.DeepEqual(aug[1].CustomerNumbers, []string{"N000000001", "N000000002"}) || aug[1].Since != day("2025-07-14") {
		t.Fatalf("b@x.jp on 08-05: %+v", aug[1])
	}

	want := []mailmagazine.HistoryEntry{
		{day("2025-07-14"), "a@x.jp", "N000000001", "added"}, {day("2025-07-14"), "b@x.jp", "N000000001", "added"},
		{day("2025-07-14"), "s@x.jp", "N000000001", "added"},
		{day("2025-08-01"), "b@x.jp", "N000000002", "added"}, {day("2025-08-01"), "t@y.jp", "N000000002", "added"},
		{day("2025-08-15"), "b@x.jp", "N000000002", "removed"}, {day("2025-08-15"), "c@y.jp", "N000000002", "added"},
		{day("2025-09-01"), "s@x.jp", "N000000001", "removed"}, {day("2025-09-01"), "u@x.jp", "N000000001", "added"},
		{day("2025-10-20"), "a@x.jp", "N000000001", "removed"}, {day("2025-10-20"), "b@x.jp", "N000000001", "removed"},
		{day("2025-10-20"), "u@x.jp", "N000000001", "removed"},
	}
	if got := r.History(); !reflect.DeepEqual(got, want) {
		t.Fatalf("history:\n%v\nwant\n%v", got, want)
	}
}

func TestSinceSpansContractsWithoutABreak(t *testing.T) {
	var r mailmagazine.Roster
	r.Apply(mailmagazine.Change{CustomerNumber: "N000000001", Kind: mailmagazine.Opened, On: day("2025-01-06"), Seq: 1, ContactEmails: "it@x.jp"})
	r.Apply(mailmagazine.Change{CustomerNumber: "N000000002", Kind: mailmagazine.Opened, On: day("2025-03-03"), Seq: 2, ContactEmails: "it@x.jp"})
	r.Apply(mailmagazine.Change{CustomerNumber: "N000000001", Kind: mailmagazine.Terminated, On: day("2025-05-01"), Seq: 3})
	r.Apply(mailmagazine.Change{CustomerNumber: "N000000002", Kind: mailmagazine.Terminated, On: day("2025-06-01"), Seq: 4})
	r.Apply(mailmagazine.Change{CustomerNumber: "N000000003", Kind: mailmagazine.Opened, On: day("2025-07-01"), Seq: 5, ContactEmails: "it@x.jp"})
	if got := r.AsOf(day("2025-05-15")); len(got) != 1 || got[0].Since != day("2025-01-06") || !reflect.DeepEqual(got[0].CustomerNumbers, []string{"N000000002"}) {
		t.Fatalf("05-15: %+v", got)
	}
	if got := r.AsOf(day("2025-06-10")); len(got) != 0 {
		t.Fatalf("06-10: %+v", got)
	}
	if got := r.AsOf(day("2025-07-01")); len(got) != 1 || got[0].Since != day("2025-07-01") {
		t.Fatalf("07-01: %+v", got)
	}
}

func TestTheNextRegularIssue(t *testing.T) {
	for now, want := range map[string]string{
		"2025-07-01 10:00": "2025-07-02 15:00", // Tuesday
		"2025-07-02 14:59": "2025-07-02 15:00", // Wednesday before 15:00
		"2025-07-02 15:00": "2025-07-09 15:00", // Wednesday at 15:00: next week
		"2025-07-05 09:00": "2025-07-09 15:00",
		"2025-12-31 16:00": "2026-01-07 15:00",
	} {
		n, _ := time.ParseInLocation("2006-01-02 15:04", now, jst)
		w, _ := time.ParseInLocation("2006-01-02 15:04", want, jst)
		if got := mailmagazine.NextIssueTime(n); !got.Equal(w) {
			t.Errorf("%s: %s, want %s", now, got.In(jst), want)
		}
	}
}

func TestScheduleRules(t *testing.T) {
	now := time.Date(2025, 7, 1, 10, 0, 0, 0, jst)
	past := now.Add(-time.Hour)
	_, err := mailmagazine.Schedule(uuid.New(), "件名\r\nBcc: x@y", "本文\x07", &past, now)
	var ve *mailmagazine.ValidationError
	if !errors.As(err, &ve) || len(ve.Errors) != 3 {
		t.Fatalf("err = %v", err)
	}
	e, err := mailmagazine.Schedule(uuid.New(), "今週のセキュリティ", "本文\n\t二行目", nil, now)
	if err != nil || !e.ScheduledAt.Equal(time.Date(2025, 7, 2, 15, 0, 0, 0, jst)) {
		t.Fatalf("%+v, %v", e, err)
	}
}

func TestDeliveryClaimsRetriesAndCompletion(t *testing.T) {
	now := time.Date(2025, 7, 2, 15, 0, 0, 0, jst)
	s, _ := mailmagazine.Schedule(uuid.New(), "件名", "本文", nil, now.Add(-time.Hour))
	i := mailmagazine.Issue{}.Evolve(s)
	if _, err := i.ClaimDelivery("a", now.Add(-time.Second)); !errors.Is(err, mailmagazine.ErrNotDue) {
		t.Fatalf("claim before the time: %v", err)
	}
	c, err := i.ClaimDelivery("a", now)
	if err != nil || c.Attempt != 1 || c.AsOf != day("2025-07-02") {
		t.Fatalf("claim: %+v, %v", c, err)
	}
	i = i.Evolve(c)
	if _, err := i.ClaimDelivery("b", now.Add(time.Minute)); !errors.Is(err, mailmagazine.ErrClaimed) {
		t.Fatalf("second sender: %v", err)
	}
	chunk, _ := i.RecordChunk("a", "<1@x>", []string{"a@x.jp", "b@x.jp"}, []mailmagazine.Rejection{{Address: "bad@x.jp", Reason: "550"}}, now)
	i = i.Evolve(chunk)
	if got := i.Pending([]string{"a@x.jp", "bad@x.jp", "b@x.jp", "c@x.jp"}); !reflect.DeepEqual(got, []string{"c@x.jp"}) {
		t.Fatalf("pending: %v", got)
	}
	failed, _ := i.Fail("a", errors.New("451 try later"), now.Add(time.Minute))
	i = i.Evolve(failed)
	if i.Due(now.Add(time.Minute+29*time.Second)) || !i.Due(now.Add(time.Minute+30*time.Second)) {
		t.Fatal("the first retry waits 30 s")
	}
	// A sender that died: its lease runs out and another sender takes the issue.
	c2, _ := i.ClaimDelivery("a", now.Add(2*time.Minute))
	i = i.Evolve(c2)
	if _, err := i.ClaimDelivery("b", now.Add(2*time.Minute+mailmagazine.Lease-time.Second)); !errors.Is(err, mailmagazine.ErrClaimed) {
		t.Fatalf("within the lease: %v", err)
	}
	c3, err := i.ClaimDelivery("b", now.Add(2*time.Minute+mailmagazine.Lease))
	if err != nil || c3.Attempt != 3 || c3.AsOf != day("2025-07-02") {
		t.Fatalf("take-over: %+v, %v", c3, err)
	}
	i = i.Evolve(c3)
	if _, err := i.RecordChunk("a", "<2@x>", []string{"c@x.jp"}, nil, now.Add(8*time.Minute)); !errors.Is(err, mailmagazine.ErrClaimLost) {
		t.Fatalf("the old sender records: %v", err)
	}
	if i.StatusAt(now.Add(6*time.Hour-time.Second), true) != mailmagazine.StatusScheduled || i.StatusAt(now.Add(6*time.Hour), true) != mailmagazine.StatusLate ||
		i.StatusAt(now.Add(7*time.Hour), false) != mailmagazine.StatusScheduled {
		t.Fatal("late six hours after the time, when delivering")
	}
	chunk2, _ := i.RecordChunk("b", "<2@x>", []string{"c@x.jp"}, nil, now.Add(8*time.Minute))
	i = i.Evolve(chunk2)
	sent, _ := i.Complete("b", now.Add(8*time.Minute))
	if sent.Recipients != 3 || sent.Messages != 2 || sent.Rejected != 1 || sent.Attempts != 3 {
		t.Fatalf("sent: %+v", sent)
	}
	if i = i.Evolve(sent); i.StatusAt(now.Add(7*time.Hour), true) != mailmagazine.StatusSent || i.Due(now.Add(time.Hour)) {
		t.Fatalf("after sending: %+v", i)
	}
}
