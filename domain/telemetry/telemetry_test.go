package telemetry_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"yorozu/domain/telemetry"
)

func TestRecordTimeWindow(t *testing.T) {
	now := time.Date(2025, 7, 20, 1, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		at     time.Time
		accept bool
		want   telemetry.Dropped
	}{
		{now.Add(-15 * 24 * time.Hour), true, telemetry.Dropped{}},
		{now.Add(-15*24*time.Hour - time.Second), false, telemetry.Dropped{TooOld: 1}},
		{now.Add(5 * time.Minute), true, telemetry.Dropped{}},
		{now.Add(5*time.Minute + time.Second), false, telemetry.Dropped{Future: 1}},
	} {
		var d telemetry.Dropped
		r := telemetry.Record{Type: telemetry.RecordBoot, At: c.at}
		if got := telemetry.Classify(&r, r.Valid(), now, &d); got != c.accept || d != c.want {
			t.Errorf("%s: %v %+v", c.at, got, d)
		}
	}
}

func TestRecordValidity(t *testing.T) {
	at := time.Now()
	n := int64(3)
	neg := int64(-1)
	for _, c := range []struct {
		r    telemetry.Record
		want bool
	}{
		{telemetry.Record{Type: "logon", At: at, User: "u"}, true},
		{telemetry.Record{Type: "logon", At: at}, false},
		{telemetry.Record{Type: "app", At: at, Action: "start", Name: "x"}, true},
		{telemetry.Record{Type: "app", At: at, Action: "pause", Name: "x"}, false},
		{telemetry.Record{Type: "file", At: at, Operation: "copy", Path: `C:\a`, Size: &n}, true},
		{telemetry.Record{Type: "file", At: at, Operation: "copy", Path: `C:\a`, Size: &neg}, false},
		{telemetry.Record{Type: "print", At: at, Printer: "p", Pages: &n}, true},
		{telemetry.Record{Type: "print", At: at, Printer: "p"}, false},
		{telemetry.Record{Type: "device", At: at, Class: "usbStorage", Name: "n"}, true},
		{telemetry.Record{Type: "web", At: at, URL: "https://a.jp/", Seconds: &n}, true},
		{telemetry.Record{Type: "web", At: at, URL: "ftp://a.jp/", Seconds: &n}, false},
		{telemetry.Record{Type: "web", At: at, URL: "https://a.jp/"}, false},
		{telemetry.Record{Type: "web", At: at, URL: "https://a.jp/\x01", Seconds: &n}, false},
		{telemetry.Record{Type: "boot"}, false},
		{telemetry.Record{Type: "reboot", At: at}, false},
	} {
		if got := c.r.Valid(); got != c.want {
			t.Errorf("%+v: %v", c.r, got)
		}
	}
}

func TestDecodeUpload(t *testing.T) {
	now := time.Date(2025, 7, 20, 1, 0, 0, 0, time.UTC)
	body := `{"batchId":"` + uuid.NewString() + `","sequence":3,"collectedFrom":"2025-07-20T00:45:00Z","collectedTo":"2025-07-20T01:00:00Z",
	 "records":[{"type":"boot","at":"2025-07-20T00:50:00Z"},{"type":"boot","at":7},{"type":"logon","at":"2025-07-20T00:51:00Z","user":"a"},
	 {"type":"boot","at":"2025-07-01T00:00:00Z"}, "x"], "futureField": true}`
	b, err := telemetry.DecodeUpload([]byte(body), now)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Accepted) != 2 || b.Dropped != (telemetry.Dropped{Invalid: 2, TooOld: 1}) || b.Sequence != 3 {
		t.Fatalf("%+v", b)
	}
	for _, bad := range []string{`{`, `[]`, `{"batchId": 3}`, `{} {}`, ``} {
		if _, err := telemetry.DecodeUpload([]byte(bad), now); !errors.Is(err, telemetry.ErrMalformed) {
			t.Errorf("%q: %v", bad, err)
		}
	}
	_, err = telemetry.DecodeUpload([]byte(`{"batchId":"x","sequence":-1,"collectedFrom":"2025-07-20T01:00:00Z","collectedTo":"2025-07-20T00:00:00Z"}`), now)
	var inv *telemetry.InvalidError
	if !errors.As(err, &inv) || len(inv.Errors) != 3 {
		t.Fatalf("%v", err)
	}
}

func TestTokens(t *testing.T) {
	id := uuid.New()
	tok, err := telemetry.NewAgentToken("N000000001", id, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	cn, got, ok := telemetry.AgentTokenTerminal(tok)
	if !ok || cn != "N000000001" || got != id {
		t.Fatalf("%s → %s %s %v", tok, cn, got, ok)
	}
	et, _ := telemetry.NewEnrollmentToken("N000000002", rand.Reader)
	if cn, ok := telemetry.EnrollmentTokenContract(et); !ok || cn != "N000000002" {
		t.Fatalf("%s → %s", et, cn)
	}
	for _, bad := range []string{"", "yet1.N1.x", strings.Replace(et, "yet1", "yat1", 1), et + "."} {
		if _, ok := telemetry.EnrollmentTokenContract(bad); ok {
			t.Errorf("%q accepted", bad)
		}
	}
	if telemetry.HashToken(tok) == telemetry.HashToken(tok+"x") || len(telemetry.HashToken(tok)) != 64 {
		t.Fatal("hash")
	}
}

func TestFleetDecisions(t *testing.T) {
	now := time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)
	f := telemetry.NewFleet("N000000001")
	active := telemetry.ContractFacts{Active: true, TotalIDs: 1}
	win := telemetry.Enrollment{Hostname: "h", HardwareID: "hw1", OS: telemetry.OS{Edition: "Windows 11 Pro"}}
	if _, err := f.Enroll(telemetry.ContractFacts{}, win, uuid.New(), "h1", now); !errors.Is(err, telemetry.ErrContractNotActive) {
		t.Fatal(err)
	}
	mac := win
	mac.OS.Edition = "macOS"
	if _, err := f.Enroll(active, mac, uuid.New(), "h1", now); !errors.Is(err, telemetry.ErrUnsupportedOS) {
		t.Fatal(err)
	}
	tool := win
	tool.AssetManagementTools = []string{"LanScope"}
	if _, err := f.Enroll(active, tool, uuid.New(), "h1", now); !errors.Is(err, telemetry.ErrAssetManagementToolPresent) {
		t.Fatal(err)
	}
	id := uuid.New()
	e, err := f.Enroll(active, win, id, "h1", now)
	if err != nil {
		t.Fatal(err)
	}
	_ = f.Apply(e)
	second := win
	second.HardwareID = "hw2"
	if _, err := f.Enroll(active, second, uuid.New(), "h2", now); !errors.Is(err, telemetry.ErrIDLimitReached) {
		t.Fatal(err)
	}
	re, err := f.Enroll(active, win, uuid.New(), "h3", now)
	if r, ok := re.(*telemetry.TerminalReenrolled); err != nil || !ok || r.TerminalID != id {
		t.Fatalf("reinstall: %#v %v", re, err)
	}
	ret, _ := f.Retire(id, now)
	_ = f.Apply(ret)
	if again, err := f.Retire(id, now); again != nil || err != nil {
		t.Fatal("retired twice")
	}
	// The retired hardware enrolls as a new terminal, in the freed ID.
	e, err = f.Enroll(active, win, uuid.New(), "h4", now)
	if n, ok := e.(*telemetry.TerminalEnrolled); err != nil || !ok || n.TerminalID == id {
		t.Fatalf("after retirement: %#v %v", e, err)
	}
}

func TestSealedPayload(t *testing.T) {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	block, _ := aes.NewCipher(key)
	aead, _ := cipher.NewGCM(block)
	ad := telemetry.PayloadAD("N000000001", uuid.New(), uuid.New())
	n := int64(5)
	p := &telemetry.Payload{Records: []telemetry.Record{{Type: "web", At: time.Unix(1, 0).UTC(), URL: "https://secret.example/", Seconds: &n}}}
	sealed, err := telemetry.SealPayload(aead, rand.Reader, ad, p)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("secret.example")) {
		t.Fatal("plain text in the sealed payload")
	}
	got, err := telemetry.OpenPayload(aead, ad, sealed)
	if err != nil || got.Records[0].URL != "https://secret.example/" {
		t.Fatalf("%+v %v", got, err)
	}
	if _, err := telemetry.OpenPayload(aead, append(ad, 'x'), sealed); !errors.Is(err, telemetry.ErrUnreadablePayload) {
		t.Fatalf("another event's AD: %v", err)
	}
}
