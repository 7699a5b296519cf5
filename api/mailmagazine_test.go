package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"yorozu/adapters/mailer"
	"yorozu/adapters/mailer/mailtest"
	"yorozu/adapters/postgres/pgtest"
	"yorozu/cmd/yorozu/app"
	"yorozu/cmd/yorozu/app/apptest"
	"yorozu/domain/calendar"
	"yorozu/domain/contract"
	"yorozu/domain/event"
)

type mmRecipient struct {
	Email           string
	CustomerNumbers []string
	Since           string
}

type mmRecipients struct {
	AsOf  string
	Count int
	Items []mmRecipient
	Next  *string
}

type mmHistory struct {
	Items []struct{ Date, Email, CustomerNumber, Change string }
	Next  *string
}

type mmIssue struct {
	IssueID       string
	Subject       string
	ScheduledAt   string
	Status        string
	SentAt        *string
	Recipients    int
	Messages      int
	Rejected      int
	Attempts      int
	LastError     string
	NextAttemptAt *string
}

func recipientsAsOf(t *testing.T, env *apptest.Env, tok, query string) mmRecipients {
	t.Helper()
	var l mmRecipients
	must(t, env.Do("GET", "/api/v1/mail-magazine/recipients"+query, tok, nil), 200).JSON(t, &l)
	return l
}

func emailsOf(l mmRecipients) []string {
	out := []string{}
	for _, r := range l.Items {
		out = append(out, r.Email)
	}
	return out
}

func TestMailMagazineRecipientsFollowTheContracts(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, engine apptest.Engine) {
		env := apptest.Start(t, engine, apptest.Options{})
		tok := env.StaffToken("fujita", "operator")
		auditor := env.StaffToken("ogawa", "auditor")
		a, _ := openContract(t, env, tok, nil)
		b, _ := openContract(t, env, tok, map[string]any{
			"contractContact": map[string]any{"name": "西田　誠", "phone": "06-1234-5678", "email": "Soumu@Yamato-Shoji.co.jp"},
			"securityContact": map[string]any{"nameKana": "ニシダ　マコト", "name": "西田　誠", "department": "情報システム部", "phone": "06-1234-5679", "email": "it@kansai-yamato.co.jp"},
		})

		if l := recipientsAsOf(t, env, tok, "?asOf=2025-07-13"); l.Count != 0 || len(l.Items) != 0 || l.AsOf != "2025-07-13" {
			t.Fatalf("before the opening: %+v", l)
		}
		l := recipientsAsOf(t, env, auditor, "?asOf=2025-07-14")
		if l.Count != 4 || !slices.Equal(emailsOf(l), []string{"it@kansai-yamato.co.jp", "soumu@yamato-shoji.co.jp", "suzuki@yamato-shoji.co.jp", "yamada@yamato-shoji.co.jp"}) {
			t.Fatalf("opening day: %+v", l)
		}
		if s := l.Items[1]; !slices.Equal(s.CustomerNumbers, []string{a, b}) || s.Since != "2025-07-14" {
			t.Fatalf("an address of two contracts: %+v", s)
		}
		// Pages of three.
		p1 := recipientsAsOf(t, env, tok, "?asOf=2025-07-14&limit=3")
		if len(p1.Items) != 3 || p1.Next == nil || p1.Count != 4 {
			t.Fatalf("first page: %+v", p1)
		}
		p2 := recipientsAsOf(t, env, tok, "?asOf=2025-07-14&limit=3&after="+*p1.Next)
		if len(p2.Items) != 1 || p2.Items[0].Email != "yamada@yamato-shoji.co.jp" || p2.Next != nil {
			t.Fatalf("second page: %+v", p2)
		}
		problem(t, env.Do("GET", "/api/v1/mail-magazine/recipients?asOf=2025-7-14", tok, nil), 422)

		// The CSV: UTF-8 with a BOM, several contracts joined by a space.
		r := must(t, env.Do("GET", "/api/v1/mail-magazine/recipients.csv?asOf=2025-07-14", tok, nil), 200)
		want := "\ufeffemail,customerNumbers,since\r\nit@kansai-yamato.co.jp," + b + ",2025-07-14\r\n" +
			"soumu@yamato-shoji.co.jp," + a + " " + b + ",2025-07-14\r\nsuzuki@yamato-shoji.co.jp," + a + ",2025-07-14\r\n" +
			"yamada@yamato-shoji.co.jp," + a + ",2025-07-14\r\n"
		if string(r.Body) != want || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") {
			t.Fatalf("CSV %q:\n%q", r.Header.Get("Content-Type"), r.Body)
		}

		// A's security contact changes on 2025-08-14; B's contract contact on 2025-09-09; A ends on 2025-10-20.
		env.Clock.Set(at("2025-08-01 10:00"))
		sec := noChanges(a)
		for k, v := range map[string]any{"appliedOn": "2025/8/1", "desiredDate": "2025/8/1",
			"changes":                map[string]any{"healthCheckIds": false, "webFiltering": false, "securityTickets": false, "securityContact": true},
			"securityContact":        map[string]any{"nameKana": "タカハシ　ミサキ", "name": "高橋　美咲", "department": "総務部", "phone": "03-1234-5681", "email": "Takahashi@Yamato-Shoji.co.jp"},
			"securityReportPassword": "Takahashi2025Report"} {
			sec[k] = v
		}
		changeOrder(t, env, tok, sec, "2025-08-01T10:00:00+09:00", "2025-08-14 09:00")
		env.Clock.Set(at("2025-09-01 10:00"))
		simple := submit(t, env, tok, form(t, "simpleChange", map[string]any{"customerNumber": b, "appliedOn": "2025/9/1"}))
		must(t, env.Do("POST", "/api/v1/orders/"+simple+"/accept", tok, map[string]string{"acceptedAt": "2025-09-01T10:00:00+09:00"}), 200)
		env.Clock.Set(at("2025-09-09 09:00"))
		runDue(t, env)
		env.Clock.Set(at("2025-10-01 10:00"))
		cancelID := submit(t, env, tok, form(t, "cancel", map[string]any{"customerNumber": a, "appliedOn": "2025/10/1", "desiredDate": "2025/10/20"}))
		must(t, env.Do("POST", "/api/v1/orders/"+cancelID+"/accept", tok, map[string]string{"acceptedAt": "2025-10-01T10:00:00+09:00"}), 200)
		env.Clock.Set(at("2025-10-20 09:00"))
		runDue(t, env)

		for asOf, emails := range map[string][]string{
			"2025-08-13": {"it@kansai-yamato.co.jp", "soumu@yamato-shoji.co.jp", "suzuki@yamato-shoji.co.jp", "yamada@yamato-shoji.co.jp"},
			"2025-08-14": {"it@kansai-yamato.co.jp", "soumu@yamato-shoji.co.jp", "takahashi@yamato-shoji.co.jp", "yamada@yamato-shoji.co.jp"},
			"2025-09-09": {"it@kansai-yamato.co.jp", "ito@yamato-hd.co.jp", "soumu@yamato-shoji.co.jp", "takahashi@yamato-shoji.co.jp", "yamada@yamato-shoji.co.jp"},
			"2025-10-20": {"it@kansai-yamato.co.jp", "ito@yamato-hd.co.jp"},
		} {
			if got := emailsOf(recipientsAsOf(t, env, tok, "?asOf="+asOf)); !slices.Equal(got, emails) {
				t.Errorf("as of %s: %v, want %v", asOf, got, emails)
			}
		}
		// Without asOf: today (2025-10-20).
		if l := recipientsAsOf(t, env, tok, ""); l.AsOf != "2025-10-20" || l.Count != 2 {
			t.Fatalf("today: %+v", l)
		}
		// On 09-09 soumu@ leaves B but stays through A: a recipient since the opening, without a break.
		if l := recipientsAsOf(t, env, tok, "?asOf=2025-09-09"); l.Items[2].Email != "soumu@yamato-shoji.co.jp" || l.Items[2].Since != "2025-07-14" ||
			!slices.Equal(l.Items[2].CustomerNumbers, []string{a}) {
			t.Fatalf("soumu@ on 09-08: %+v", l.Items)
		}

		var h mmHistory
		must(t, env.Do("GET", "/api/v1/mail-magazine/recipients/history?limit=1000", tok, nil), 200).JSON(t, &h)
		var got []string
		for _, e := range h.Items {
			got = append(got, fmt.Sprintf("%s %s %s %s", e.Date, e.Change, e.CustomerNumber, e.Email))
		}
		wantHistory := []string{
			"2025-07-14 added " + a + " soumu@yamato-shoji.co.jp", "2025-07-14 added " + a + " suzuki@yamato-shoji.co.jp",
			"2025-07-14 added " + a + " yamada@yamato-shoji.co.jp",
			"2025-07-14 added " + b + " it@kansai-yamato.co.jp", "2025-07-14 added " + b + " soumu@yamato-shoji.co.jp",
			"2025-08-14 removed " + a + " suzuki@yamato-shoji.co.jp", "2025-08-14 added " + a + " takahashi@yamato-shoji.co.jp",
			"2025-09-09 added " + b + " ito@yamato-hd.co.jp", "2025-09-09 removed " + b + " soumu@yamato-shoji.co.jp",
			"2025-10-20 removed " + a + " soumu@yamato-shoji.co.jp", "2025-10-20 removed " + a + " takahashi@yamato-shoji.co.jp",
			"2025-10-20 removed " + a + " yamada@yamato-shoji.co.jp",
		}
		if !slices.Equal(got, wantHistory) || h.Next != nil {
			t.Fatalf("history:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantHistory, "\n"))
		}
		// Paged by five, the same entries in the same order.
		var paged []string
		for after := ""; ; {
			var p mmHistory
			must(t, env.Do("GET", "/api/v1/mail-magazine/recipients/history?limit=5"+after, tok, nil), 200).JSON(t, &p)
			for _, e := range p.Items {
				paged = append(paged, fmt.Sprintf("%s %s %s %s", e.Date, e.Change, e.CustomerNumber, e.Email))
			}
			if p.Next == nil {
				break
			}
			after = "&after=" + *p.Next
		}
		if !slices.Equal(paged, wantHistory) {
			t.Fatalf("paged history: %v", paged)
		}
	})
}

// seedRecipients appends n contracts opened on 2025-07-01, each registering two addresses of its
// own, as the order process would, and waits for the read models.
func seedRecipients(t testing.TB, env *apptest.Env, n int) []string {
	t.Helper()
	var emails []string
	work := make(chan int)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for i := range work {
				cn := fmt.Sprintf("N%09d", 500_000+i)
				e := contract.ContractOpened{CustomerNumber: cn, OpenedOn: calendar.MustDate(2025, 7, 1),
					ContractContact: contract.Contact{Email: fmt.Sprintf("Staff%06d@Example.co.jp", i)},
					SecurityContact: contract.SecurityContact{Email: fmt.Sprintf("sec%06d@example.co.jp", i)}}
				data, _ := json.Marshal(e)
				if _, err := env.App.Events.Append(context.Background(), contract.Stream(cn), event.NoStream(), []event.Draft{{
					ID: uuid.Must(uuid.NewV7()), Type: "ContractOpened", SchemaVersion: 1, EffectiveAt: e.EffectiveTime(),
					RecordedAt: time.Now(), Actor: "seed", Data: data}}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	for i := range n {
		work <- i
		emails = append(emails, fmt.Sprintf("staff%06d@example.co.jp", i), fmt.Sprintf("sec%06d@example.co.jp", i))
	}
	close(work)
	wg.Wait()
	h, err := env.App.Events.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := env.App.Runner.WaitFor(ctx, h); err != nil {
		t.Fatal(err)
	}
	slices.Sort(emails)
	return emails
}

const listAccount = "list@yorozu-sodan.com"

// withSMTP configures the service to send through srv.
func withSMTP(url string) func(*app.Config) {
	return func(c *app.Config) { c.Mail = mailer.Config{URL: url, ListTo: listAccount} }
}

func getIssue(t *testing.T, env *apptest.Env, tok, id string) mmIssue {
	t.Helper()
	var i mmIssue
	must(t, env.Do("GET", "/api/v1/mail-magazine/issues/"+id, tok, nil), 200).JSON(t, &i)
	return i
}

func deliver(t *testing.T, env *apptest.Env) int {
	t.Helper()
	done, _ := env.App.RunMailDelivery(t.Context()) // a failed attempt is an error too; the issue shows it
	return done.Messages
}

// checkDelivery checks what the server received: To the list account, at most 500 recipients a
// message and only in the envelope, each recipient exactly once, the headers every message needs.
func checkDelivery(t *testing.T, srv *mailtest.Server, want []string) {
	t.Helper()
	var got []string
	ids := map[string]bool{}
	for i, m := range srv.Messages() {
		if len(m.To) == 0 || m.To[0] != listAccount || len(m.To)-1 > 500 {
			t.Fatalf("message %d: envelope of %d recipients, first %v", i, len(m.To), m.To[:min(2, len(m.To))])
		}
		h := m.Header
		if h.Get("To") != "<"+listAccount+">" || h.Get("Date") == "" || h.Get("Message-Id") == "" || ids[h.Get("Message-Id")] ||
			h.Get("List-Unsubscribe") == "" || h.Get("Bcc") != "" || h.Get("Cc") != "" {
			t.Fatalf("message %d headers: %v", i, h)
		}
		ids[h.Get("Message-Id")] = true
		head, _, _ := bytes.Cut(m.Data, []byte("\r\n\r\n"))
		for _, rcpt := range m.To[1:] {
			if bytes.Contains(bytes.ToLower(m.Data), []byte(rcpt)) {
				t.Fatalf("message %d names its recipient %s:\n%s", i, rcpt, head)
			}
		}
		got = append(got, m.To[1:]...)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("%d deliveries for %d recipients (duplicates or losses)", len(got), len(want))
	}
}

func TestMailMagazineIssuesWithoutSMTPStayScheduled(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, engine apptest.Engine) {
		env := apptest.Start(t, engine, apptest.Options{Now: at("2025-07-01 10:00")})
		tok := env.StaffToken("endo", "operator")
		auditor := env.StaffToken("endo-a", "auditor")
		var i mmIssue
		r := must(t, env.Do("POST", "/api/v1/mail-magazine/issues", tok, map[string]any{"subject": "今週のセキュリティ", "body": "本文\n\t二行目"}, "Idempotency-Key", "issue-1"), 201)
		r.JSON(t, &i)
		if i.Status != "scheduled" || i.ScheduledAt != "2025-07-02T06:00:00Z" || r.Header.Get("Location") != "/api/v1/mail-magazine/issues/"+i.IssueID {
			t.Fatalf("issue: %s", r.Body)
		}
		// Wednesday before 15:00: today.
		env.Clock.Set(at("2025-07-09 14:00"))
		var w mmIssue
		must(t, env.Do("POST", "/api/v1/mail-magazine/issues", tok, map[string]any{"subject": "臨時号", "body": "本文"}), 201).JSON(t, &w)
		if w.ScheduledAt != "2025-07-09T06:00:00Z" {
			t.Fatalf("Wednesday morning: %+v", w)
		}
		var s mmIssue
		must(t, env.Do("POST", "/api/v1/mail-magazine/issues", tok, map[string]any{"subject": "号外", "body": "本文", "sendAt": "2025-07-09T18:00:00+09:00"}), 201).JSON(t, &s)
		if s.ScheduledAt != "2025-07-09T09:00:00Z" {
			t.Fatalf("sendAt: %+v", s)
		}
		// A line break in a subject would start a header of its own.
		pr := problem(t, env.Do("POST", "/api/v1/mail-magazine/issues", tok, map[string]any{"subject": "件名\r\nBcc: all@example.com", "body": "本文"}), 422)
		if c := fieldCodes(pr); c["subject"] != "controlCharacter" {
			t.Fatalf("subject with a line break: %+v", pr)
		}
		pr = problem(t, env.Do("POST", "/api/v1/mail-magazine/issues", tok, map[string]any{"subject": strings.Repeat("長", 201), "body": " ", "sendAt": "2025-07-01T10:00:00+09:00"}), 422)
		if c := fieldCodes(pr); c["subject"] != "tooLong" || c["body"] != "required" || c["sendAt"] != "inPast" {
			t.Fatalf("bad issue: %+v", pr)
		}
		problem(t, env.Do("POST", "/api/v1/mail-magazine/issues", tok, map[string]any{"subject": 3, "body": "x", "sendAt": "soon"}), 422)
		problem(t, env.Do("POST", "/api/v1/mail-magazine/issues", auditor, map[string]any{"subject": "x", "body": "x"}), 403)

		env.Clock.Set(at("2025-07-10 12:00"))
		if n := deliver(t, env); n != 0 {
			t.Fatalf("sent %d messages without --smtp", n)
		}
		var l struct{ Items []mmIssue }
		must(t, env.Do("GET", "/api/v1/mail-magazine/issues", auditor, nil), 200).JSON(t, &l)
		if len(l.Items) != 3 || l.Items[0].IssueID != i.IssueID {
			t.Fatalf("issues: %+v", l)
		}
		for _, it := range l.Items {
			if it.Status != "scheduled" || it.Attempts != 0 {
				t.Fatalf("without --smtp: %+v", it)
			}
		}
		problem(t, env.Do("GET", "/api/v1/mail-magazine/issues/"+uuid.NewString(), tok, nil), 404)
	})
}

func TestMailMagazineDeliveryRetriesAndSendsEachRecipientOnce(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, engine apptest.Engine) {
		srv := mailtest.Start(t, mailtest.Options{FailFirst: 2, Reject: map[string]bool{"sec000007@example.co.jp": true}})
		env := apptest.Start(t, engine, apptest.Options{Now: at("2025-07-01 10:00"), Configure: withSMTP(srv.URL(""))})
		tok := env.StaffToken("aoki", "operator")
		emails := seedRecipients(t, env, 600)
		sent, err := env.App.MailMagazineSentEvents(t.Context(), "mail-test")
		if err != nil {
			t.Fatal(err)
		}

		var i mmIssue
		must(t, env.Do("POST", "/api/v1/mail-magazine/issues", tok, map[string]any{"subject": "【YOROZU】今週のセキュリティ情報", "body": "本文\n.\n以上"}), 201).JSON(t, &i)
		env.Clock.Set(at("2025-07-02 14:59"))
		if n := deliver(t, env); n != 0 || getIssue(t, env, tok, i.IssueID).Attempts != 0 {
			t.Fatal("sent before its time")
		}
		// 15:00: the server refuses for now, twice; the retries wait 30 s, then 1 minute.
		env.Clock.Set(at("2025-07-02 15:00"))
		deliver(t, env)
		got := getIssue(t, env, tok, i.IssueID)
		if got.Status != "scheduled" || got.Attempts != 1 || !strings.Contains(got.LastError, "451") || got.NextAttemptAt == nil || *got.NextAttemptAt != "2025-07-02T06:00:30Z" {
			t.Fatalf("after the first attempt: %+v", got)
		}
		env.Clock.Set(at("2025-07-02 15:00").Add(20 * time.Second))
		deliver(t, env)
		if got := getIssue(t, env, tok, i.IssueID); got.Attempts != 1 {
			t.Fatalf("retried within the back-off: %+v", got)
		}
		env.Clock.Set(at("2025-07-02 15:00").Add(30 * time.Second))
		deliver(t, env)
		if got := getIssue(t, env, tok, i.IssueID); got.Attempts != 2 || *got.NextAttemptAt != "2025-07-02T06:01:30Z" {
			t.Fatalf("after the second attempt: %+v", got)
		}
		env.Clock.Set(at("2025-07-02 15:01").Add(30 * time.Second))
		if n := deliver(t, env); n != 3 {
			t.Fatalf("third attempt sent %d messages, want 3 (500, 500, 199 recipients)", n)
		}
		got = getIssue(t, env, tok, i.IssueID)
		if got.Status != "sent" || got.SentAt == nil || *got.SentAt != "2025-07-02T06:01:30Z" || got.Recipients != 1199 ||
			got.Messages != 3 || got.Rejected != 1 || got.Attempts != 3 || got.LastError != "" {
			t.Fatalf("sent: %+v", got)
		}
		checkDelivery(t, srv, slices.DeleteFunc(slices.Clone(emails), func(e string) bool { return e == "sec000007@example.co.jp" }))

		// The integration event carries the counts.
		select {
		case m := <-sent:
			m.Ack()
			var e struct {
				IssueID                        string
				Recipients, Messages, Rejected int
			}
			if err := json.Unmarshal(m.Payload, &e); err != nil || e.IssueID != i.IssueID || e.Recipients != 1199 || e.Messages != 3 || e.Rejected != 1 {
				t.Fatalf("MailMagazineSent: %s (%v)", m.Payload, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no MailMagazineSent integration event")
		}
		// Sent is sent.
		env.Clock.Set(at("2025-07-02 16:00"))
		if n := deliver(t, env); n != 0 || len(srv.Messages()) != 3 {
			t.Fatal("a sent issue went out again")
		}
	})
}

func TestMailMagazineDeliveryResumesAfterAConnectionDrops(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, engine apptest.Engine) {
		srv := mailtest.Start(t, mailtest.Options{DropAfter: 1})
		env := apptest.Start(t, engine, apptest.Options{Now: at("2025-07-01 10:00"), Configure: withSMTP(srv.URL(""))})
		tok := env.StaffToken("ishii", "operator")
		emails := seedRecipients(t, env, 700)
		var i mmIssue
		must(t, env.Do("POST", "/api/v1/mail-magazine/issues", tok, map[string]any{"subject": "件名", "body": "本文", "sendAt": "2025-07-01T11:00:00+09:00"}), 201).JSON(t, &i)
		env.Clock.Set(at("2025-07-01 11:00"))
		if n := deliver(t, env); n != 1 {
			t.Fatalf("first attempt sent %d messages before the server hung up, want 1", n)
		}
		got := getIssue(t, env, tok, i.IssueID)
		if got.Status != "scheduled" || got.Recipients != 500 || got.Messages != 1 || got.LastError == "" {
			t.Fatalf("after the drop: %+v", got)
		}
		env.Clock.Set(at("2025-07-01 11:00").Add(30 * time.Second))
		if n := deliver(t, env); n != 2 {
			t.Fatalf("the retry sent %d messages, want the 2 left", n)
		}
		if got := getIssue(t, env, tok, i.IssueID); got.Status != "sent" || got.Recipients != 1400 || got.Messages != 3 {
			t.Fatalf("sent: %+v", got)
		}
		checkDelivery(t, srv, emails)
	})
}

func TestMailMagazineIsLateAfterSixHoursAndKeepsTrying(t *testing.T) {
	t.Parallel()
	srv := mailtest.Start(t, mailtest.Options{FailFirst: 1000})
	env := apptest.Start(t, apptest.Embedded, apptest.Options{Now: at("2025-07-01 10:00"), Configure: withSMTP(srv.URL(""))})
	tok := env.StaffToken("kudo", "operator")
	emails := seedRecipients(t, env, 3)
	var i mmIssue
	must(t, env.Do("POST", "/api/v1/mail-magazine/issues", tok, map[string]any{"subject": "件名", "body": "本文"}), 201).JSON(t, &i)
	start := at("2025-07-02 15:00")
	for step := time.Duration(0); step < 6*time.Hour; step += 15 * time.Minute {
		env.Clock.Set(start.Add(step))
		deliver(t, env)
	}
	got := getIssue(t, env, tok, i.IssueID)
	if got.Status != "scheduled" || got.Attempts < 10 {
		t.Fatalf("5h45m after its time: %+v", got)
	}
	env.Clock.Set(start.Add(6 * time.Hour))
	if got := getIssue(t, env, tok, i.IssueID); got.Status != "late" {
		t.Fatalf("6 hours after its time: %+v", got)
	}
	deliver(t, env)
	srv.SetFailFirst(0)
	env.Clock.Set(start.Add(6*time.Hour + 15*time.Minute))
	deliver(t, env)
	if got := getIssue(t, env, tok, i.IssueID); got.Status != "sent" || got.Recipients != 6 {
		t.Fatalf("once the server takes it: %+v", got)
	}
	checkDelivery(t, srv, emails)
}

// A sender that dies in the middle of an issue leaves its claim: after the lease another process
// takes the issue over and sends only what the server had not accepted.
func TestMailMagazineDeliveryIsTakenOverAfterACrash(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, engine apptest.Engine) {
		srv := mailtest.Start(t, mailtest.Options{HoldAfter: 1})
		opts := apptest.Options{Now: at("2025-07-01 10:00"), Configure: withSMTP(srv.URL(""))}
		if engine == apptest.Postgres {
			opts.PostgresURL = pgtest.NewDatabase(t)
		}
		env := apptest.Start(t, engine, opts)
		tok := env.StaffToken("hara", "operator")
		emails := seedRecipients(t, env, 600)
		var i mmIssue
		must(t, env.Do("POST", "/api/v1/mail-magazine/issues", tok, map[string]any{"subject": "件名", "body": "本文", "sendAt": "2025-07-01T11:00:00+09:00"}), 201).JSON(t, &i)
		env.Clock.Set(at("2025-07-01 11:00"))

		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() {
			defer close(done)
			_, _ = env.App.RunMailDelivery(ctx)
		}()
		<-srv.Holding() // the second message is on its way: the first is accepted and recorded
		cancel()        // the process is going down...
		srv.Release()   // ...and its connection with it
		<-done
		env.Stop()

		opts.DataDir, opts.PostgresURL, opts.Now = env.Config.DataDir, env.Config.PostgresURL, at("2025-07-01 11:01")
		env = apptest.Start(t, engine, opts)
		tok = env.StaffToken("hara2", "operator")
		if got := getIssue(t, env, tok, i.IssueID); got.Recipients != 500 || got.Messages != 1 || got.Status != "scheduled" {
			t.Fatalf("after the crash: %+v", got)
		}
		if n := deliver(t, env); n != 0 {
			t.Fatalf("the issue was taken while its claim held (%d messages)", n)
		}
		env.Clock.Set(at("2025-07-01 11:06"))
		if n := deliver(t, env); n != 2 {
			t.Fatalf("the take-over sent %d messages, want 2", n)
		}
		if got := getIssue(t, env, tok, i.IssueID); got.Status != "sent" || got.Recipients != 1200 || got.Messages != 3 {
			t.Fatalf("sent: %+v", got)
		}
		checkDelivery(t, srv, emails)
	})
}

// Two replicas on one database deliver at the same moment: one claims the issue, the other
// leaves it; every recipient gets one copy.
func TestMailMagazineReplicasSendOnce(t *testing.T) {
	t.Parallel()
	srv := mailtest.Start(t, mailtest.Options{})
	dsn := pgtest.NewDatabase(t)
	opts := apptest.Options{PostgresURL: dsn, Now: at("2025-07-01 10:00"), Configure: withSMTP(srv.URL(""))}
	a := apptest.Start(t, apptest.Postgres, opts)
	b := apptest.Start(t, apptest.Postgres, opts)
	tok := a.StaffToken("replica-mail", "operator")
	emails := seedRecipients(t, a, 1200)
	var i mmIssue
	must(t, a.Do("POST", "/api/v1/mail-magazine/issues", tok, map[string]any{"subject": "件名", "body": "本文", "sendAt": "2025-07-01T11:00:00+09:00"}), 201).JSON(t, &i)
	// Replica b must see the issue in its read models (shared on PostgreSQL) and the recipients
	// in its own memory.
	deadline := time.Now().Add(20 * time.Second)
	for {
		h, _ := b.App.Events.Head(context.Background())
		if err := b.App.Runner.WaitFor(t.Context(), h); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("replica b did not catch up")
		}
	}
	a.Clock.Set(at("2025-07-01 11:00"))
	b.Clock.Set(at("2025-07-01 11:00"))
	var wg sync.WaitGroup
	for _, env := range []*apptest.Env{a, b} {
		wg.Go(func() { _, _ = env.App.RunMailDelivery(context.Background()) })
	}
	wg.Wait()
	got := getIssue(t, a, tok, i.IssueID)
	if got.Status != "sent" || got.Recipients != 2400 || got.Messages != 5 || got.Attempts != 1 {
		t.Fatalf("sent: %+v", got)
	}
	checkDelivery(t, srv, emails)
}

// With the schedulers on, the delivery job sends an issue within a minute of its time by
// itself.
func TestMailMagazineSchedulerSendsOnTime(t *testing.T) {
	t.Parallel()
	srv := mailtest.Start(t, mailtest.Options{})
	env := apptest.Start(t, apptest.Embedded, apptest.Options{Now: at("2025-07-01 10:00"), Configure: func(c *app.Config) {
		withSMTP(srv.URL(""))(c)
		c.SchedulerInterval = 50 * time.Millisecond
	}})
	tok := env.StaffToken("mizuno", "operator")
	emails := seedRecipients(t, env, 10)
	var i mmIssue
	must(t, env.Do("POST", "/api/v1/mail-magazine/issues", tok, map[string]any{"subject": "件名", "body": "本文", "sendAt": "2025-07-01T10:30:00+09:00"}), 201).JSON(t, &i)
	time.Sleep(300 * time.Millisecond)
	if getIssue(t, env, tok, i.IssueID).Status != "scheduled" || len(srv.Messages()) != 0 {
		t.Fatal("sent before its time")
	}
	env.Clock.Set(at("2025-07-01 10:30"))
	deadline := time.Now().Add(20 * time.Second)
	for getIssue(t, env, tok, i.IssueID).Status != "sent" {
		if time.Now().After(deadline) {
			t.Fatalf("not sent by the scheduler: %+v", getIssue(t, env, tok, i.IssueID))
		}
		time.Sleep(50 * time.Millisecond)
	}
	checkDelivery(t, srv, emails)
}

// Reads of the addresses and of diagnoses are reads of personal data: each request is recorded
// once, by its reader, with what it showed.
func TestMailMagazineAndDiagnosisReadsAreRecorded(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t, apptest.Embedded, apptest.Options{})
	op := env.StaffToken("mm-reader", "operator")
	cn, _ := openContract(t, env, op, nil)
	must(t, env.Do("POST", "/api/v1/catalogs/diagnosis", op, questionnaireV1), 201)
	env.Clock.Set(at("2025-07-20 10:00"))
	var d struct{ DiagnosisID string }
	must(t, env.Do("POST", "/api/v1/diagnoses", op, map[string]any{"customerNumber": cn, "answeredAt": "2025-07-18T10:00:00+09:00",
		"answers": map[string]any{"usb": "yes", "encryption": 2, "training": true, "passwords": "yes"}}), 201).JSON(t, &d)
	for _, c := range []struct {
		path, what, stream, query string
		shown                     []string
	}{
		{"/api/v1/mail-magazine/recipients?asOf=2025-07-14", "mailMagazineRecipients", "personaldatareads-mm-reader", "asOf=2025-07-14", []string{cn}},
		{"/api/v1/mail-magazine/recipients.csv?asOf=2025-07-14", "mailMagazineRecipientsCsv", "personaldatareads-mm-reader", "asOf=2025-07-14", nil},
		{"/api/v1/mail-magazine/recipients/history", "mailMagazineRecipientHistory", "personaldatareads-mm-reader", "", []string{cn}},
		{"/api/v1/diagnoses?status=received", "diagnosisList", "personaldatareads-mm-reader", "status=received", []string{cn}},
		{"/api/v1/diagnoses/" + d.DiagnosisID, "diagnosis", "personaldata-" + cn, "diagnosisId=" + d.DiagnosisID, nil},
	} {
		before := head(t, env)
		must(t, env.Do("GET", c.path, op, nil), 200)
		reads := readsSince(t, env, before)
		if len(reads) != 1 || reads[0].Actor != "mm-reader" || reads[0].Stream != c.stream || reads[0].Data.What != c.what ||
			reads[0].Data.Query != c.query || !slices.Equal(reads[0].Data.Shown, c.shown) {
			t.Fatalf("%s recorded %+v", c.path, reads)
		}
	}
}
