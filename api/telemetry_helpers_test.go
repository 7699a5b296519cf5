package api_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"yorozu/adapters/postgres/pgtest"
	"yorozu/cmd/yorozu/agentsim"
	"yorozu/cmd/yorozu/app"
	"yorozu/cmd/yorozu/app/apptest"
	"yorozu/domain/calendar"
	"yorozu/domain/contract"
	"yorozu/domain/event"
	"yorozu/domain/schema"
)

// The telemetry tests open contracts by appending ContractOpened directly (the order workflow is
// tested elsewhere), except where a termination must go through a real cancel order.

// testDictionary is the URL dictionary the telemetry tests serve with.
const testDictionary = "# test dictionary\n" + agentsim.HarmfulDictionary +
	"evil.example\tmalware\n" +
	"203.0.113.9\tphishingFraud\n" +
	"cults.example.org\tviolentGroupsCults\n"

func startTelemetry(t *testing.T, engine apptest.Engine, opts apptest.Options) *apptest.Env {
	t.Helper()
	dict := filepath.Join(t.TempDir(), "dictionary.tsv")
	if err := os.WriteFile(dict, []byte(testDictionary), 0o600); err != nil {
		t.Fatal(err)
	}
	configure := opts.Configure
	opts.Configure = func(c *app.Config) {
		c.URLDictionary = dict
		c.RateLimit = 1e9
		if configure != nil {
			configure(c)
		}
	}
	return apptest.Start(t, engine, opts)
}

var testCodec = schema.Registry()

// seedContract opens contract cn with additional IDs, opened on 2025-06-01, and waits for the
// read models.
func seedContract(t testing.TB, env *apptest.Env, cn string, additional int) {
	t.Helper()
	e := &contract.ContractOpened{CustomerNumber: cn, OpenedOn: calendar.MustDate(2025, 6, 1), AdditionalIDs: additional,
		Contractor: contract.Contractor{Name: "株式会社テレメトリ"}}
	appendEvents(t, env, contract.Stream(cn), e)
}

func appendEvents(t testing.TB, env *apptest.Env, stream string, es ...any) {
	t.Helper()
	drafts := make([]event.Draft, len(es))
	for i, e := range es {
		typ, data, err := testCodec.Encode(e)
		if err != nil {
			t.Fatal(err)
		}
		eff := env.Clock.Now()
		if bt, ok := e.(event.BusinessTimed); ok {
			eff = bt.EffectiveTime()
		}
		drafts[i] = event.Draft{ID: uuid.Must(uuid.NewV7()), Type: typ, SchemaVersion: 1, EffectiveAt: eff,
			RecordedAt: env.Clock.Now(), Actor: "test", Data: data}
	}
	res, err := env.App.Events.Append(context.Background(), stream, event.Any(), drafts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := env.App.Runner.WaitFor(ctx, res.LastPosition); err != nil {
		t.Fatal(err)
	}
}

func enrollmentToken(t testing.TB, env *apptest.Env, staff, cn string) string {
	t.Helper()
	r := env.Do("POST", "/api/v1/contracts/"+cn+"/enrollment-tokens", staff, nil)
	if r.Status != http.StatusCreated {
		t.Fatalf("enrollment token for %s: %d %s", cn, r.Status, r.Body)
	}
	var out struct {
		EnrollmentToken string    `json:"enrollmentToken"`
		ExpiresAt       time.Time `json:"expiresAt"`
	}
	r.JSON(t, &out)
	if out.EnrollmentToken == "" || !out.ExpiresAt.Equal(env.Clock.Now().UTC().Truncate(time.Microsecond).Add(30*24*time.Hour)) &&
		out.ExpiresAt.Sub(env.Clock.Now()) != 30*24*time.Hour {
		t.Fatalf("enrollment token: %+v (now %s)", out, env.Clock.Now())
	}
	return out.EnrollmentToken
}

func enrollBody(token, host, hw string) map[string]any {
	return map[string]any{"enrollmentToken": token, "hostname": host, "hardwareId": hw,
		"os": map[string]string{"edition": "Windows 11 Pro", "version": "23H2", "build": "22631.4037"}, "assetManagementTools": []string{}}
}

type enrolled struct {
	TerminalID          string `json:"terminalId"`
	AgentToken          string `json:"agentToken"`
	PollIntervalSeconds int    `json:"pollIntervalSeconds"`
}

func enroll(t testing.TB, env *apptest.Env, token, host, hw string) enrolled {
	t.Helper()
	r := env.Do("POST", "/agent/v1/enroll", "", enrollBody(token, host, hw))
	if r.Status != http.StatusCreated {
		t.Fatalf("enroll %s: %d %s", host, r.Status, r.Body)
	}
	var e enrolled
	r.JSON(t, &e)
	if e.TerminalID == "" || e.AgentToken == "" || e.PollIntervalSeconds != 900 {
		t.Fatalf("enrollment answer: %s", r.Body)
	}
	return e
}

// rec is one record on the wire.
type rec map[string]any

func web(at time.Time, url string, seconds int) rec {
	return rec{"type": "web", "at": at.Format(time.RFC3339), "url": url, "seconds": seconds, "title": "page"}
}

// batch is an upload of records with a fresh batch ID, collected over the 15 minutes before the
// last record (or now).
func batch(env *apptest.Env, records ...rec) map[string]any {
	to := env.Clock.Now().UTC()
	if records == nil {
		records = []rec{}
	}
	return map[string]any{"batchId": uuid.NewString(), "sequence": 1, "collectedFrom": to.Add(-15 * time.Minute).Format(time.RFC3339),
		"collectedTo": to.Format(time.RFC3339), "records": records}
}

type ingestAnswer struct {
	BatchID   string `json:"batchId"`
	Accepted  int    `json:"accepted"`
	Duplicate bool   `json:"duplicate"`
	Dropped   struct {
		TooOld  int `json:"tooOld"`
		Future  int `json:"future"`
		Invalid int `json:"invalid"`
	} `json:"dropped"`
}

// upload sends a batch, gzip-compressed, with the agent token.
func upload(t testing.TB, env *apptest.Env, agentToken string, b any) *apptest.Response {
	t.Helper()
	raw, ok := b.([]byte)
	if !ok {
		var err error
		if raw, err = json.Marshal(b); err != nil {
			t.Fatal(err)
		}
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(raw)
	_ = zw.Close()
	return env.Do("POST", "/agent/v1/telemetry", agentToken, gz.Bytes(), "Content-Encoding", "gzip")
}

func uploadOK(t testing.TB, env *apptest.Env, agentToken string, b any) ingestAnswer {
	t.Helper()
	r := upload(t, env, agentToken, b)
	if r.Status != http.StatusOK {
		t.Fatalf("upload: %d %s", r.Status, r.Body)
	}
	var a ingestAnswer
	r.JSON(t, &a)
	return a
}

func telemetryProblem(t testing.TB, r *apptest.Response) string {
	t.Helper()
	var p struct {
		Type string `json:"type"`
	}
	r.JSON(t, &p)
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("%d answered with %s, not a problem: %s", r.Status, ct, r.Body)
	}
	return p.Type
}

func wantProblem(t testing.TB, r *apptest.Response, status int, typ string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("got %d, want %d %s: %s", r.Status, status, typ, r.Body)
	}
	if got := telemetryProblem(t, r); got != "/problems/"+typ {
		t.Fatalf("problem type %s, want /problems/%s: %s", got, typ, r.Body)
	}
}

func jstTime(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, calendar.JST())
	if err != nil {
		panic(fmt.Sprint(s, err))
	}
	return t
}

func pgtestDatabase(t testing.TB) string { return pgtest.NewDatabase(t) }
