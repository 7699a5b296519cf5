package api_test

import (
	"testing"

	"github.com/getkin/kin-openapi/routers/gorillamux"

	"yorozu/adapters/mailer/mailtest"
	"yorozu/cmd/yorozu/app"
	"yorozu/cmd/yorozu/app/apptest"
)

// TestOpenAPIResponsesConformServices checks the web-filtering, diagnosis and mail-magazine
// exchanges against docs/openapi.yaml, successes and refusals alike (see TestOpenAPIResponsesConform).
func TestOpenAPIResponsesConformServices(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)
	doc.Servers = nil
	strictObjects(doc)
	docRouter, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatalf("route the document: %v", err)
	}
	srv := mailtest.Start(t, mailtest.Options{FailFirst: 1})
	agents := agentTokens{}
	env := apptest.Start(t, apptest.Embedded, apptest.Options{Now: at("2025-06-02 09:00"), Configure: func(c *app.Config) {
		c.AgentContracts = agents
		withSMTP(srv.URL(""))(c)
	}})
	c := &conformance{t: t, env: env, router: docRouter, exercised: map[string]bool{}}
	op := env.StaffToken("conform-services", "operator")
	auditor := env.StaffToken("conform-services-auditor", "auditor")
	cn := openContractOn(t, env, op, "2025/6/2", "2025-06-02T10:00:00+09:00", "2025-06-12", nil)
	agents["agent-conform"] = cn

	// Web filtering.
	wf := "/api/v1/contracts/" + cn + "/web-filtering"
	c.call("GET", wf, auditor, nil, 200)
	c.call("GET", "/api/v1/contracts/N999999999/web-filtering", op, nil, 404)
	c.call("PUT", wf, op, map[string]any{"enabled": true}, 200, "Idempotency-Key", "wf-on")
	c.call("PUT", wf, op, map[string]any{"enabled": 1}, 422)
	c.call("PUT", wf, auditor, map[string]any{"enabled": true}, 403)
	c.call("PUT", wf, op, map[string]any{"enabled": false}, 412, "If-Match", `"9"`)
	var added struct{ Entry struct{ EntryID string } }
	c.call("POST", wf+"/entries", op, map[string]any{"list": "allow", "item": "lottery"}, 201).json(t, &added)
	c.call("POST", wf+"/entries", op, map[string]any{"list": "block", "url": "https://ads.example.com/banner/"}, 201)
	c.call("POST", wf+"/entries", op, map[string]any{"list": "allow", "item": "malware"}, 422)
	c.call("POST", wf+"/entries", op, map[string]any{"list": "block", "item": "lottery"}, 409)
	c.call("DELETE", wf+"/entries/"+added.Entry.EntryID, op, nil, 200)
	c.call("DELETE", wf+"/entries/"+added.Entry.EntryID, op, nil, 404)
	x := c.call("GET", "/agent/v1/policy", "agent-conform", nil, 200)
	c.call("GET", "/agent/v1/policy", "agent-conform", nil, 304, "If-None-Match", x.Header.Get("ETag"))
	c.call("GET", "/agent/v1/policy", "nobody", nil, 401)

	// The diagnosis.
	env.Clock.Set(at("2025-06-30 12:00"))
	c.call("POST", "/api/v1/diagnoses", op, map[string]any{"customerNumber": cn, "answeredAt": "2025-06-20T10:00:00+09:00", "answers": map[string]any{}}, 409)
	c.call("POST", "/api/v1/catalogs/diagnosis", op, questionnaireV1, 201, "Idempotency-Key", "questionnaire-1")
	c.call("POST", "/api/v1/catalogs/diagnosis", op, map[string]any{"questions": []any{}}, 422)
	answers := map[string]any{"usb": "no", "encryption": 2, "training": true, "passwords": "no"}
	var d struct{ DiagnosisID string }
	c.call("POST", "/api/v1/diagnoses", op, map[string]any{"customerNumber": cn, "answeredAt": "2025-06-20T10:00:00+09:00", "answers": answers}, 201).json(t, &d)
	c.call("POST", "/api/v1/diagnoses", op, map[string]any{"customerNumber": cn, "answeredAt": "2025-06-30T10:00:00+09:00", "answers": answers}, 409)
	c.call("POST", "/api/v1/diagnoses", op, map[string]any{"customerNumber": cn, "answeredAt": "2025-06-01T10:00:00+09:00", "answers": answers}, 422)
	c.call("POST", "/api/v1/diagnoses", op, map[string]any{"customerNumber": cn, "answeredAt": "2025-12-20T10:00:00+09:00", "answers": map[string]any{"usb": 3}}, 422)
	c.call("GET", "/api/v1/diagnoses?status=received&overdue=false&limit=10", auditor, nil, 200)
	c.call("GET", "/api/v1/diagnoses?status=lost", auditor, nil, 422)
	c.call("GET", "/api/v1/diagnoses/"+d.DiagnosisID, auditor, nil, 200)
	c.call("GET", "/api/v1/diagnoses/0199a0e4-1f6b-7c2e-9d34-6c1b0a7e8f21", auditor, nil, 404)
	env.Clock.Set(at("2025-07-01 10:00"))
	c.call("POST", "/api/v1/diagnoses/"+d.DiagnosisID+"/report-sent", op, map[string]any{"sentAt": "2025-07-01T09:00:00+09:00"}, 200)
	c.call("POST", "/api/v1/diagnoses/"+d.DiagnosisID+"/report-sent", op, map[string]any{"sentAt": "later"}, 422)

	// The mail magazine.
	c.call("GET", "/api/v1/mail-magazine/recipients?asOf=2025-07-01&limit=1", auditor, nil, 200)
	c.call("GET", "/api/v1/mail-magazine/recipients?asOf=July", auditor, nil, 422)
	c.call("GET", "/api/v1/mail-magazine/recipients.csv?asOf=2025-07-01", auditor, nil, 200)
	c.call("GET", "/api/v1/mail-magazine/recipients/history?limit=2", auditor, nil, 200)
	var issue struct{ IssueID string }
	c.call("POST", "/api/v1/mail-magazine/issues", op, map[string]any{"subject": "件名", "body": "本文", "sendAt": "2025-07-01T11:00:00+09:00"}, 201).json(t, &issue)
	c.call("POST", "/api/v1/mail-magazine/issues", op, map[string]any{"subject": "", "body": ""}, 422)
	env.Clock.Set(at("2025-07-01 11:00"))
	deliver(t, env) // refused once by the server
	c.call("GET", "/api/v1/mail-magazine/issues/"+issue.IssueID, auditor, nil, 200)
	env.Clock.Set(at("2025-07-01 11:01"))
	deliver(t, env)
	c.call("GET", "/api/v1/mail-magazine/issues?limit=5", auditor, nil, 200)
	c.call("GET", "/api/v1/mail-magazine/issues/0199a0e4-1f6b-7c2e-9d34-6c1b0a7e8f21", auditor, nil, 404)

	for _, id := range []string{"getWebFiltering", "setWebFiltering", "addWebFilteringEntry", "removeWebFilteringEntry", "agentPolicy",
		"publishQuestionnaire", "submitDiagnosis", "listDiagnoses", "getDiagnosis", "diagnosisReportSent",
		"listMailRecipients", "mailRecipientsCSV", "mailRecipientHistory", "scheduleMailIssue", "listMailIssues", "getMailIssue"} {
		if !c.exercised[id] {
			t.Errorf("operation %s not exercised", id)
		}
	}
}
