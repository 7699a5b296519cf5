package audit

import (
	"encoding/json"
	"testing"
	"time"
	"unicode/utf8"

	"yorozu/domain/event"
)

func TestCustomerNumberIsReadFromTheTopLevelOnly(t *testing.T) {
	cases := []struct {
		name, data, want string
	}{
		{"top-level field", `{"orderId":"x","customerNumber":"N000000001"}`, "N000000001"},
		{"after nested objects and arrays", `{"a":{"b":[1,{"c":"}"}]},"s":"x,\"y\"","customerNumber":"N000000002","z":1}`, "N000000002"},
		{"only inside a nested form", `{"form":{"customerNumber":"N000000003"}}`, ""},
		{"nested first, then top level", `{"form":{"customerNumber":"N1"},"customerNumber":"N000000004"}`, "N000000004"},
		{"not a string", `{"customerNumber":12}`, ""},
		{"absent", `{"orderId":"x"}`, ""},
		{"with spaces", "{ \"n\" : 1 , \"customerNumber\" : \"N000000005\" }", "N000000005"},
		{"not an object", `["customerNumber","N1"]`, ""},
		{"broken JSON", `{"customerNumber"`, ""},
		{"unterminated string in a skipped value", `{"a":"abc`, ""},
		{"unterminated nested value", `{"a":{"b":[1,2`, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := customerNumberOf(event.Record{Data: json.RawMessage(c.data)}); got != c.want {
				t.Fatalf("customer number of %s = %q, want %q", c.data, got, c.want)
			}
		})
	}
}

func FuzzCustomerNumberAgreesWithDecoding(f *testing.F) {
	f.Add(`{"customerNumber":"N000000001"}`)
	f.Add(`{"form":{"customerNumber":"N1"},"x":[1,2,"]"],"customerNumber":"N2"}`)
	f.Fuzz(func(t *testing.T, data string) {
		got := customerNumberOf(event.Record{Data: json.RawMessage(data)}) // must end on any input
		var probe map[string]json.RawMessage
		if !utf8.ValidString(data) || json.Unmarshal([]byte(data), &probe) != nil {
			return // event data is always valid JSON in UTF-8: json.Marshal wrote it
		}
		want := ""
		var s string
		if raw, ok := probe["customerNumber"]; ok && json.Unmarshal(raw, &s) == nil && json.Valid(raw) && raw[0] == '"' {
			want = s
		}
		if got != want && !(got == "" && want != "") {
			t.Fatalf("%s: scanned %q, decoded %q", data, got, want)
		}
	})
}

func TestInstantsFormatLikeTheLayout(t *testing.T) {
	for _, tm := range []time.Time{
		time.Date(2025, 7, 1, 7, 0, 0, 123456789, time.UTC),
		time.Date(2024, 2, 29, 23, 59, 59, 999999000, time.FixedZone("JST", 9*3600)),
		time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1969, 12, 31, 23, 59, 59, 1000, time.UTC),
		time.Date(2000, 3, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2100, 2, 28, 12, 0, 0, 0, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC),
	} {
		if got, want := instant(tm), tm.UTC().Format(InstantLayout); got != want {
			t.Errorf("instant(%v) = %s, want %s", tm, got, want)
		}
	}
}

func FuzzInstant(f *testing.F) {
	f.Add(int64(0))
	f.Add(int64(1751353200123456))
	f.Fuzz(func(t *testing.T, us int64) {
		tm := time.UnixMicro(us % 253402300800000000) // below year 10000
		if tm.Year() < 0 {
			return
		}
		if got, want := instant(tm), tm.UTC().Format(InstantLayout); got != want {
			t.Fatalf("instant(%d) = %s, want %s", us, got, want)
		}
	})
}
