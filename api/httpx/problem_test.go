package httpx_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"yorozu/api/httpx"
	"yorozu/domain/access"
)

var errTooEarly = errors.New("order: cannot complete before the scheduled date")

func TestErrorMapping(t *testing.T) {
	m := httpx.NewErrorMapper()
	m.Register(errTooEarly, http.StatusConflict, "too-early", "Too early")
	invalid := &httpx.ValidationError{}
	invalid.Add("contractor.nameKana", "format", "must be katakana")

	tests := []struct {
		name       string
		err        error
		status     int
		typ        string
		detail     string // "" means: do not check
		noDetailOf string // this text must not appear
		fields     int
	}{
		{"registered sentinel, wrapped", fmt.Errorf("complete order 7: %w", errTooEarly), 409, "/problems/too-early", "complete order 7: order: cannot complete before the scheduled date", "", 0},
		{"validation error", invalid, 422, "/problems/validation-failed", "", "", 1},
		{"unknown error says nothing", errors.New(`pq: SELECT * FROM staff failed`), 500, "/problems/internal", "Internal Server Error", "SELECT", 0},
		{"wrong password looks like any bad credential", &access.CredentialError{StaffID: "sato", Reason: access.ReasonWrongPassword}, 401, "/problems/bad-credentials", "", "wrongPassword", 0},
		{"reused code too", &access.CredentialError{StaffID: "sato", Reason: access.ReasonOTPReused}, 401, "/problems/bad-credentials", "", "otpReused", 0},
		{"a problem returned as an error", httpx.NewProblem(412, "version-mismatch", "Version mismatch", "is at 4"), 412, "/problems/version-mismatch", "is at 4", "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			m.Write(rec, httptest.NewRequest(http.MethodPost, "/api/v1/orders/7/complete", nil), tc.err)
			p := problemOf(t, rec, tc.status)
			if p.Type != tc.typ {
				t.Errorf("type %q, want %q", p.Type, tc.typ)
			}
			if tc.detail != "" && p.Detail != tc.detail {
				t.Errorf("detail %q, want %q", p.Detail, tc.detail)
			}
			if tc.noDetailOf != "" && strings.Contains(rec.Body.String(), tc.noDetailOf) {
				t.Errorf("body leaks %q: %s", tc.noDetailOf, rec.Body)
			}
			if len(p.Errors) != tc.fields {
				t.Errorf("errors %+v, want %d", p.Errors, tc.fields)
			}
			if p.Instance != "/api/v1/orders/7/complete" {
				t.Errorf("instance %q", p.Instance)
			}
		})
	}
}

func TestDecodeJSON(t *testing.T) {
	type body struct {
		Name  string `json:"name"`
		Inner struct {
			Count int `json:"count"`
		} `json:"inner"`
	}
	tests := []struct {
		name, ctype, body string
		status            int
		field             string
	}{
		{"valid", "application/json", `{"name":"a","inner":{"count":1}}`, 200, ""},
		{"valid without a label", "", `{"name":"a"}`, 200, ""},
		{"tab and newline are text", "application/json", `{"name":"a\tb\nc"}`, 200, ""},
		{"unknown field", "application/json", `{"name":"a","nmae":"b"}`, 422, "nmae"},
		{"unknown nested field", "application/json", `{"inner":{"count":1,"cuont":2}}`, 422, "inner.cuont"},
		{"a name matches exactly", "application/json", `{"Name":"a"}`, 422, "Name"},
		{"wrong type names the path", "application/json; charset=utf-8", `{"inner":{"count":"x"}}`, 422, "inner.count"},
		{"a NUL in a value", "application/json", `{"name":"a\u0000"}`, 422, "name"},
		{"a carriage return in a nested value", "application/json", `{"inner":{"count":1},"name":"\r"}`, 422, "name"},
		{"a control character in a key", "application/json", `{"na\u0001me":"a"}`, 422, ""},
		{"two values", "application/json", `{"name":"a"}{"name":"b"}`, 400, ""},
		{"empty", "application/json", ``, 400, ""},
		{"only white space", "application/json", " \n ", 400, ""},
		{"broken", "application/json", `{"name":`, 400, ""},
		{"an array at the top level", "application/json", `[{"name":"a"}]`, 400, "$"},
		{"a string at the top level", "application/json", `"name"`, 400, "$"},
		{"null at the top level", "application/json", `null`, 400, "$"},
		{"a duplicate key", "application/json", `{"name":"a","name":"b"}`, 400, "name"},
		{"a duplicate nested key", "application/json", `{"inner":{"count":1,"count":2}}`, 400, "inner.count"},
		{"a duplicate key in an array element", "application/json", `{"list":[{},{"a":1,"a":1}]}`, 400, "list[1].a"},
		{"a duplicate key spelled with an escape", "application/json", `{"name":"a","n\u0061me":"b"}`, 400, "name"},
		{"not UTF-8", "application/json", "{\"name\":\"\xff\"}", 400, ""},
		{"not JSON", "application/xml", `<name>a</name>`, 415, ""},
		{"JSON labelled as plain text", "text/plain", `{"name":"a"}`, 415, ""},
		{"JSON in another charset", "application/json; charset=utf-16", `{"name":"a"}`, 415, ""},
		{"JSON sent as curl -d sends it", "application/x-www-form-urlencoded", `{"name":"a"}`, 200, ""},
		{"a form that is not JSON", "application/x-www-form-urlencoded", `name=a`, 400, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				var b body
				if err := httpx.DecodeJSON(r, &b); err != nil {
					httpx.WriteError(w, r, err)
					return
				}
				httpx.WriteJSON(w, http.StatusOK, b)
			})
			req := httptest.NewRequest(http.MethodPost, "/api/v1/x", strings.NewReader(tc.body))
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			rec := serve(h, req)
			if tc.status == 200 {
				if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json" {
					t.Fatalf("status %d %s", rec.Code, rec.Body)
				}
				return
			}
			p := problemOf(t, rec, tc.status)
			if tc.field != "" && (len(p.Errors) != 1 || p.Errors[0].Field != tc.field) {
				t.Fatalf("errors %+v, want field %s", p.Errors, tc.field)
			}
		})
	}
}

func TestNotFoundAndMethodNotAllowedAreProblems(t *testing.T) {
	problemOf(t, serve(httpx.NotFoundHandler(), httptest.NewRequest("GET", "/nope", nil)), 404)
	rec := serve(httpx.MethodNotAllowedHandler(func(*http.Request) []string { return []string{"GET", "POST"} }),
		httptest.NewRequest("DELETE", "/api/v1/orders", nil))
	problemOf(t, rec, 405)
	if got := rec.Header().Get("Allow"); got != "GET, POST" {
		t.Errorf("405 Allow header %q, want the path's methods", got)
	}
}
