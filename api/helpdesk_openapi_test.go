package api_test

import (
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/routers/gorillamux"

	"yorozu/cmd/yorozu/app/apptest"
)

// TestOpenAPIHelpDeskAndInsuranceConform drives consultations, failure reports and insurance
// claims through their lifecycles and common errors, checking every exchange against
// docs/openapi.yaml (responses with no undocumented field).
func TestOpenAPIHelpDeskAndInsuranceConform(t *testing.T) {
	doc := loadOpenAPI(t)
	doc.Servers = nil
	strictObjects(doc)
	docRouter, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatalf("route the document: %v", err)
	}
	env := apptest.Start(t, apptest.Embedded, apptest.Options{})
	c := &conformance{t: t, env: env, router: docRouter, exercised: map[string]bool{}}
	op := env.StaffToken("conform", "operator")
	auditor := env.StaffToken("conform-auditor", "auditor")
	cn, _ := openContract(t, env, op, nil)
	env.Clock.Set(at("2025-07-15 10:00"))

	// Consultations.
	var rc struct{ ConsultationID string }
	c.call("POST", "/api/v1/consultations", op, intake(cn, "2025-07-15 10:00", nil), 201, "Idempotency-Key", "intake-1").json(t, &rc)
	c.call("POST", "/api/v1/consultations", op, intake(cn, "2025-07-15 12:30", map[string]any{"channel": "phone", "durationMinutes": 40}), 201)
	c.call("POST", "/api/v1/consultations", op, intake(cn, "2025-07-15 10:00", map[string]any{"companyName": "別会社"}), 201)
	c.call("POST", "/api/v1/consultations", op, map[string]any{"channel": "fax"}, 422)
	c.call("POST", "/api/v1/consultations", auditor, intake(cn, "2025-07-15 10:00", nil), 403)
	id := rc.ConsultationID
	c.call("GET", "/api/v1/consultations?status=open&overdue=false&limit=1", auditor, nil, 200)
	c.call("GET", "/api/v1/consultations?customerNumber="+cn, op, nil, 200)
	c.call("GET", "/api/v1/consultations?overdue=soon", op, nil, 422)
	c.call("GET", "/api/v1/consultations/"+id, op, nil, 200)
	c.call("GET", "/api/v1/consultations/0199a0e4-1f6b-7c2e-9d34-6c1b0a7e8f21", op, nil, 404)
	c.call("POST", "/api/v1/consultations/"+id+"/triage", op, map[string]any{"decision": "refer", "referral": "consumerHotline"}, 200)
	c.call("POST", "/api/v1/consultations/"+id+"/triage", op, map[string]any{"decision": "decline"}, 422)
	c.call("POST", "/api/v1/consultations/"+id+"/ticket-quote", op, map[string]any{"tickets": 2}, 200)
	c.call("POST", "/api/v1/consultations/"+id+"/reply", op, map[string]any{"answeredAt": "2025-07-15T14:00:00+09:00", "channel": "phone", "body": "折り返し", "durationMinutes": 35}, 200)
	c.call("POST", "/api/v1/consultations/"+id+"/reply", op, map[string]any{"body": "again"}, 409)
	c.call("POST", "/api/v1/consultations/"+id+"/close", op, map[string]any{"closedAt": "2025-07-15T15:00:00+09:00"}, 200)
	env.Clock.Set(at("2025-07-16 10:00"))
	c.call("POST", "/api/v1/consultations/"+id+"/reopen", op, nil, 200)
	c.call("POST", "/api/v1/consultations/"+id+"/close", op, nil, 200)
	c.call("GET", "/api/v1/consultations/stats?month=2025-07", op, nil, 200)
	c.call("GET", "/api/v1/consultations/stats?month=July", op, nil, 422)
	c.call("GET", "/api/v1/consultations/long-calls?month=2025-07", op, nil, 200)
	c.call("GET", "/api/v1/consultations/outbound-calls?asOf=2025-12-01", op, nil, 200)

	// Failure reports.
	var rf struct{ FailureID string }
	c.call("POST", "/api/v1/failures", op, failureReport(cn, nil), 201).json(t, &rf)
	c.call("POST", "/api/v1/failures", op, failureReport(cn, map[string]any{"companyName": "別会社"}), 201)
	c.call("POST", "/api/v1/failures", op, map[string]any{}, 422)
	c.call("GET", "/api/v1/failures?status=received", op, nil, 200)
	c.call("GET", "/api/v1/failures/"+rf.FailureID, op, nil, 200)
	c.call("POST", "/api/v1/failures/"+rf.FailureID+"/resolve", op, map[string]any{"resolution": "再送しました"}, 200)
	c.call("POST", "/api/v1/failures/"+rf.FailureID+"/resolve", op, nil, 409)

	// Insurance.
	var filed struct{ ClaimID string }
	c.call("POST", "/api/v1/insurance/claims", op, claim(cn, "2025-08-01", "incidentResponse", "investigation", 300000), 201).json(t, &filed)
	c.call("POST", "/api/v1/insurance/claims", op, claim(cn, "2026-03-20", "liability", "", 1000), 201)
	c.call("POST", "/api/v1/insurance/claims", op, claim(cn, "2025-08-01", "liability", "consulting", 0), 422)
	c.call("GET", "/api/v1/insurance/claims?customerNumber="+cn+"&period=2025&status=filed", auditor, nil, 200)
	c.call("GET", "/api/v1/insurance/claims/"+filed.ClaimID, op, nil, 200)
	c.call("POST", "/api/v1/insurance/claims/"+filed.ClaimID+"/pay", op, nil, 409)
	c.call("POST", "/api/v1/insurance/claims/"+filed.ClaimID+"/assess", op, map[string]any{"assessedAmount": 250000}, 200, "Idempotency-Key", "assess-1")
	c.call("POST", "/api/v1/insurance/claims/"+filed.ClaimID+"/pay", op, nil, 200)
	var other struct{ ClaimID string }
	c.call("POST", "/api/v1/insurance/claims", op, claim(cn, "2025-09-01", "liability", "", 1000), 201).json(t, &other)
	c.call("POST", "/api/v1/insurance/claims/"+other.ClaimID+"/reject", op, map[string]any{"reason": "重複請求"}, 200)
	c.call("POST", "/api/v1/insurance/claims/"+other.ClaimID+"/reject", op, map[string]any{"reason": "again"}, 409)
	c.call("GET", "/api/v1/insurance/usage?customerNumber="+cn+"&period=2025", op, nil, 200)
	c.call("GET", "/api/v1/insurance/usage?customerNumber="+cn, op, nil, 200)
	c.call("GET", "/api/v1/insurance/usage?customerNumber=X", op, nil, 422)

	var missed []string
	for _, k := range sortedKeys(documentedOperations(doc)) {
		d := documentedOperations(doc)[k]
		if (strings.Contains(d.path, "/consultations") || strings.Contains(d.path, "/failures") || strings.Contains(d.path, "/insurance/")) && !c.exercised[d.op.OperationID] {
			missed = append(missed, k.String())
		}
	}
	if len(missed) > 0 {
		t.Errorf("operations not exercised:\n  %s", strings.Join(missed, "\n  "))
	}
}
