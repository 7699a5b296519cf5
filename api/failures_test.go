package api_test

import (
	"testing"
	"time"

	"yorozu/cmd/yorozu/app/apptest"
)

type failureBody struct {
	FailureID       string
	Status          string
	CustomerNumber  string
	What            string
	StartedAt       time.Time
	ReceivedAt      time.Time
	RejectionReason *string
	ResolvedAt      *time.Time
	Resolution      *string
	PersonName      *string
	Email           *string
	Phone           *string
}

func failureReport(cn string, set map[string]any) map[string]any {
	body := map[string]any{
		"customerNumber": cn, "companyName": companyName, "what": "ヘルスチェックのレポートが届かない",
		"startedAt": "2025-07-15T08:00:00+09:00", "personName": "山田　太郎", "email": "yamada@yamato-shoji.co.jp", "phone": "03-1234-5678",
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

func TestFailureReportsFromReceiptToResolution(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine apptest.Engine) {
		env, tok, cn := helpDesk(t, engine)
		env.Clock.Set(at("2025-07-15 10:00"))

		var got failureBody
		must(t, env.Do("POST", "/api/v1/failures", tok, failureReport(cn, nil)), 201).JSON(t, &got)
		if got.Status != "received" || got.RejectionReason != nil || got.FailureID == "" {
			t.Fatalf("report: %+v", got)
		}
		id := got.FailureID
		for _, tc := range []struct {
			name   string
			body   map[string]any
			reason string
		}{
			{"another company's name", failureReport(cn, map[string]any{"companyName": "大和物産"}), "companyNameMismatch"},
			{"unknown customer", failureReport("N999999999", nil), "unknownCustomer"},
			{"received before the contract opened", failureReport(cn, map[string]any{"receivedAt": "2025-07-13T10:00:00+09:00"}), "contractNotActive"},
		} {
			var rej failureBody
			must(t, env.Do("POST", "/api/v1/failures", tok, tc.body), 201).JSON(t, &rej)
			if rej.Status != "rejected" || rej.RejectionReason == nil || *rej.RejectionReason != tc.reason {
				t.Fatalf("%s: %+v", tc.name, rej)
			}
			must(t, env.Do("POST", "/api/v1/failures/"+rej.FailureID+"/resolve", tok, nil), 409)
		}
		// The list keeps personal data out; one report shows it.
		var list struct{ Items []failureBody }
		must(t, env.Do("GET", "/api/v1/failures?status=received&customerNumber="+cn, tok, nil), 200).JSON(t, &list)
		if len(list.Items) != 1 || list.Items[0].FailureID != id || list.Items[0].PersonName != nil || list.Items[0].Phone != nil {
			t.Fatalf("received reports: %+v", list.Items)
		}
		var one failureBody
		must(t, env.Do("GET", "/api/v1/failures/"+id, tok, nil), 200).JSON(t, &one)
		if one.PersonName == nil || *one.PersonName != "山田　太郎" || !one.StartedAt.Equal(at("2025-07-15 08:00")) || !one.ReceivedAt.Equal(at("2025-07-15 10:00")) {
			t.Fatalf("one report: %+v", one)
		}

		must(t, env.Do("POST", "/api/v1/failures/"+id+"/resolve", tok, map[string]any{"resolvedAt": "2025-07-15T09:00:00+09:00"}), 422)
		var done failureBody
		must(t, env.Do("POST", "/api/v1/failures/"+id+"/resolve", tok, map[string]any{"resolvedAt": "2025-07-15T15:00:00+09:00", "resolution": "配信設定を修正"}), 200).JSON(t, &done)
		if done.Status != "resolved" || done.ResolvedAt == nil || !done.ResolvedAt.Equal(at("2025-07-15 15:00")) || done.Resolution == nil {
			t.Fatalf("resolved: %+v", done)
		}
		must(t, env.Do("POST", "/api/v1/failures/"+id+"/resolve", tok, nil), 409)
		must(t, env.Do("GET", "/api/v1/failures/0199a0e4-1f6b-7c2e-9d34-6c1b0a7e8f21", tok, nil), 404)

		before := head(t, env)
		expectFieldErrors(t, must(t, env.Do("POST", "/api/v1/failures", tok, map[string]any{"startedAt": "yesterday", "email": "x"}), 422), map[string]string{
			"customerNumber": "required", "companyName": "required", "what": "required", "startedAt": "invalidInstant",
			"personName": "required", "email": "invalidEmail"})
		expectFieldErrors(t, must(t, env.Do("POST", "/api/v1/failures", tok, failureReport(cn, map[string]any{"email": nil, "phone": nil})), 422), map[string]string{
			"phone": "required"})
		if head(t, env) != before {
			t.Fatal("invalid reports stored events")
		}
		must(t, env.Do("GET", "/api/v1/failures?status=fixed", tok, nil), 422)
	})
}
