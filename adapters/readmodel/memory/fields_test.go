package memory

import (
	"strings"
	"testing"
)

func TestLookup(t *testing.T) {
	const doc = `{"id":"c01","nested":{"name":"not me","list":[1,{"id":"x"}],"s":"}\"]"},` +
		`"quote":"say \"hi\"","unicode":"\u30e4\u30de\u30c0","n":-1.5e3,"yes":true,"nothing":null,` +
		`"arr":[1, 2],"dup":"first","dup":"last","name":"山田"}`
	tests := []struct {
		field string
		want  value
	}{
		{"id", value{"c01", true}},
		{"name", value{"山田", true}},
		{"quote", value{`say "hi"`, true}},
		{"unicode", value{"ヤマダ", true}},
		{"n", value{"-1.5e3", true}},
		{"yes", value{"true", true}},
		{"nothing", value{}},
		{"missing", value{}},
		{"arr", value{"[1, 2]", true}},
		{"nested", value{`{"name":"not me","list":[1,{"id":"x"}],"s":"}\"]"}`, true}},
		{"dup", value{"last", true}},
	}
	for _, tc := range tests {
		if got := lookup(doc, tc.field); got != tc.want {
			t.Errorf("lookup(%s) = %+v, want %+v", tc.field, got, tc.want)
		}
	}
	spaced := " {\n \"a\" : \"b\" ,\t\"c\" : 7 }"
	if got := lookup(spaced, "c"); got != (value{"7", true}) {
		t.Errorf("lookup with white space = %+v", got)
	}
	for _, notObject := range []string{`[{"id":"x"}]`, `"id"`, `null`, ``, `{"id":`, `{"id":"unterminated`} {
		if got := lookup(notObject, "id"); got.ok {
			t.Errorf("lookup(%q) = %+v, want nothing", notObject, got)
		}
	}
}

func TestContainsFold(t *testing.T) {
	tests := []struct {
		hay, needle string
		want        bool
	}{
		{"YAMADA Taro", "yamada", true},
		{"yamada", "yamada", true},
		{"ＹＡＭＡＤＡ商事", "ｙａｍａｄａ", true},
		{"ヤマダ タロウ", "ヤマダ", true},
		{"ÉCOLE", "école", true},
		{"Suzuki", "yamada", false},
		{"anything", "", true},
	}
	for _, tc := range tests {
		if got := containsFold([]byte(tc.hay), []byte(tc.needle)); got != tc.want {
			t.Errorf("containsFold(%q, %q) = %v", tc.hay, tc.needle, got)
		}
	}
}

func TestColumnDropsGarbage(t *testing.T) {
	c := &column{}
	long := strings.Repeat("x", 1000)
	for i := range 10 {
		c.set(i, value{long, true})
	}
	// Replacing every value again and again leaves the old texts behind.
	for round := range 1000 {
		for i := range 10 {
			c.set(i, value{long[:500+round%7] + "v", i%3 != 0})
		}
		c.compactIfWasteful()
	}
	if len(c.text) > 2<<20 {
		t.Errorf("the column holds %d bytes of text for 10 values", len(c.text))
	}
	for i := range 10 {
		v, ok := c.value(i)
		want := long[:500+999%7] + "v"
		if ok != (i%3 != 0) || (ok && string(v) != want) {
			t.Errorf("slot %d = %q, %v; want %q, %v", i, v, ok, want, i%3 != 0)
		}
	}
}
