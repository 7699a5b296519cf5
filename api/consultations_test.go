package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"yorozu/cmd/yorozu/app/apptest"
)

// consultationBody is a consultation as the API shows it.
type consultationBody struct {
	ConsultationID  string
	Status          string
	Channel         string
	ReceivedAt      time.Time
	DueAt           *time.Time
	Overdue         bool
	Category        *string
	Decision        *string
	DeclineReason   *string
	Referral        *string
	RejectionReason *string
	AnsweredAt      *time.Time
	CustomerNumber  string
	Subject         string
	DurationMinutes *int
	PersonName      *string
	Email           *string
	Phone           *string
	Body            *string
	TicketQuote     *struct{ Tickets int }
	TicketOrder     *struct {
		OrderID string
		Status  string
		Tickets int
	}
}

// companyName is the contractor's name on the example forms.
const companyName = "株式会社大和商事"

// intake is an e-mail inquiry from the example contract's customer, received at the JST time
// given as "2006-01-02 15:04"; set changes fields (nil deletes one).
func intake(cn, receivedAt string, set map[string]any) map[string]any {
	body := map[string]any{
		"channel": "email", "receivedAt": at(receivedAt).Format(time.RFC3339), "customerNumber": cn,
		"companyName": companyName, "personName": "山田　太郎", "email": "yamada@yamato-shoji.co.jp",
		"phone": "03-1234-5678", "subject": "不審なメールが届きました", "body": "添付ファイルを開いてしまいました。\n対処を教えてください。",
	}
	for k, v := range set {
		if v == nil {
			delete(body, k)
		} else {
			body[k] = v
		}
	}
	return body
}

type received struct {
	ConsultationID  string
	Status          string
	DueAt           *time.Time
	RejectionReason *string
}

func receive(t *testing.T, env *apptest.Env, tok string, body map[string]any) received {
	t.Helper()
	var out received
	must(t, env.Do("POST", "/api/v1/consultations", tok, body), 201).JSON(t, &out)
	if out.ConsultationID == "" {
		t.Fatalf("intake answered no consultationId: %+v", out)
	}
	return out
}

func getConsultation(t *testing.T, env *apptest.Env, tok, id string) consultationBody {
	t.Helper()
	var c consultationBody
	must(t, env.Do("GET", "/api/v1/consultations/"+id, tok, nil), 200).JSON(t, &c)
	return c
}

func consultationCall(t *testing.T, env *apptest.Env, tok, id, action string, body any, status int) consultationBody {
	t.Helper()
	var c consultationBody
	r := must(t, env.Do("POST", "/api/v1/consultations/"+id+"/"+action, tok, body), status)
	if status == 200 {
		r.JSON(t, &c)
	}
	return c
}

// helpDesk opens the example contract (from 2025-07-14) and returns a token and its number.
func helpDesk(t *testing.T, engine apptest.Engine) (*apptest.Env, string, string) {
	env := apptest.Start(t, engine, apptest.Options{})
	tok := env.StaffToken("desk", "operator")
	cn, _ := openContract(t, env, tok, nil)
	return env, tok, cn
}

func TestConsultationDueTimeFollowsTheBusinessCalendar(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine apptest.Engine) {
		env, tok, cn := helpDesk(t, engine)
		for _, tc := range []struct {
			name, received, due string
		}{
			{"received 10:00, due 10:00 the next business day", "2025-07-15 10:00", "2025-07-16 10:00"},
			{"across lunch: 11:00 + 1 h + 4.5 h + 1.5 h", "2025-07-15 11:00", "2025-07-16 11:00"},
			{"received in lunch counts from 13:00, due exactly at 12:00", "2025-07-15 12:30", "2025-07-16 12:00"},
			{"received at the opening, due exactly at the close", "2025-07-15 09:30", "2025-07-15 17:30"},
			{"Friday 16:00, due Monday 16:00", "2025-07-25 16:00", "2025-07-28 16:00"},
			{"Saturday, due Monday 17:30", "2025-07-26 10:00", "2025-07-28 17:30"},
			{"Friday before Marine Day, due Tuesday", "2025-07-18 16:00", "2025-07-22 16:00"},
			{"Golden Week 2026: 05-02 to 05-06 off", "2026-05-01 16:00", "2026-05-07 16:00"},
			{"year-end break Dec 29 to Jan 3", "2025-12-26 16:00", "2026-01-05 16:00"},
			{"received in the year-end break", "2025-12-30 10:00", "2026-01-05 17:30"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got := receive(t, env, tok, intake(cn, tc.received, nil))
				if got.Status != "open" || got.DueAt == nil || !got.DueAt.Equal(at(tc.due)) || got.RejectionReason != nil {
					t.Fatalf("intake answered %+v (due %v), want open and due %s JST", got, got.DueAt, tc.due)
				}
				if c := getConsultation(t, env, tok, got.ConsultationID); c.DueAt == nil || !c.DueAt.Equal(at(tc.due)) {
					t.Fatalf("the consultation reads due %v, want %s JST", c.DueAt, tc.due)
				}
			})
		}
		// A phone consultation has no due time.
		got := receive(t, env, tok, intake(cn, "2025-07-15 10:00", map[string]any{"channel": "phone", "email": nil, "durationMinutes": 12}))
		if got.Status != "open" || got.DueAt != nil {
			t.Fatalf("phone intake: %+v", got)
		}
	})
}

func TestConsultationIntakeIsAuthenticatedAgainstTheContract(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine apptest.Engine) {
		env, tok, cn := helpDesk(t, engine)
		for _, tc := range []struct {
			name   string
			body   map[string]any
			reason string // "" = accepted
		}{
			{"the contractor's name", intake(cn, "2025-07-15 10:00", nil), ""},
			{"name with a full-width space and full-width letters", intake(cn, "2025-07-15 10:00", map[string]any{"companyName": " 株式会社　大和商事 "}), ""},
			{"another company's name", intake(cn, "2025-07-15 10:00", map[string]any{"companyName": "株式会社大和物産"}), "companyNameMismatch"},
			{"(株) is not 株式会社", intake(cn, "2025-07-15 10:00", map[string]any{"companyName": "(株)大和商事"}), "companyNameMismatch"},
			{"unknown customer number", intake("N999999999", "2025-07-15 10:00", nil), "unknownCustomer"},
			{"before the contract opened", intake(cn, "2025-07-11 10:00", nil), "contractNotActive"},
			{"phone in business hours", intake(cn, "2025-07-15 13:00", map[string]any{"channel": "phone"}), ""},
			{"phone on a Saturday", intake(cn, "2025-07-19 10:00", map[string]any{"channel": "phone"}), "outsideBusinessHours"},
			{"phone at lunch", intake(cn, "2025-07-15 12:15", map[string]any{"channel": "phone"}), "outsideBusinessHours"},
			{"phone after the close", intake(cn, "2025-07-15 17:30", map[string]any{"channel": "phone"}), "outsideBusinessHours"},
			{"phone on a national holiday", intake(cn, "2025-07-21 10:00", map[string]any{"channel": "phone"}), "outsideBusinessHours"},
			{"e-mail any time", intake(cn, "2025-07-19 23:59", nil), ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got := receive(t, env, tok, tc.body)
				switch {
				case tc.reason == "" && (got.Status != "open" || got.RejectionReason != nil):
					t.Fatalf("want accepted, got %+v", got)
				case tc.reason != "" && (got.Status != "rejected" || got.RejectionReason == nil || *got.RejectionReason != tc.reason || got.DueAt != nil):
					t.Fatalf("want rejected for %s, got %+v", tc.reason, got)
				}
				if c := getConsultation(t, env, tok, got.ConsultationID); c.Status != got.Status {
					t.Fatalf("reads %s, intake answered %s", c.Status, got.Status)
				}
			})
		}
		// A contract terminated is not active any more.
		env.Clock.Set(at("2025-08-01 10:00"))
		cancel := submit(t, env, tok, form(t, "cancel", map[string]any{"customerNumber": cn, "appliedOn": "2025/8/1", "desiredDate": "2025/8/29"}))
		must(t, env.Do("POST", "/api/v1/orders/"+cancel+"/accept", tok, map[string]string{"acceptedAt": "2025-08-01T10:00:00+09:00"}), 200)
		env.Clock.Set(at("2025-08-29 09:00"))
		must(t, env.Do("POST", "/api/v1/orders/"+cancel+"/complete", tok, nil), 200)
		if got := receive(t, env, tok, intake(cn, "2025-08-28 10:00", nil)); got.Status != "open" {
			t.Fatalf("the day before termination: %+v", got)
		}
		if got := receive(t, env, tok, intake(cn, "2025-08-29 10:00", nil)); got.RejectionReason == nil || *got.RejectionReason != "contractNotActive" {
			t.Fatalf("on the termination date: %+v", got)
		}
	})
}

func TestInvalidIntakeReportsEveryErrorAndStoresNothing(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine apptest.Engine) {
		env := apptest.Start(t, engine, apptest.Options{})
		tok := env.StaffToken("desk", "operator")
		before := head(t, env)
		for _, tc := range []struct {
			name string
			body any
			want map[string]string
		}{
			{"empty object", map[string]any{}, map[string]string{
				"channel": "required", "receivedAt": "required", "customerNumber": "required", "companyName": "required",
				"personName": "required", "subject": "required"}},
			{"bad values", map[string]any{
				"channel": "fax", "receivedAt": "2025-07-15 10:00", "customerNumber": "12345", "companyName": "大和\u0007商事",
				"personName": "山田\u202e太郎", "email": "not an address", "phone": "03-12", "subject": "件名\n改行", "body": 42,
				"durationMinutes": 1.5, "priority": "high"}, map[string]string{
				"channel": "invalidChoice", "receivedAt": "invalidInstant", "customerNumber": "invalidFormat", "companyName": "controlCharacter",
				"personName": "controlCharacter", "email": "invalidEmail", "phone": "invalidPhone", "subject": "controlCharacter",
				"body": "invalidType", "durationMinutes": "invalidType", "priority": "unknownField"}},
			{"an e-mail without address or body", intake("N000000001", "2025-07-15 10:00", map[string]any{"email": nil, "body": "  "}), map[string]string{
				"email": "required", "body": "required"}},
			{"a phone call needs a number, and durationMinutes is for calls", intake("N000000001", "2025-07-15 10:00", map[string]any{"channel": "phone", "phone": nil, "durationMinutes": -1}), map[string]string{
				"phone": "required", "durationMinutes": "outOfRange"}},
			{"durationMinutes on an e-mail", intake("N000000001", "2025-07-15 10:00", map[string]any{"durationMinutes": 5}), map[string]string{
				"durationMinutes": "mustBeAbsent"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := must(t, env.Do("POST", "/api/v1/consultations", tok, tc.body), 422)
				expectFieldErrors(t, r, tc.want)
			})
		}
		must(t, env.Do("POST", "/api/v1/consultations", tok, `[1, 2]`), 400)
		must(t, env.Do("POST", "/api/v1/consultations", tok, `{"channel": `), 400)
		if head(t, env) != before {
			t.Fatal("invalid intakes stored events")
		}
	})
}

// expectFieldErrors checks a 422 problem lists exactly the field errors want (field → code).
func expectFieldErrors(t *testing.T, r *apptest.Response, want map[string]string) {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Fatalf("content type %s", ct)
	}
	var p struct {
		Errors []struct{ Field, Code string }
	}
	r.JSON(t, &p)
	got := map[string]string{}
	for _, e := range p.Errors {
		got[e.Field] = e.Code
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("field errors\n got %v\nwant %v", got, want)
	}
}

func TestConsultationTriage(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine apptest.Engine) {
		env, tok, cn := helpDesk(t, engine)
		id := receive(t, env, tok, intake(cn, "2025-07-15 10:00", nil)).ConsultationID
		for _, category := range []string{"incident", "threat", "suspiciousMail", "oneClickFraud", "fakeWarning", "ransomware", "other"} {
			c := consultationCall(t, env, tok, id, "triage", map[string]any{"category": category}, 200)
			if c.Category == nil || *c.Category != category || c.Decision == nil || *c.Decision != "answer" || c.DeclineReason != nil || c.Referral != nil {
				t.Fatalf("triage %s: %+v", category, c)
			}
		}
		for _, reason := range []string{"legalInterpretation", "electromagnetic", "ispQuality", "contractPayment", "investigationRequest",
			"thirdPartyProduct", "authorityContact", "criminalInvestigation", "basicOperation"} {
			c := consultationCall(t, env, tok, id, "triage", map[string]any{"decision": "decline", "reason": reason}, 200)
			if c.Decision == nil || *c.Decision != "decline" || c.DeclineReason == nil || *c.DeclineReason != reason || c.Category != nil || c.Referral != nil {
				t.Fatalf("decline %s: %+v", reason, c)
			}
		}
		for _, referral := range []string{"consumerHotline", "policeCyberDesk", "illegalHarmfulInfoCenter", "antiPhishingCouncil"} {
			c := consultationCall(t, env, tok, id, "triage", map[string]any{"decision": "refer", "referral": referral, "category": "suspiciousMail"}, 200)
			if c.Decision == nil || *c.Decision != "refer" || c.Referral == nil || *c.Referral != referral || c.DeclineReason != nil {
				t.Fatalf("refer to %s: %+v", referral, c)
			}
		}
		before := head(t, env)
		for _, tc := range []struct {
			body map[string]any
			want map[string]string
		}{
			{map[string]any{}, map[string]string{"category": "required"}},
			{map[string]any{"category": "virus"}, map[string]string{"category": "invalidChoice"}},
			{map[string]any{"decision": "decline"}, map[string]string{"reason": "required"}},
			{map[string]any{"decision": "decline", "reason": "weather"}, map[string]string{"reason": "invalidChoice"}},
			{map[string]any{"decision": "refer", "reason": "ispQuality"}, map[string]string{"reason": "mustBeAbsent", "referral": "required"}},
			{map[string]any{"decision": "answer", "category": "incident", "referral": "consumerHotline"}, map[string]string{"referral": "mustBeAbsent"}},
			{map[string]any{"decision": "ignore"}, map[string]string{"decision": "invalidChoice"}},
		} {
			expectFieldErrors(t, must(t, env.Do("POST", "/api/v1/consultations/"+id+"/triage", tok, tc.body), 422), tc.want)
		}
		if head(t, env) != before {
			t.Fatal("refused triages stored events")
		}
		must(t, env.Do("POST", "/api/v1/consultations/0199a0e4-1f6b-7c2e-9d34-6c1b0a7e8f21/triage", tok, map[string]any{"category": "other"}), 404)
	})
}

func TestConsultationLifecycle(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine apptest.Engine) {
		env, tok, cn := helpDesk(t, engine)
		env.Clock.Set(at("2025-07-15 10:00"))
		id := receive(t, env, tok, intake(cn, "2025-07-15 10:00", nil)).ConsultationID

		// A reply before receipt makes no sense; a reply in time answers it.
		expectFieldErrors(t, must(t, env.Do("POST", "/api/v1/consultations/"+id+"/reply", tok,
			map[string]any{"answeredAt": "2025-07-15T09:00:00+09:00", "body": "x"}), 422), map[string]string{"answeredAt": "tooEarly"})
		expectFieldErrors(t, must(t, env.Do("POST", "/api/v1/consultations/"+id+"/reply", tok, map[string]any{}), 422), map[string]string{"body": "required"})
		c := consultationCall(t, env, tok, id, "reply", map[string]any{"answeredAt": "2025-07-15T15:00:00+09:00", "body": "添付を開いた PC を LAN から外してください。"}, 200)
		if c.Status != "answered" || c.AnsweredAt == nil || !c.AnsweredAt.Equal(at("2025-07-15 15:00")) || c.Overdue {
			t.Fatalf("answered: %+v", c)
		}
		consultationCall(t, env, tok, id, "reply", map[string]any{"body": "again"}, 409)
		consultationCall(t, env, tok, id, "reopen", map[string]any{"reopenedAt": "2025-07-15T14:00:00+09:00"}, 422)

		// Reopened: open again, due 7 business hours after the reopening.
		c = consultationCall(t, env, tok, id, "reopen", map[string]any{"reopenedAt": "2025-07-17T16:00:00+09:00"}, 200)
		if c.Status != "open" || c.AnsweredAt != nil || c.DueAt == nil || !c.DueAt.Equal(at("2025-07-18 16:00")) {
			t.Fatalf("reopened: %+v", c)
		}
		consultationCall(t, env, tok, id, "reopen", nil, 409)
		c = consultationCall(t, env, tok, id, "close", map[string]any{"closedAt": "2025-07-18T10:00:00+09:00"}, 200)
		if c.Status != "closed" {
			t.Fatalf("closed: %+v", c)
		}
		for action, body := range map[string]any{
			"close": nil, "reply": map[string]any{"body": "x"}, "triage": map[string]any{"category": "other"},
			"ticket-quote": map[string]any{"tickets": 1},
		} {
			consultationCall(t, env, tok, id, action, body, 409)
		}
		consultationCall(t, env, tok, id, "reopen", nil, 422) // now (07-15) is before the closing
		env.Clock.Set(at("2025-07-18 11:00"))
		if c := consultationCall(t, env, tok, id, "reopen", nil, 200); c.Status != "open" || !c.DueAt.Equal(at("2025-07-22 11:00")) {
			t.Fatalf("reopened after closing: %+v", c)
		}

		// A rejected inquiry allows nothing.
		rej := receive(t, env, tok, intake(cn, "2025-07-15 10:00", map[string]any{"companyName": "別会社"})).ConsultationID
		for action, body := range map[string]any{
			"triage": map[string]any{"category": "other"}, "reply": map[string]any{"body": "x"}, "close": nil,
			"reopen": nil, "ticket-quote": map[string]any{"tickets": 2},
		} {
			consultationCall(t, env, tok, rej, action, body, 409)
		}
		must(t, env.Do("GET", "/api/v1/consultations/not-a-uuid", tok, nil), 404)
		must(t, env.Do("GET", "/api/v1/consultations/0199a0e4-1f6b-7c2e-9d34-6c1b0a7e8f21", tok, nil), 404)
	})
}

func TestConsultationOverdueQueue(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine apptest.Engine) {
		env, tok, cn := helpDesk(t, engine)
		env.Clock.Set(at("2025-07-15 10:00"))
		onTime := receive(t, env, tok, intake(cn, "2025-07-15 10:00", nil)).ConsultationID  // due 07-16 10:00
		late := receive(t, env, tok, intake(cn, "2025-07-15 10:00", nil)).ConsultationID    // answered 07-16 10:01
		waiting := receive(t, env, tok, intake(cn, "2025-07-15 11:00", nil)).ConsultationID // due 07-16 11:00, never answered
		phone := receive(t, env, tok, intake(cn, "2025-07-15 11:00", map[string]any{"channel": "phone"})).ConsultationID
		receive(t, env, tok, intake(cn, "2025-07-15 11:00", map[string]any{"companyName": "別会社"}))

		consultationCall(t, env, tok, onTime, "reply", map[string]any{"answeredAt": "2025-07-16T10:00:00+09:00", "body": "ok"}, 200)
		consultationCall(t, env, tok, late, "reply", map[string]any{"answeredAt": "2025-07-16T10:01:00+09:00", "body": "late"}, 200)

		ids := func(query string) string {
			var page struct {
				Items []consultationBody
				Next  *string
			}
			must(t, env.Do("GET", "/api/v1/consultations"+query, tok, nil), 200).JSON(t, &page)
			var out []string
			for _, c := range page.Items {
				name := map[string]string{onTime: "onTime", late: "late", waiting: "waiting", phone: "phone"}[c.ConsultationID]
				if name == "" {
					name = c.Status
				}
				if c.PersonName != nil || c.Email != nil || c.Phone != nil || c.Body != nil {
					t.Fatalf("a list shows personal data: %+v", c)
				}
				out = append(out, fmt.Sprintf("%s:%v", name, c.Overdue))
			}
			return strings.Join(out, " ")
		}
		env.Clock.Set(at("2025-07-16 10:30"))
		if got := ids("?status=open"); got != "waiting:false phone:false" {
			t.Fatalf("open queue at 10:30: %s", got)
		}
		if got := ids("?overdue=true"); got != "late:true" {
			t.Fatalf("overdue at 10:30: %s", got)
		}
		env.Clock.Set(at("2025-07-16 11:01"))
		if got := ids("?status=open&overdue=true"); got != "waiting:true" {
			t.Fatalf("overdue open queue at 11:01: %s", got)
		}
		if got := ids("?overdue=false"); got != "onTime:false phone:false rejected:false" {
			t.Fatalf("not overdue at 11:01: %s", got)
		}
		if c := getConsultation(t, env, tok, waiting); !c.Overdue || c.PersonName == nil || *c.PersonName != "山田　太郎" {
			t.Fatalf("one consultation: %+v", c)
		}
		// Paging.
		var first struct {
			Items []consultationBody
			Next  *string
		}
		must(t, env.Do("GET", "/api/v1/consultations?limit=2", tok, nil), 200).JSON(t, &first)
		if len(first.Items) != 2 || first.Next == nil {
			t.Fatalf("first page: %d items, next %v", len(first.Items), first.Next)
		}
		var second struct{ Items []consultationBody }
		must(t, env.Do("GET", "/api/v1/consultations?limit=10&after="+*first.Next, tok, nil), 200).JSON(t, &second)
		if len(second.Items) != 3 || second.Items[0].ConsultationID == first.Items[1].ConsultationID {
			t.Fatalf("second page: %+v", second.Items)
		}
		must(t, env.Do("GET", "/api/v1/consultations?overdue=maybe&status=lost", tok, nil), 422)
	})
}

func TestConsultationStatisticsAndCallLists(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine apptest.Engine) {
		env, tok, cn := helpDesk(t, engine)
		env.Clock.Set(at("2025-07-31 10:00"))
		triage := func(id string, body map[string]any) { consultationCall(t, env, tok, id, "triage", body, 200) }
		triage(receive(t, env, tok, intake(cn, "2025-07-15 10:00", nil)).ConsultationID, map[string]any{"category": "suspiciousMail"})
		triage(receive(t, env, tok, intake(cn, "2025-07-16 10:00", nil)).ConsultationID, map[string]any{"category": "suspiciousMail"})
		triage(receive(t, env, tok, intake(cn, "2025-07-17 10:00", nil)).ConsultationID, map[string]any{"decision": "decline", "reason": "ispQuality"})
		triage(receive(t, env, tok, intake(cn, "2025-07-18 10:00", map[string]any{"channel": "phone", "durationMinutes": 45})).ConsultationID,
			map[string]any{"decision": "refer", "referral": "policeCyberDesk", "category": "oneClickFraud"})
		receive(t, env, tok, intake(cn, "2025-07-18 11:00", map[string]any{"channel": "phone", "durationMinutes": 30}))
		receive(t, env, tok, intake(cn, "2025-07-19 10:00", map[string]any{"companyName": "別会社"}))
		receive(t, env, tok, intake(cn, "2025-08-01 10:00", nil))
		callback := receive(t, env, tok, intake(cn, "2025-07-22 10:00", nil)).ConsultationID
		consultationCall(t, env, tok, callback, "reply", map[string]any{"answeredAt": "2025-07-22T14:00:00+09:00", "channel": "phone", "body": "お電話で説明", "durationMinutes": 31}, 200)
		consultationCall(t, env, tok, callback, "reopen", nil, 200)
		consultationCall(t, env, tok, callback, "reply", map[string]any{"body": "e-mail", "durationMinutes": 40}, 422)

		var stats struct {
			Month                                               string
			Received, Accepted, Rejected                        int
			ByCategory, ByDecision, ByDeclineReason, ByReferral map[string]int
		}
		must(t, env.Do("GET", "/api/v1/consultations/stats?month=2025-07", tok, nil), 200).JSON(t, &stats)
		if stats.Month != "2025-07" || stats.Received != 7 || stats.Accepted != 6 || stats.Rejected != 1 ||
			stats.ByCategory["suspiciousMail"] != 2 || stats.ByCategory["oneClickFraud"] != 1 || stats.ByCategory["untriaged"] != 3 ||
			stats.ByCategory["ransomware"] != 0 || len(stats.ByCategory) != 8 ||
			stats.ByDecision["answer"] != 2 || stats.ByDecision["decline"] != 1 || stats.ByDecision["refer"] != 1 || stats.ByDecision["untriaged"] != 2 ||
			stats.ByDeclineReason["ispQuality"] != 1 || len(stats.ByDeclineReason) != 9 || stats.ByReferral["policeCyberDesk"] != 1 || len(stats.ByReferral) != 4 {
			t.Fatalf("stats of July: %+v", stats)
		}
		must(t, env.Do("GET", "/api/v1/consultations/stats?month=2025-8", tok, nil), 422)

		var calls struct {
			Items []struct {
				ConsultationID, Kind string
				DurationMinutes      int
			}
		}
		must(t, env.Do("GET", "/api/v1/consultations/long-calls?month=2025-07", tok, nil), 200).JSON(t, &calls)
		if len(calls.Items) != 2 || calls.Items[0].DurationMinutes != 45 || calls.Items[0].Kind != "intake" ||
			calls.Items[1].DurationMinutes != 31 || calls.Items[1].Kind != "callback" || calls.Items[1].ConsultationID != callback {
			t.Fatalf("long calls of July (30 minutes is not long): %+v", calls.Items)
		}

		// Outbound calls: a second contract that never consulted, opened 2025-07-14 too.
		other, _ := openContract(t, env, tok, map[string]any{"commonCustomerId": "C1234567891"})
		list := func(asOf string) []string {
			var page struct {
				Items []struct {
					CustomerNumber     string
					LastConsultationAt *time.Time
				}
			}
			must(t, env.Do("GET", "/api/v1/consultations/outbound-calls?asOf="+asOf, tok, nil), 200).JSON(t, &page)
			var out []string
			for _, it := range page.Items {
				out = append(out, it.CustomerNumber)
			}
			return out
		}
		if got := list("2025-10-13"); len(got) != 0 {
			t.Fatalf("on 10-13 nobody is quiet for three months yet: %v", got)
		}
		if got := list("2025-10-14"); fmt.Sprint(got) != fmt.Sprint([]string{other}) {
			t.Fatalf("on 10-14 the contract that never consulted (opened 07-14): %v", got)
		}
		if got := list("2025-11-01"); fmt.Sprint(got) != fmt.Sprint([]string{cn, other}) {
			t.Fatalf("on 11-01 both (last consultation 08-01): %v", got)
		}
		must(t, env.Do("GET", "/api/v1/consultations/outbound-calls?asOf=someday", tok, nil), 422)
	})
}

func TestTicketQuoteBoughtByAChangeOrder(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine apptest.Engine) {
		env, tok, cn := helpDesk(t, engine)
		env.Clock.Set(at("2025-08-01 10:00"))
		id := receive(t, env, tok, intake(cn, "2025-08-01 10:00", nil)).ConsultationID

		change := func(set map[string]any) map[string]any {
			f := form(t, "change", map[string]any{"customerNumber": cn, "appliedOn": "2025/8/1", "desiredDate": "2025/8/1", "securityTicketCount": 3})
			for k, v := range set {
				f[k] = v
			}
			return f
		}
		before := head(t, env)
		for _, tc := range []struct {
			name string
			set  map[string]any
			code string
		}{
			{"not a UUID", map[string]any{"consultationId": "abc"}, "invalidFormat"},
			{"no such consultation", map[string]any{"consultationId": "0199a0e4-1f6b-7c2e-9d34-6c1b0a7e8f21"}, "notFound"},
			{"no quote yet", map[string]any{"consultationId": id}, "noTicketQuote"},
			{"the order buys no tickets", map[string]any{"consultationId": id, "changes": map[string]any{"healthCheckIds": true, "webFiltering": false, "securityTickets": false, "securityContact": true}, "securityTicketCount": nil}, "mustBeAbsent"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				expectFieldErrors(t, must(t, env.Do("POST", "/api/v1/orders", tok, change(tc.set)), 422), map[string]string{"consultationId": tc.code})
			})
		}
		if head(t, env) != before {
			t.Fatal("refused orders stored events")
		}
		must(t, env.Do("POST", "/api/v1/consultations/"+id+"/ticket-quote", tok, map[string]any{"tickets": 0}), 422)
		must(t, env.Do("POST", "/api/v1/consultations/"+id+"/ticket-quote", tok, map[string]any{}), 422)
		c := consultationCall(t, env, tok, id, "ticket-quote", map[string]any{"tickets": 3}, 200)
		if c.TicketQuote == nil || c.TicketQuote.Tickets != 3 || c.TicketOrder != nil {
			t.Fatalf("quoted: %+v", c)
		}

		orderID := submit(t, env, tok, change(map[string]any{"consultationId": id}))
		if c := getConsultation(t, env, tok, id); c.TicketOrder == nil || c.TicketOrder.OrderID != orderID || c.TicketOrder.Status != "received" || c.TicketOrder.Tickets != 3 {
			t.Fatalf("the consultation does not show its order: %+v", c.TicketOrder)
		}
		// An amendment without the consultation unlinks the order; naming it again links it back.
		must(t, env.Do("PUT", "/api/v1/orders/"+orderID, tok, change(nil), "If-Match", `"1"`), 200)
		if c := getConsultation(t, env, tok, id); c.TicketOrder != nil {
			t.Fatalf("the amended order no longer buys the quote: %+v", c.TicketOrder)
		}
		must(t, env.Do("PUT", "/api/v1/orders/"+orderID, tok, change(map[string]any{"consultationId": id, "securityTicketCount": 4}), "If-Match", `"2"`), 200)
		if c := getConsultation(t, env, tok, id); c.TicketOrder == nil || c.TicketOrder.Tickets != 4 || c.TicketOrder.Status != "received" {
			t.Fatalf("linked again: %+v", c.TicketOrder)
		}
		must(t, env.Do("POST", "/api/v1/orders/"+orderID+"/accept", tok, map[string]string{"acceptedAt": "2025-08-01T10:00:00+09:00"}), 200)
		env.Clock.Set(at("2025-08-14 09:00"))
		must(t, env.Do("POST", "/api/v1/orders/"+orderID+"/complete", tok, nil), 200)
		if c := getConsultation(t, env, tok, id); c.TicketOrder == nil || c.TicketOrder.Status != "completed" {
			t.Fatalf("after completion: %+v", c.TicketOrder)
		}
		if ct := getContract(t, env, tok, cn); ct.TicketsPurchased != 2+4 {
			t.Fatalf("tickets purchased: %d", ct.TicketsPurchased)
		}
		// Another customer's consultation cannot be bought.
		if r := env.Do("POST", "/api/v1/orders", tok, form(t, "new", map[string]any{"appliedOn": "2025/8/14", "desiredDate": "2025/8/14", "consultationId": id})); r.Status != http.StatusUnprocessableEntity {
			t.Fatalf("a new order naming a consultation: %d %s", r.Status, r.Body)
		}
	})
}
