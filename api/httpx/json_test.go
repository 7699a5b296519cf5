package httpx_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"yorozu/api/httpx"
)

// A body that breaks several rules is answered with every field at once.
func TestDecodeJSONReportsEveryFieldAtOnce(t *testing.T) {
	type body struct {
		StaffID string    `json:"staffId"`
		OTP     string    `json:"otp"`
		At      time.Time `json:"at"`
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b body
		if err := httpx.DecodeJSON(r, &b); err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		httpx.WriteJSON(w, http.StatusOK, b)
	})
	req := httptest.NewRequest(http.MethodPost, "/api/v1/x",
		strings.NewReader(`{"staffId":"ito\u0000","otp":123456,"at":"yesterday","role":"admin","extra":1}`))
	p := problemOf(t, serve(h, req), http.StatusUnprocessableEntity)
	var got []string
	for _, fe := range p.Errors {
		got = append(got, fe.Field+" "+fe.Code)
	}
	slices.Sort(got)
	want := []string{"at invalidFormat", "extra unknown", "otp type", "role unknown", "staffId controlCharacter"}
	if !slices.Equal(got, want) {
		t.Fatalf("errors %v, want %v", got, want)
	}
}

func TestDecodeOptionalJSON(t *testing.T) {
	type body struct {
		At *time.Time `json:"at"`
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b body
		if err := httpx.DecodeOptionalJSON(r, &b); err != nil {
			httpx.WriteError(w, r, err)
			return
		}
		httpx.WriteJSON(w, http.StatusOK, map[string]bool{"given": b.At != nil})
	})
	for _, tc := range []struct {
		name, ctype, body string
		status            int
	}{
		{"no body", "", "", 200},
		{"white space", "application/json", "\n", 200},
		{"a body", "application/json", `{"at":"2025-07-01T10:00:00+09:00"}`, 200},
		{"a broken body", "application/json", `{"at":`, 400},
		{"a body of another media type", "application/xml", `<at/>`, 415},
		{"a duplicate key", "application/json", `{"at":null,"at":null}`, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/api/v1/x", strings.NewReader(tc.body))
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			rec := serve(h, req)
			if tc.status != 200 {
				problemOf(t, rec, tc.status)
				return
			}
			if rec.Code != 200 {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
		})
	}
}

// The scan that finds duplicate keys must not be fooled by nesting, arrays or escapes, and must
// not call equal keys of different objects duplicates.
func TestCheckJSONDuplicateKeys(t *testing.T) {
	for body, dup := range map[string]bool{
		`{"a":{"a":1},"b":{"a":1}}`:           false,
		`{"a":[{"a":1},{"a":1}]}`:             false,
		`{"a":[1,[2,{"x":1,"y":2}],3],"b":0}`: false,
		`{"a":"\"a\"","\"a\"":1}`:             false,
		`{"a":{"b":{"c":{"c":1,"c":2}}}}`:     true,
		`{"a":[1,[2,{"x":1,"x":2}]]}`:         true,
		`{"é":1,"\u00e9":2}`:                  true,
	} {
		err := httpx.CheckJSON([]byte(body))
		if got := err != nil; got != dup {
			t.Errorf("CheckJSON(%s) = %v, want duplicate %v", body, err, dup)
		}
	}
}

func TestURLText(t *testing.T) {
	h := httpx.URLText(ok200)
	for _, tc := range []struct {
		name, target string
		status       int
	}{
		{"plain", "/api/v1/audit/events?actor=ito&type=OrderAccepted", 200},
		{"Japanese", "/api/v1/contracts?q=%E5%A4%A7%E5%92%8C", 200},
		{"a NUL in a query value", "/api/v1/audit/events?actor=ito%00", 422},
		{"invalid UTF-8 in a query value", "/api/v1/contracts?q=%FF", 422},
		{"a control character in a query name", "/api/v1/orders?st%01atus=received", 422},
		{"a NUL in the path", "/api/v1/contracts/N00000000%00", 404},
		{"invalid UTF-8 in the path", "/api/v1/contracts/%FF", 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := serve(h, httptest.NewRequest(http.MethodGet, tc.target, nil))
			if tc.status == 200 {
				if rec.Code != 200 {
					t.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
				return
			}
			problemOf(t, rec, tc.status)
		})
	}
}
