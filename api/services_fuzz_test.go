package api_test

import (
	"net/url"
	"testing"
)

// Fuzz targets of the web-filtering, diagnosis and mail-magazine command endpoints and of the
// agents' policy poll, with the property of fuzz_test.go: no 5xx, no projection stopped.

func FuzzSetWebFiltering(f *testing.F) {
	s := startFuzzService(f, true)
	for _, seed := range []struct{ body, ifMatch string }{
		{`{"enabled":true}`, ""}, {`{"enabled":false}`, `"1"`}, {`{"enabled":"yes"}`, ""}, {`{}`, "*"},
		{`{"enabled":true,"enabled":false}`, ""}, {`{"enabled":null,"x\u0000":1}`, "W/\"x\""},
	} {
		f.Add([]byte(seed.body), seed.ifMatch, s.cn)
	}
	f.Fuzz(func(t *testing.T, body []byte, ifMatch, cn string) {
		path := "/api/v1/contracts/" + url.PathEscape(cn) + "/web-filtering"
		s.check(t, "PUT web-filtering", s.send(t, "PUT", path, s.token, body, "Content-Type", "application/json", "If-Match", ifMatch))
	})
}

func FuzzAddWebFilteringEntry(f *testing.F) {
	s := startFuzzService(f, true)
	for _, body := range []string{
		`{"list":"allow","item":"dating"}`, `{"list":"block","url":"ads.example.com"}`, `{"list":"block","url":"https://例え.jp/パス?q=1"}`,
		`{"list":"allow","item":"malware"}`, `{"list":"allow","url":"http://[::1]:80/"}`, `{"list":"block","url":"https://a..b/"}`,
		`{"list":"allow","item":"dating","url":"x.jp"}`, `{"list":"","item":""}`, `{"list":"block","url":"` + "xn--" + `"}`,
		`{"list":"block","url":"https://example.com:0/"}`, `{"list":1,"item":[]}`,
	} {
		f.Add([]byte(body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		s.check(t, "POST web-filtering/entries", s.send(t, "POST", "/api/v1/contracts/"+s.cn+"/web-filtering/entries", s.token, body,
			"Content-Type", "application/json"))
	})
}

func FuzzAgentPolicy(f *testing.F) {
	s := startFuzzService(f, false)
	for _, seed := range []struct{ token, etag string }{{"agent", `"0"`}, {"", "*"}, {"x y", `W/"1", "2"`}, {"agent", ","}} {
		f.Add(seed.token, seed.etag)
	}
	f.Fuzz(func(t *testing.T, token, etag string) {
		if !sendable(token) {
			t.Skip("a token the HTTP client cannot send")
		}
		s.check(t, "GET /agent/v1/policy", s.send(t, "GET", "/agent/v1/policy", token, nil, "If-None-Match", etag))
	})
}

func FuzzPublishQuestionnaire(f *testing.F) {
	s := startFuzzService(f, false)
	for _, body := range []string{
		`{"questions":[{"id":"q1","category":"c","text":"t","choices":[{"value":"a","label":"A","score":1},{"value":2,"label":"B","score":0}]}]}`,
		`{"questions":[{"id":"q1","category":"c","text":"t","choices":[{"value":1e400,"label":"A","score":1},{"value":true,"label":"B","score":1e3}]}]}`,
		`{"questions":[{"id":"q 1","category":"","text":"","choices":[{"value":{},"label":"","score":-1}]}]}`,
		`{"questions":[]}`, `{"questions":null}`, `{"questions":[null]}`,
		`{"questions":[{"id":"q1","category":"c","text":"t","choices":[{"value":9007199254740993,"label":"A","score":1},{"value":-0,"label":"B","score":0}]}]}`,
	} {
		f.Add([]byte(body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		s.check(t, "POST /catalogs/diagnosis", s.send(t, "POST", "/api/v1/catalogs/diagnosis", s.token, body, "Content-Type", "application/json"))
	})
}

func FuzzSubmitDiagnosis(f *testing.F) {
	s := startFuzzService(f, true)
	must(f, s.env.Do("POST", "/api/v1/catalogs/diagnosis", s.token, questionnaireV1), 201)
	for _, body := range []string{
		`{"customerNumber":"` + s.cn + `","answeredAt":"2025-07-20T10:00:00+09:00","answers":{"usb":"yes","encryption":2,"training":true,"passwords":"no"}}`,
		`{"customerNumber":"` + s.cn + `","answeredAt":"0001-01-01T00:00:00Z","answers":{"usb":"yes"}}`,
		`{"customerNumber":"` + s.cn + `","answeredAt":"9999-12-31T23:59:59Z","answers":{}}`,
		`{"customerNumber":"N","answeredAt":"x","answers":[]}`, `{"customerNumber":null,"answers":{"usb":{"a":1}}}`,
		`{"customerNumber":"` + s.cn + `","answeredAt":"2025-07-20T10:00:00+09:00","answers":{"usb":1.0000000000000001,"encryption":2.0,"training":1,"passwords":"NO"}}`,
	} {
		f.Add([]byte(body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		s.check(t, "POST /diagnoses", s.send(t, "POST", "/api/v1/diagnoses", s.token, body, "Content-Type", "application/json"))
	})
}

func FuzzScheduleMailIssue(f *testing.F) {
	s := startFuzzService(f, false)
	for _, body := range []string{
		`{"subject":"今週のセキュリティ","body":"本文\n\t二行目"}`, `{"subject":"x","body":"y","sendAt":"2025-08-06T15:00:00+09:00"}`,
		`{"subject":"x","body":"y","sendAt":"0001-01-01T00:00:00Z"}`, `{"subject":"x","body":"y","sendAt":"9999-12-31T23:59:59.999999999Z"}`,
		`{"subject":"a\r\nBcc: b","body":""}`, `{"subject":1,"body":[],"sendAt":false}`,
	} {
		f.Add([]byte(body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		s.check(t, "POST /mail-magazine/issues", s.send(t, "POST", "/api/v1/mail-magazine/issues", s.token, body, "Content-Type", "application/json"))
	})
}
