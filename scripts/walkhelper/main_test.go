package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"yorozu/domain/calendar"
)

func helper(t *testing.T, now time.Time, stdin string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := run(args, strings.NewReader(stdin), &out, now)
	return out.String(), err
}

func TestTOTPCodeIsWhatTheServerAccepts(t *testing.T) {
	const secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	now := time.Date(2026, 12, 5, 1, 2, 3, 0, time.UTC)
	code, err := helper(t, now, "", "totp", secret)
	if err != nil {
		t.Fatal(err)
	}
	code = strings.TrimSpace(code)
	if ok, err := totp.ValidateCustom(code, secret, now, totp.ValidateOpts{Period: 30, Digits: 6}); !ok || err != nil {
		t.Errorf("code %q for %v is not valid (%v)", code, now, err)
	}
	if ok, _ := totp.ValidateCustom(code, secret, now.Add(2*time.Minute), totp.ValidateOpts{Period: 30, Digits: 6}); ok {
		t.Errorf("code %q is still valid two minutes later", code)
	}
	if _, err := helper(t, now, "", "totp", "not base32!"); err == nil {
		t.Error("a secret that is not base32 gives a code")
	}
}

func TestMonthsAreJapanese(t *testing.T) {
	// 2026-12-31 20:00 UTC is already January 1 in Japan.
	now := time.Date(2026, 12, 31, 20, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"month", "0"}, "2027-01"},
		{[]string{"month", "-1"}, "2026-12"},
		{[]string{"month", "-2"}, "2026-11"},
		{[]string{"month", "-13"}, "2025-12"},
		{[]string{"formdate", "-2", "1"}, "2026/11/1"},
		{[]string{"formdate", "-2", "20"}, "2026/11/20"},
	} {
		got, err := helper(t, now, "", c.args...)
		if err != nil || strings.TrimSpace(got) != c.want {
			t.Errorf("%v: %q (%v), want %s", c.args, got, err, c.want)
		}
		if c.args[0] == "formdate" {
			if _, err := calendar.ParseFormDate(strings.TrimSpace(got)); err != nil {
				t.Errorf("%v: %q is not a form date: %v", c.args, got, err)
			}
		}
	}
	for _, bad := range [][]string{{"month", "x"}, {"formdate", "0", "29"}, {"formdate", "0", "0"}} {
		if _, err := helper(t, now, "", bad...); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}

func TestJSON(t *testing.T) {
	now := time.Now()
	doc := `{"items":[{"id":"a","n":1},{"id":"b","n":20000000000000000001}],"next":null,"o":{"k":"v"}}`
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"get", "next"}, "null\n"},
		{[]string{"get", "items.1.id"}, "b\n"},
		{[]string{"get", "items.*.n"}, "1\n20000000000000000001\n"},
		{[]string{"get", "o"}, `{"k":"v"}` + "\n"},
		{[]string{"pick", "o.k", "items.*.id", "next"}, `{"o.k":"v","items.*.id":["a","b"],"next":null}` + "\n"},
		{[]string{"set", "o.k=w", "o.new:=[1]", "top=x"}, `{"items":[{"id":"a","n":1},{"id":"b","n":20000000000000000001}],"next":null,"o":{"k":"w","new":[1]},"top":"x"}` + "\n"},
	} {
		got, err := helper(t, now, doc, c.args...)
		if err != nil || got != c.want {
			t.Errorf("%v: %q (%v), want %q", c.args, got, err, c.want)
		}
	}
	got, err := helper(t, now, "", "json", "staffId=ito", "password=a = b", "n:=3000", "rate=0.10", "tag=<&>")
	if want := `{"n":3000,"password":"a = b","rate":"0.10","staffId":"ito","tag":"<&>"}` + "\n"; err != nil || got != want {
		t.Errorf("json: %q (%v), want %q", got, err, want)
	}
	for _, bad := range []struct {
		stdin string
		args  []string
	}{
		{doc, []string{"get", "missing"}},
		{doc, []string{"get", "items.2"}},
		{doc, []string{"get", "o.k.deeper"}},
		{"not json", []string{"get", "x"}},
		{"[1]", []string{"set", "a=b"}},
		{"", []string{"json", "n:=not-json"}},
		{"", []string{"json", "novalue"}},
		{"", []string{"frobnicate"}},
	} {
		if _, err := helper(t, now, bad.stdin, bad.args...); err == nil {
			t.Errorf("%v on %q: no error", bad.args, bad.stdin)
		}
	}
}
