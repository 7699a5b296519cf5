package api_test

import (
	"net/http"
	"testing"
	"time"

	"yorozu/cmd/yorozu/app/apptest"
)

// openContractOn takes a new order applied for on appliedOn (YYYY/M/D) through acceptance at
// acceptedAt and completion on its scheduled date (given, YYYY-MM-DD) and returns its number.
func openContractOn(t *testing.T, env *apptest.Env, tok, appliedOn, acceptedAt, opensOn string, set map[string]any) string {
	t.Helper()
	f := map[string]any{"appliedOn": appliedOn, "desiredDate": appliedOn}
	for k, v := range set {
		f[k] = v
	}
	accepted, err := time.Parse(time.RFC3339, acceptedAt)
	if err != nil {
		t.Fatal(err)
	}
	env.Clock.Set(accepted) // an acceptance is recorded when it happens, not ahead of it
	id := submit(t, env, tok, form(t, "new", f))
	var acc orderBody
	must(t, env.Do("POST", "/api/v1/orders/"+id+"/accept", tok, map[string]string{"acceptedAt": acceptedAt}), 200).JSON(t, &acc)
	if date(acc.ScheduledDate) != opensOn {
		t.Fatalf("scheduled on %s, want %s", date(acc.ScheduledDate), opensOn)
	}
	env.Clock.Set(at(opensOn + " 00:10"))
	runDue(t, env)
	return getOrder(t, env, tok, id).CustomerNumber
}

var questionnaireV1 = map[string]any{"questions": []any{
	map[string]any{"id": "usb", "category": "devices", "text": "USBメモリの利用を制限していますか", "choices": []any{
		map[string]any{"value": "yes", "label": "はい", "score": 10}, map[string]any{"value": "no", "label": "いいえ", "score": 0}}},
	map[string]any{"id": "encryption", "category": "devices", "text": "PCのディスクを暗号化していますか", "choices": []any{
		map[string]any{"value": 2, "label": "全台", "score": 10}, map[string]any{"value": 1, "label": "一部", "score": 5},
		map[string]any{"value": 0, "label": "なし", "score": 0}}},
	map[string]any{"id": "training", "category": "people", "text": "情報セキュリティ教育を年1回以上実施していますか", "choices": []any{
		map[string]any{"value": true, "label": "はい", "score": 10}, map[string]any{"value": false, "label": "いいえ", "score": 0}}},
	map[string]any{"id": "passwords", "category": "people", "text": "パスワードの使い回しを禁止していますか", "choices": []any{
		map[string]any{"value": "yes", "label": "はい", "score": 10}, map[string]any{"value": "no", "label": "いいえ", "score": 0}}},
}}

type diagnosisBody struct {
	DiagnosisID    string
	CustomerNumber string
	AnsweredAt     string
	DueOn          string
	Status         string
	ReportedAt     *string
	Overdue        bool
	Score          int
	MaxScore       int
	RiskLevel      string
	Categories     []struct {
		Category        string
		Score, MaxScore int
	}
	ReportTo             string
	QuestionnaireVersion int
}

type diagnosisList struct {
	Items []diagnosisBody
	Next  *string
}

func listDiagnoses(t *testing.T, env *apptest.Env, tok, query string) []string {
	t.Helper()
	var l diagnosisList
	must(t, env.Do("GET", "/api/v1/diagnoses"+query, tok, nil), 200).JSON(t, &l)
	ids := []string{}
	for _, d := range l.Items {
		ids = append(ids, d.DiagnosisID)
	}
	return ids
}

func TestLeakRiskDiagnosis(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, engine apptest.Engine) {
		env := apptest.Start(t, engine, apptest.Options{Now: at("2025-06-02 09:00")})
		tok := env.StaffToken("ueda", "operator")
		auditor := env.StaffToken("noda", "auditor")
		cn := openContractOn(t, env, tok, "2025/6/2", "2025-06-02T10:00:00+09:00", "2025-06-12", nil)
		late := openContractOn(t, env, tok, "2025/7/1", "2025-07-01T16:00:00+09:00", "2025-07-14", nil)

		env.Clock.Set(at("2025-07-11 16:00"))
		answers := map[string]any{"usb": "yes", "encryption": 1, "training": false, "passwords": "yes"}
		submission := map[string]any{"customerNumber": cn, "answeredAt": "2025-07-11T10:00:00+09:00", "answers": answers}
		if pr := problem(t, env.Do("POST", "/api/v1/diagnoses", tok, submission), 409); pr.Code != "noQuestionnaire" {
			t.Fatalf("before any questionnaire: %+v", pr)
		}

		// The questionnaire: bad ones are refused with every error, a good one is version 1.
		pr := problem(t, env.Do("POST", "/api/v1/catalogs/diagnosis", tok, map[string]any{"questions": []any{
			map[string]any{"id": "q 1", "category": "", "text": "t", "choices": []any{map[string]any{"value": map[string]any{}, "label": "x", "score": "ten"}}},
		}}), 422)
		if c := fieldCodes(pr); c["questions[0].id"] != "invalidFormat" || c["questions[0].category"] != "required" ||
			c["questions[0].choices"] != "required" || c["questions[0].choices[0].value"] != "invalidType" || c["questions[0].choices[0].score"] != "invalidType" {
			t.Fatalf("bad questionnaire: %+v", pr)
		}
		var q struct {
			Version   int
			Questions []any
		}
		must(t, env.Do("POST", "/api/v1/catalogs/diagnosis", tok, questionnaireV1), 201).JSON(t, &q)
		if q.Version != 1 || len(q.Questions) != 4 {
			t.Fatalf("published: %+v", q)
		}
		problem(t, env.Do("POST", "/api/v1/catalogs/diagnosis", auditor, questionnaireV1), 403)

		// Wrong and missing answers: one error per question, all at once, nothing stored.
		pr = problem(t, env.Do("POST", "/api/v1/diagnoses", tok, map[string]any{"customerNumber": cn, "answeredAt": "2025-07-11T10:00:00+09:00",
			"answers": map[string]any{"usb": "maybe", "encryption": 1.5, "training": true, "firewall": "yes"}}), 422)
		if c := fieldCodes(pr); len(c) != 4 || c["answers.usb"] != "invalidChoice" || c["answers.encryption"] != "invalidType" ||
			c["answers.passwords"] != "required" || c["answers.firewall"] != "unknownQuestion" {
			t.Fatalf("bad answers: %+v", pr)
		}
		pr = problem(t, env.Do("POST", "/api/v1/diagnoses", tok, map[string]any{"customerNumber": "12345", "answeredAt": "yesterday", "answers": "all yes"}), 422)
		if c := fieldCodes(pr); c["customerNumber"] != "invalidFormat" || c["answeredAt"] != "invalidFormat" || c["answers"] != "invalidType" {
			t.Fatalf("bad fields: %+v", pr)
		}
		if ids := listDiagnoses(t, env, tok, ""); len(ids) != 0 {
			t.Fatalf("refused submissions were stored: %v", ids)
		}
		// The contract must be active at answeredAt: the second contract opened on 07-14.
		pr = problem(t, env.Do("POST", "/api/v1/diagnoses", tok, map[string]any{"customerNumber": late, "answeredAt": "2025-07-11T10:00:00+09:00", "answers": answers}), 422)
		if pr.Type != "/problems/contractNotActive" || pr.Code != "contractNotActive" || fieldCodes(pr)["customerNumber"] != "contractNotActive" {
			t.Fatalf("contract not yet active: %+v", pr)
		}
		problem(t, env.Do("POST", "/api/v1/diagnoses", tok, map[string]any{"customerNumber": "N999999999", "answeredAt": "2025-07-11T10:00:00+09:00", "answers": answers}), 422)

		// Answered Friday 2025-07-11: due Monday 07-28 (Marine Day 07-21 is no business day).
		var d diagnosisBody
		r := must(t, env.Do("POST", "/api/v1/diagnoses", tok, submission, "Idempotency-Key", "diag-1"), 201)
		r.JSON(t, &d)
		if d.CustomerNumber != cn || d.DueOn != "2025-07-28" || d.Status != "received" || d.Score != 25 || d.MaxScore != 40 ||
			d.RiskLevel != "medium" || d.ReportTo != "suzuki@yamato-shoji.co.jp" || d.Overdue || d.QuestionnaireVersion != 1 ||
			len(d.Categories) != 2 || d.Categories[0].Category != "devices" || d.Categories[0].Score != 15 || d.Categories[0].MaxScore != 20 ||
			d.Categories[1].Category != "people" || d.Categories[1].Score != 10 || d.Categories[1].MaxScore != 20 {
			t.Fatalf("diagnosis: %s", r.Body)
		}
		if r.Header.Get("Location") != "/api/v1/diagnoses/"+d.DiagnosisID {
			t.Fatalf("Location %q", r.Header.Get("Location"))
		}
		var retried diagnosisBody
		must(t, env.Do("POST", "/api/v1/diagnoses", tok, submission, "Idempotency-Key", "diag-1"), 201).JSON(t, &retried)
		if retried.DiagnosisID != d.DiagnosisID {
			t.Fatal("a retried submission made a second diagnosis")
		}

		// One per six months: answered 2025-12-01 is too soon; the next may be answered 2026-01-11.
		env.Clock.Set(at("2025-12-01 10:00"))
		pr = problem(t, env.Do("POST", "/api/v1/diagnoses", tok, map[string]any{"customerNumber": cn, "answeredAt": "2025-12-01T10:00:00+09:00", "answers": answers}), 409)
		if pr.Type != "/problems/tooSoon" || pr.NextAllowedOn != "2026-01-11" {
			t.Fatalf("too soon: %+v", pr)
		}

		// Overdue after 17:30 JST on the due date, until the report is sent.
		env.Clock.Set(at("2025-07-28 17:30"))
		if ids := listDiagnoses(t, env, tok, "?overdue=true"); len(ids) != 0 {
			t.Fatalf("overdue at 17:30: %v", ids)
		}
		env.Clock.Set(at("2025-07-28 17:31"))
		if ids := listDiagnoses(t, env, auditor, "?overdue=true&status=received"); len(ids) != 1 || ids[0] != d.DiagnosisID {
			t.Fatalf("overdue after 17:30: %v", ids)
		}
		if ids := listDiagnoses(t, env, tok, "?overdue=false"); len(ids) != 0 {
			t.Fatalf("not overdue: %v", ids)
		}
		problem(t, env.Do("GET", "/api/v1/diagnoses?overdue=maybe&status=lost", tok, nil), 422)
		pr = problem(t, env.Do("POST", "/api/v1/diagnoses/"+d.DiagnosisID+"/report-sent", tok, map[string]any{"sentAt": "2025-07-10T10:00:00+09:00"}), 422)
		if fieldCodes(pr)["sentAt"] != "beforeAnswer" {
			t.Fatalf("sent before the answers: %+v", pr)
		}
		problem(t, env.Do("POST", "/api/v1/diagnoses/"+d.DiagnosisID+"/report-sent", tok, map[string]any{}), 422)
		env.Clock.Set(at("2025-07-29 10:00"))
		var sent diagnosisBody
		must(t, env.Do("POST", "/api/v1/diagnoses/"+d.DiagnosisID+"/report-sent", tok, map[string]any{"sentAt": "2025-07-29T09:00:00+09:00"}), 200).JSON(t, &sent)
		if sent.Status != "reported" || sent.ReportedAt == nil || sent.Overdue {
			t.Fatalf("reported: %+v", sent)
		}
		if ids := listDiagnoses(t, env, tok, "?status=reported&overdue=false"); len(ids) != 1 {
			t.Fatalf("reported list: %v", ids)
		}
		if ids := listDiagnoses(t, env, tok, "?status=received"); len(ids) != 0 {
			t.Fatalf("received list: %v", ids)
		}
		var one diagnosisBody
		must(t, env.Do("GET", "/api/v1/diagnoses/"+d.DiagnosisID, auditor, nil), 200).JSON(t, &one)
		if one.Status != "reported" || *one.ReportedAt != "2025-07-29T00:00:00Z" {
			t.Fatalf("one: %+v", one)
		}
		problem(t, env.Do("GET", "/api/v1/diagnoses/0199a0e4-1f6b-7c2e-9d34-6c1b0a7e8f21", tok, nil), 404)
		problem(t, env.Do("POST", "/api/v1/diagnoses/0199a0e4-1f6b-7c2e-9d34-6c1b0a7e8f21/report-sent", tok, map[string]any{"sentAt": "2025-07-29T09:00:00+09:00"}), 404)

		// A new questionnaire scores every later submission, whatever its answer date.
		v2 := map[string]any{"questions": []any{map[string]any{"id": "backup", "category": "operations", "text": "バックアップを取得していますか",
			"choices": []any{map[string]any{"value": "daily", "label": "毎日", "score": 4}, map[string]any{"value": "never", "label": "なし", "score": 0}}}}}
		env.Clock.Set(at("2026-01-13 10:00"))
		must(t, env.Do("POST", "/api/v1/catalogs/diagnosis", tok, v2), 201)
		var d2 diagnosisBody
		must(t, env.Do("POST", "/api/v1/diagnoses", tok, map[string]any{"customerNumber": cn, "answeredAt": "2026-01-11T10:00:00+09:00",
			"answers": map[string]any{"backup": "never"}}), 201).JSON(t, &d2)
		if d2.QuestionnaireVersion != 2 || d2.MaxScore != 4 || d2.Score != 0 || d2.RiskLevel != "high" || d2.DueOn != "2026-01-26" {
			t.Fatalf("second diagnosis: %+v", d2)
		}
		if ids := listDiagnoses(t, env, tok, "?limit=1"); len(ids) != 1 {
			t.Fatalf("page of one: %v", ids)
		}
		if r := env.Do("GET", "/api/v1/diagnoses", "", nil); r.Status != http.StatusUnauthorized {
			t.Fatalf("without a token: %d", r.Status)
		}
	})
}
