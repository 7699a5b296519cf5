package esdb

import (
	"encoding/json"
	"testing"
	"time"

	"yorozu/domain/event"
)

func TestStreamMetadataKeepsWhatItDoesNotKnow(t *testing.T) {
	in := `{"$acl":{"$r":"$admins"},"$maxCount":5,"other.tool":{"x":[1,2]}}`
	m, err := parseStreamMeta([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	m.setTruncateBefore(41)
	m.setMaxAge(92 * 24 * time.Hour)
	m.setTip(42, event.Hash{0xab})
	out, err := m.encode()
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]json.RawMessage
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{
		"$acl":       `{"$r":"$admins"}`,
		"$maxCount":  `5`,
		"other.tool": `{"x":[1,2]}`,
		"$tb":        `41`,
		"$maxAge":    `7948800`,
	} {
		if string(got[key]) != want {
			t.Errorf("%s = %s, want %s", key, got[key], want)
		}
	}

	back, err := parseStreamMeta(out)
	if err != nil {
		t.Fatal(err)
	}
	if tb, ok := back.truncateBefore(); !ok || tb != 41 {
		t.Errorf("$tb read back as %d, %v", tb, ok)
	}
	if age, ok := back.maxAge(); !ok || age != 92*24*time.Hour {
		t.Errorf("$maxAge read back as %v, %v", age, ok)
	}
	if v, h, ok := back.tip(); !ok || v != 42 || h != (event.Hash{0xab}) {
		t.Errorf("tip read back as %d %s %v", v, h, ok)
	}
}

func TestStreamMetadataOfOtherWriters(t *testing.T) {
	cases := []struct {
		doc    string
		tb     uint64
		tbSet  bool
		hasTip bool
	}{
		{``, 0, false, false},
		{`null`, 0, false, false},
		{`{}`, 0, false, false},
		{`{"$tb":9223372036854775807}`, 9223372036854775807, true, false}, // a soft delete
		{`{"$tb":12.0}`, 12, true, false},
		{`{"$tb":1e3}`, 1000, true, false},
		{`{"$tb":"12"}`, 0, false, false},
		{`{"$tb":-1}`, 0, false, false},
		{`{"yorozuTip":{"version":0,"hash":""}}`, 0, false, false},
		{`{"yorozuTip":{"version":3,"hash":"00"}}`, 0, false, false},
	}
	for _, c := range cases {
		m, err := parseStreamMeta([]byte(c.doc))
		if err != nil {
			t.Fatalf("%s: %v", c.doc, err)
		}
		tb, ok := m.truncateBefore()
		if tb != c.tb || ok != c.tbSet {
			t.Errorf("%s: $tb = %d, %v; want %d, %v", c.doc, tb, ok, c.tb, c.tbSet)
		}
		if _, _, ok := m.tip(); ok != c.hasTip {
			t.Errorf("%s: tip found = %v", c.doc, ok)
		}
	}
	if _, err := parseStreamMeta([]byte(`[1,2]`)); err == nil {
		t.Error("a metadata document that is not an object was accepted")
	}
}

func TestMaxAgeIsWholeSeconds(t *testing.T) {
	var m streamMeta
	m.setMaxAge(1500 * time.Millisecond)
	if age, _ := m.maxAge(); age != time.Second {
		t.Errorf("1.5 s became %v, want 1 s", age)
	}
	m.setMaxAge(time.Millisecond)
	if age, _ := m.maxAge(); age != time.Second {
		t.Errorf("1 ms became %v, want the server's minimum of 1 s", age)
	}
}

func TestServerStreamNames(t *testing.T) {
	if got := metastream("telemetry-1"); got != "$$telemetry-1" {
		t.Errorf("metastream = %s", got)
	}
	for _, name := range []string{metastream("x"), partitionedStreams, claimStream([16]byte{1})} {
		if !isSystem(name, "Any") {
			t.Errorf("%s is not a system stream, so it would show in ReadAll", name)
		}
	}
}
