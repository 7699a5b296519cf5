package diagnosis_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"yorozu/domain/calendar"
	"yorozu/domain/diagnosis"
)

var jst = calendar.JST()

// questionnaire: two categories, best choices 10 + 5 + 10 = 25.
func questionnaire(t *testing.T) diagnosis.Published {
	t.Helper()
	var q diagnosis.Questionnaire
	if err := json.Unmarshal([]byte(`{"questions": [
		{"id": "q1", "category": "devices", "text": "USBメモリの利用を制限していますか", "choices": [
			{"value": "yes", "label": "はい", "score": 10}, {"value": "no", "label": "いいえ", "score": 0}]},
		{"id": "q2", "category": "devices", "text": "PCは暗号化していますか", "choices": [
			{"value": 2, "label": "全台", "score": 5}, {"value": 1, "label": "一部", "score": 2}, {"value": 0, "label": "なし", "score": 0}]},
		{"id": "q3", "category": "people", "text": "教育を実施していますか", "choices": [
			{"value": true, "label": "はい", "score": 10}, {"value": false, "label": "いいえ", "score": 0}]}
	]}`), &q); err != nil {
		t.Fatal(err)
	}
	if err := q.Validate(); err != nil {
		t.Fatal(err)
	}
	return diagnosis.Published{Questionnaire: q, Version: 1}
}

func answers(t *testing.T, raw string) map[string]diagnosis.Value {
	t.Helper()
	var a map[string]diagnosis.Value
	if err := json.Unmarshal([]byte(raw), &a); err != nil {
		t.Fatal(err)
	}
	return a
}

var active = diagnosis.Contract{Exists: true, OpenedOn: calendar.MustDate(2025, 7, 14), SecurityEmail: "suzuki@yamato-shoji.co.jp"}

func submit(t *testing.T, h diagnosis.History, at time.Time, raw string) (*diagnosis.DiagnosisReceived, error) {
	t.Helper()
	return h.Submit(diagnosis.Submission{ID: diagnosis.NewID(uuid.NewString(), "N000000001"), CustomerNumber: "N000000001",
		AnsweredAt: at, Answers: answers(t, raw)}, questionnaire(t), active, calendar.New(), at.Add(time.Hour))
}

func TestScoringAndTheDueDate(t *testing.T) {
	// Friday 2025-07-11 is before the opening; answer on Friday 2025-08-08 instead: due ten business
	// days later, skipping Mountain Day (08-11).
	e, err := submit(t, diagnosis.History{}, time.Date(2025, 8, 8, 16, 0, 0, 0, jst), `{"q1": "yes", "q2": 1.0, "q3": false}`)
	if err != nil {
		t.Fatal(err)
	}
	if e.Score != 12 || e.MaxScore != 25 || e.RiskLevel != diagnosis.RiskHigh || e.DueOn.String() != "2025-08-25" ||
		e.ReportTo != "suzuki@yamato-shoji.co.jp" || len(e.Categories) != 2 ||
		e.Categories[0] != (diagnosis.CategoryScore{Category: "devices", Score: 12, MaxScore: 15}) ||
		e.Categories[1] != (diagnosis.CategoryScore{Category: "people", Score: 0, MaxScore: 10}) {
		t.Fatalf("received: %+v", e)
	}
	// The example of the rules: answered Friday 2025-07-11, due Monday 07-28 (Marine Day 07-21).
	if due := calendar.New().AddBusinessDays(calendar.MustDate(2025, 7, 11), diagnosis.ReportLeadDays); due.String() != "2025-07-28" {
		t.Fatalf("due %s", due)
	}
}

func TestRiskLevels(t *testing.T) {
	for _, c := range []struct {
		score, max int
		want       diagnosis.RiskLevel
	}{{0, 0, diagnosis.RiskLow}, {12, 25, diagnosis.RiskHigh}, {13, 26, diagnosis.RiskMedium}, {19, 25, diagnosis.RiskMedium},
		{20, 25, diagnosis.RiskLow}, {25, 25, diagnosis.RiskLow}, {0, 25, diagnosis.RiskHigh}} {
		if got := diagnosis.RiskOf(c.score, c.max); got != c.want {
			t.Errorf("%d of %d: %s, want %s", c.score, c.max, got, c.want)
		}
	}
}

func TestEveryAnswerIsCheckedAtOnce(t *testing.T) {
	_, err := submit(t, diagnosis.History{}, time.Date(2025, 8, 8, 16, 0, 0, 0, jst), `{"q1": "maybe", "q3": "true", "q9": "yes"}`)
	var ve *diagnosis.ValidationError
	if !errors.As(err, &ve) || !errors.Is(err, diagnosis.ErrInvalidDiagnosis) {
		t.Fatalf("err = %v", err)
	}
	want := map[string]string{"answers.q1": "invalidChoice", "answers.q2": "required", "answers.q3": "invalidChoice", "answers.q9": "unknownQuestion"}
	if len(ve.Errors) != len(want) {
		t.Fatalf("errors: %+v", ve.Errors)
	}
	for _, f := range ve.Errors {
		if want[f.Field] != f.Code {
			t.Fatalf("errors: %+v", ve.Errors)
		}
	}
}

func TestTheContractMustBeActiveWhenAnswered(t *testing.T) {
	q := questionnaire(t)
	ok := `{"q1": "yes", "q2": 2, "q3": true}`
	before := time.Date(2025, 7, 13, 23, 59, 0, 0, jst)
	ended := active
	ended.TerminatedOn = calendar.MustDate(2025, 10, 20)
	for name, c := range map[string]struct {
		contract diagnosis.Contract
		at       time.Time
	}{
		"before the opening":      {active, before},
		"on the termination date": {ended, time.Date(2025, 10, 20, 0, 0, 0, 0, jst)},
		"no contract":             {diagnosis.Contract{}, time.Date(2025, 8, 1, 10, 0, 0, 0, jst)},
	} {
		_, err := diagnosis.History{}.Submit(diagnosis.Submission{ID: uuid.New(), CustomerNumber: "N000000001", AnsweredAt: c.at,
			Answers: answers(t, ok)}, q, c.contract, calendar.New(), c.at)
		if !errors.Is(err, diagnosis.ErrContractNotActive) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := (diagnosis.History{}).Submit(diagnosis.Submission{ID: uuid.New(), CustomerNumber: "N000000001",
		AnsweredAt: time.Date(2025, 10, 19, 23, 0, 0, 0, jst), Answers: answers(t, ok)}, q, ended, calendar.New(), time.Now()); err != nil {
		t.Errorf("the day before the termination: %v", err)
	}
}

func TestOneDiagnosisPerSixMonths(t *testing.T) {
	h := diagnosis.History{}
	ok := `{"q1": "yes", "q2": 2, "q3": true}`
	first, err := submit(t, h, time.Date(2025, 8, 31, 10, 0, 0, 0, jst), ok)
	if err != nil {
		t.Fatal(err)
	}
	h = h.Evolve(first)
	// Aug 31 + 6 months is Feb 28 (2026 is not a leap year); JST decides the day.
	_, err = submit(t, h, time.Date(2026, 2, 27, 14, 59, 0, 0, time.UTC), ok) // Feb 27 23:59 JST
	var soon *diagnosis.TooSoonError
	if !errors.As(err, &soon) || soon.NextAllowedOn.String() != "2026-02-28" {
		t.Fatalf("too soon: %v", err)
	}
	// A back-dated answer before the previous one is refused too.
	if _, err := submit(t, h, time.Date(2025, 8, 1, 10, 0, 0, 0, jst), ok); !errors.Is(err, diagnosis.ErrTooSoon) {
		t.Fatalf("before the previous: %v", err)
	}
	if _, err := submit(t, h, time.Date(2026, 2, 27, 15, 0, 0, 0, time.UTC), ok); err != nil { // Feb 28 00:00 JST
		t.Fatalf("six months later: %v", err)
	}
	for from, want := range map[string]string{"2024-08-31": "2025-02-28", "2023-08-31": "2024-02-29", "2025-07-11": "2026-01-11", "2025-12-15": "2026-06-15"} {
		d, _ := calendar.ParseDate(from)
		if got := diagnosis.AddMonths(d, 6).String(); got != want {
			t.Errorf("%s + 6 months = %s, want %s", from, got, want)
		}
	}
}

func TestReportSentAndOverdue(t *testing.T) {
	at := time.Date(2025, 7, 11, 10, 0, 0, 0, jst)
	e, err := diagnosis.History{}.Submit(diagnosis.Submission{ID: uuid.New(), CustomerNumber: "N000000001", AnsweredAt: at,
		Answers: answers(t, `{"q1": "yes", "q2": 2, "q3": true}`)}, questionnaire(t),
		diagnosis.Contract{Exists: true, OpenedOn: calendar.MustDate(2025, 4, 1)}, calendar.New(), at)
	if err != nil {
		t.Fatal(err)
	}
	h := diagnosis.History{}.Evolve(e)
	d, _ := h.Find(e.DiagnosisID)
	if d.Overdue(time.Date(2025, 7, 28, 17, 30, 0, 0, jst)) || !d.Overdue(time.Date(2025, 7, 28, 17, 30, 1, 0, jst)) {
		t.Fatal("overdue is after 17:30 JST of the due date")
	}
	if _, err := h.ReportSent(e.DiagnosisID, at.Add(-time.Minute), at.Add(time.Hour)); !errors.Is(err, diagnosis.ErrInvalidReport) {
		t.Fatalf("sent before the answers: %v", err)
	}
	if _, err := h.ReportSent(uuid.New(), at, at); !errors.Is(err, diagnosis.ErrNotFound) {
		t.Fatalf("unknown diagnosis: %v", err)
	}
	sent, err := h.ReportSent(e.DiagnosisID, time.Date(2025, 7, 29, 9, 0, 0, 0, jst), time.Date(2025, 7, 29, 9, 0, 0, 0, jst))
	if err != nil {
		t.Fatal(err)
	}
	h = h.Evolve(sent)
	if d, _ := h.Find(e.DiagnosisID); d.Status != diagnosis.StatusReported || d.Overdue(time.Date(2025, 8, 1, 0, 0, 0, 0, jst)) {
		t.Fatalf("after the report: %+v", d)
	}
	if again, err := h.ReportSent(e.DiagnosisID, time.Date(2025, 7, 30, 9, 0, 0, 0, jst), time.Date(2025, 7, 30, 9, 0, 0, 0, jst)); again != nil || err != nil {
		t.Fatalf("recorded twice: %v, %v", again, err)
	}
}

func TestQuestionnaireRules(t *testing.T) {
	var q diagnosis.Questionnaire
	_ = json.Unmarshal([]byte(`{"questions": [
		{"id": "q1", "category": "", "text": "t", "choices": [{"value": "a", "label": "A", "score": -1}, {"value": "a", "label": "", "score": 1}]},
		{"id": "q1", "category": "c", "text": "t\u0007", "choices": [{"value": "a", "label": "A", "score": 1}]},
		{"id": "bad id", "category": "c", "text": "t", "choices": [{"value": "a", "label": "A", "score": 1}, {"value": "b", "label": "B", "score": 2}]}
	]}`), &q)
	var ve *diagnosis.ValidationError
	if err := q.Validate(); !errors.As(err, &ve) {
		t.Fatalf("err = %v", err)
	}
	want := map[string]string{
		"questions[0].category": "required", "questions[0].choices[0].score": "outOfRange", "questions[0].choices[1].value": "duplicate",
		"questions[0].choices[1].label": "required", "questions[1].id": "duplicate", "questions[1].text": "controlCharacter",
		"questions[1].choices": "required", "questions[2].id": "invalidFormat",
	}
	got := map[string]string{}
	for _, f := range ve.Errors {
		got[f.Field] = f.Code
	}
	if len(got) != len(want) {
		t.Fatalf("errors %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("errors %v, want %v", got, want)
		}
	}
}

func TestIDsCarryTheCustomerNumber(t *testing.T) {
	id := diagnosis.NewID("command-1", "N000000042")
	if cn, ok := diagnosis.CustomerNumberIn(id); !ok || cn != "N000000042" || diagnosis.NewID("command-1", "N000000042") != id {
		t.Fatalf("%s: %s %v", id, cn, ok)
	}
	if _, ok := diagnosis.CustomerNumberIn(uuid.New()); ok {
		t.Fatal("a random UUID carries a customer number")
	}
}
