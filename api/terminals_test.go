package api_test

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"yorozu/cmd/yorozu/app/apptest"
)

type terminalBody struct {
	TerminalID     string     `json:"terminalId"`
	CustomerNumber string     `json:"customerNumber"`
	Hostname       string     `json:"hostname"`
	Status         string     `json:"status"`
	EnrolledAt     time.Time  `json:"enrolledAt"`
	LastSeenAt     *time.Time `json:"lastSeenAt"`
}

func listTerminals(t *testing.T, env *apptest.Env, tok, query string) []terminalBody {
	t.Helper()
	var l struct{ Items []terminalBody }
	must(t, env.Do("GET", "/api/v1/terminals"+query, tok, nil), 200).JSON(t, &l)
	return l.Items
}

func TestEnrollmentRulesAndRefusals(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine apptest.Engine) {
		env := startTelemetry(t, engine, apptest.Options{Now: jstTime("2025-07-01 10:00")})
		staff := env.StaffToken("sato", "operator")
		seedContract(t, env, "N000000001", 0) // 5 IDs
		seedContract(t, env, "N000000002", 1) // 6 IDs

		// Tokens are for existing contracts, and only staff with commands make them.
		wantProblem(t, env.Do("POST", "/api/v1/contracts/N000000099/enrollment-tokens", staff, nil), 404, "contract-not-found")
		auditor := env.StaffToken("ueda", "auditor")
		must(t, env.Do("POST", "/api/v1/contracts/N000000001/enrollment-tokens", auditor, nil), 403)
		must(t, env.Do("POST", "/api/v1/contracts/N000000001/enrollment-tokens", "", nil), 401)
		r := must(t, env.Do("POST", "/api/v1/contracts/N000000001/enrollment-tokens", staff, map[string]any{"validDays": 0}), 422)
		if !strings.Contains(string(r.Body), "validDays") {
			t.Fatalf("validDays not named: %s", r.Body)
		}
		token := enrollmentToken(t, env, staff, "N000000001")
		other := enrollmentToken(t, env, staff, "N000000002")

		// Refusals, each with its code and nothing stored.
		wantProblem(t, env.Do("POST", "/agent/v1/enroll", "", enrollBody("yet1.N000000001.nope", "PC-X", "HW-X")), 401, "bad-enrollment-token")
		wantProblem(t, env.Do("POST", "/agent/v1/enroll", "", enrollBody(token+"x", "PC-X", "HW-X")), 401, "bad-enrollment-token")
		mac := enrollBody(token, "MAC-1", "HW-MAC")
		mac["os"] = map[string]string{"edition": "macOS Sonoma", "version": "14.5", "build": "23F79"}
		wantProblem(t, env.Do("POST", "/agent/v1/enroll", "", mac), 422, "unsupportedOs")
		tools := enrollBody(token, "PC-T", "HW-T")
		tools["assetManagementTools"] = []string{"SKYSEA Client View"}
		wantProblem(t, env.Do("POST", "/agent/v1/enroll", "", tools), 422, "assetManagementToolPresent")
		missing := enrollBody(token, "", "")
		r = env.Do("POST", "/agent/v1/enroll", "", missing)
		wantProblem(t, r, 422, "validation")
		if !strings.Contains(string(r.Body), `"hostname"`) || !strings.Contains(string(r.Body), `"hardwareId"`) {
			t.Fatalf("every field error at once: %s", r.Body)
		}
		must(t, env.Do("POST", "/agent/v1/enroll", "", `{"enrollmentToken": "x",`), 400)

		// Five IDs: the sixth terminal is refused until one is retired.
		var ids []enrolled
		for i := range 5 {
			ids = append(ids, enroll(t, env, token, "PC-"+string(rune('A'+i)), "HW-"+string(rune('A'+i))))
		}
		wantProblem(t, env.Do("POST", "/agent/v1/enroll", "", enrollBody(token, "PC-F", "HW-F")), 409, "idLimitReached")
		// The token is reusable, and the other contract's count is its own.
		enroll(t, env, other, "OTHER-1", "HW-A")

		// A reinstall (same hardware ID, same contract) gets its terminal back with a new token;
		// the old token stops working at once. It takes no new ID.
		re := enroll(t, env, token, "PC-A-new", "HW-A")
		if re.TerminalID != ids[0].TerminalID || re.AgentToken == ids[0].AgentToken {
			t.Fatalf("reinstall: %+v, first %+v", re, ids[0])
		}
		wantProblem(t, upload(t, env, ids[0].AgentToken, batch(env)), 401, "bad-agent-token")
		uploadOK(t, env, re.AgentToken, batch(env))

		list := listTerminals(t, env, staff, "?customerNumber=N000000001")
		if len(list) != 5 {
			t.Fatalf("%d terminals of N000000001, want 5: %+v", len(list), list)
		}
		if list[0].TerminalID != ids[0].TerminalID || list[0].Hostname != "PC-A-new" || list[0].Status != "active" ||
			list[0].CustomerNumber != "N000000001" || list[0].LastSeenAt == nil || list[1].LastSeenAt != nil ||
			!list[1].EnrolledAt.Equal(env.Clock.Now()) {
			t.Fatalf("terminal list: %+v", list)
		}

		// Retirement frees the ID; the retired terminal's agent is refused.
		must(t, env.Do("POST", "/api/v1/terminals/"+ids[1].TerminalID+"/retire", auditor, nil), 403)
		wantProblem(t, env.Do("POST", "/api/v1/terminals/"+uuid.NewString()+"/retire", staff, nil), 404, "terminal-not-found")
		var retired terminalBody
		must(t, env.Do("POST", "/api/v1/terminals/"+ids[1].TerminalID+"/retire", staff, nil), 200).JSON(t, &retired)
		if retired.Status != "retired" || retired.TerminalID != ids[1].TerminalID {
			t.Fatalf("retired: %+v", retired)
		}
		must(t, env.Do("POST", "/api/v1/terminals/"+ids[1].TerminalID+"/retire", staff, nil), 200) // again: nothing new
		wantProblem(t, upload(t, env, ids[1].AgentToken, batch(env)), 403, "terminalRetired")
		pcF := enroll(t, env, token, "PC-F", "HW-F")
		wantProblem(t, env.Do("POST", "/agent/v1/enroll", "", enrollBody(token, "PC-G", "HW-G")), 409, "idLimitReached")
		if got := listTerminals(t, env, staff, "?customerNumber=N000000001&status=retired"); len(got) != 1 || got[0].TerminalID != ids[1].TerminalID {
			t.Fatalf("retired list: %+v", got)
		}

		// Silent terminals: nothing sent for 14 days or more.
		env.Clock.Advance(14*24*time.Hour - time.Minute)
		uploadOK(t, env, ids[2].AgentToken, batch(env))
		env.Clock.Advance(time.Minute)
		silent := listTerminals(t, env, staff, "?customerNumber=N000000001&silentDays=14")
		got := map[string]bool{}
		for _, s := range silent {
			got[s.TerminalID] = true
		}
		if len(silent) != 4 || !got[ids[3].TerminalID] || !got[ids[4].TerminalID] || !got[re.TerminalID] || !got[pcF.TerminalID] {
			t.Fatalf("silent terminals: %+v", silent)
		}
		must(t, env.Do("GET", "/api/v1/terminals?silentDays=soon", staff, nil), 422)

		// Expired enrollment tokens are refused.
		env.Clock.Advance(17 * 24 * time.Hour)
		wantProblem(t, env.Do("POST", "/agent/v1/enroll", "", enrollBody(token, "PC-H", "HW-H")), 401, "bad-enrollment-token")
	})
}

func TestIngestRules(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine apptest.Engine) {
		env := startTelemetry(t, engine, apptest.Options{Now: jstTime("2025-07-20 10:00")})
		staff := env.StaffToken("sato", "operator")
		seedContract(t, env, "N000000001", 0)
		a := enroll(t, env, enrollmentToken(t, env, staff, "N000000001"), "PC-1", "HW-1")
		now := env.Clock.Now()

		b := batch(env,
			web(now.Add(-time.Hour), "https://www.example.co.jp/a", 30),                 // accepted
			web(now.Add(-15*24*time.Hour+time.Minute), "https://old.example.com/", 5),   // just within 14 + 1 days
			web(now.Add(-15*24*time.Hour-time.Minute), "https://older.example.com/", 5), // too old
			web(now.Add(4*time.Minute), "https://soon.example.com/", 5),                 // within 5 minutes ahead
			web(now.Add(6*time.Minute), "https://future.example.com/", 5),               // future
			rec{"type": "web", "at": now.Format(time.RFC3339), "url": "not a url", "seconds": 3},
			rec{"type": "logon", "at": now.Format(time.RFC3339)},                                  // no user
			rec{"type": "teleport", "at": now.Format(time.RFC3339)},                               // unknown type
			rec{"type": "print", "at": now.Format(time.RFC3339), "printer": "P", "pages": "many"}, // wrong type
			rec{"type": "logon", "at": now.Format(time.RFC3339), "user": "tanaka"},
		)
		got := uploadOK(t, env, a.AgentToken, b)
		if got.Accepted != 4 || got.Duplicate || got.Dropped.TooOld != 1 || got.Dropped.Future != 1 || got.Dropped.Invalid != 4 ||
			got.BatchID != b["batchId"] {
			t.Fatalf("sorted batch: %+v", got)
		}
		h := head(t, env)
		// The same batch again: acknowledged, not stored twice.
		if again := uploadOK(t, env, a.AgentToken, b); !again.Duplicate || again.Accepted != 0 {
			t.Fatalf("re-sent batch: %+v", again)
		}
		// ... also days later, when it lands in another day's stream.
		env.Clock.Advance(3 * 24 * time.Hour)
		if again := uploadOK(t, env, a.AgentToken, b); !again.Duplicate {
			t.Fatalf("re-sent batch days later: %+v", again)
		}
		if head(t, env) != h {
			t.Fatalf("a duplicate stored something: head %d → %d", h, head(t, env))
		}

		// Uncompressed JSON is fine too.
		plain := env.Do("POST", "/agent/v1/telemetry", a.AgentToken, batch(env, web(env.Clock.Now(), "https://a.example.com/", 1)))
		if plain.Status != 200 {
			t.Fatalf("plain upload: %d %s", plain.Status, plain.Body)
		}

		// Malformed JSON is 400; a batch without its own fields 422, with every error; nothing stored.
		h = head(t, env)
		wantProblem(t, upload(t, env, a.AgentToken, []byte(`{"batchId": "x", "records": [`)), 400, "malformed-body")
		wantProblem(t, upload(t, env, a.AgentToken, []byte(`{"batchId": 1}`)), 400, "malformed-body")
		r := upload(t, env, a.AgentToken, []byte(`{"batchId": "nope", "records": []}`))
		wantProblem(t, r, 422, "validation")
		for _, f := range []string{"batchId", "sequence", "collectedFrom", "collectedTo"} {
			if !strings.Contains(string(r.Body), `"`+f+`"`) {
				t.Fatalf("%s not reported: %s", f, r.Body)
			}
		}
		wantProblem(t, env.Do("POST", "/agent/v1/telemetry", a.AgentToken, []byte("not gzip"), "Content-Encoding", "gzip"), 400, "malformed-body")
		must(t, env.Do("POST", "/agent/v1/telemetry", a.AgentToken, batch(env), "Content-Type", "application/xml"), 415)
		must(t, env.Do("POST", "/agent/v1/telemetry", a.AgentToken, batch(env), "Content-Encoding", "br"), 415)
		// Over 8 MiB uncompressed: 413, whether sent plain or as a small gzip bomb.
		big := []byte(`{"batchId":"` + uuid.NewString() + `","sequence":1,"records":[],"pad":"` + strings.Repeat("x", 8<<20) + `"}`)
		wantProblem(t, env.Do("POST", "/agent/v1/telemetry", a.AgentToken, big), 413, "body-too-large")
		var bomb bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&bomb, gzip.BestCompression)
		_, _ = zw.Write(big)
		_, _ = zw.Write(bytes.Repeat([]byte{' '}, 64<<20))
		_ = zw.Close()
		if bomb.Len() > 1<<20 {
			t.Fatalf("bomb of %d bytes is no bomb", bomb.Len())
		}
		wantProblem(t, env.Do("POST", "/agent/v1/telemetry", a.AgentToken, bomb.Bytes(), "Content-Encoding", "gzip"), 413, "body-too-large")
		if head(t, env) != h {
			t.Fatal("a refused upload stored something")
		}

		// Tokens: none, unknown, and another terminal's data is out of reach (a token names one
		// terminal: the batch lands on that terminal only).
		must(t, env.Do("POST", "/agent/v1/telemetry", "", batch(env)), 401)
		wantProblem(t, upload(t, env, "yat1.N000000001."+a.TerminalID+".AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", batch(env)), 401, "bad-agent-token")
		must(t, env.Do("GET", "/api/v1/terminals", a.AgentToken, nil), 401)
	})
}

// A just-enrolled agent's first upload may reach another replica before that replica's
// projections have seen the enrollment; a batch re-sent to the other replica is still a duplicate.
func TestTelemetryAcrossReplicas(t *testing.T) {
	dsn := pgtestDatabase(t)
	dir := t.TempDir() // one data directory: one master key for both replicas
	a := startTelemetry(t, apptest.Postgres, apptest.Options{PostgresURL: dsn, DataDir: dir, Now: jstTime("2025-07-20 10:00")})
	b := startTelemetry(t, apptest.Postgres, apptest.Options{PostgresURL: dsn, DataDir: dir, Now: jstTime("2025-07-20 10:00")})
	staff := a.StaffToken("sato", "operator")
	seedContract(t, a, "N000000001", 0)
	for i := range 3 {
		e := enroll(t, a, enrollmentToken(t, a, staff, "N000000001"), "PC-"+string(rune('A'+i)), "HW-"+string(rune('A'+i)))
		bt := batch(b, web(b.Clock.Now(), "https://www.example.com/", 10))
		if got := uploadOK(t, b, e.AgentToken, bt); got.Accepted != 1 || got.Duplicate {
			t.Fatalf("first upload on the other replica: %+v", got)
		}
		if got := uploadOK(t, a, e.AgentToken, bt); !got.Duplicate {
			t.Fatalf("the same batch on the first replica: %+v", got)
		}
		// A reinstall on one replica: the old token is refused on the other once it sees it.
		re := enroll(t, a, enrollmentToken(t, a, staff, "N000000001"), "PC-"+string(rune('A'+i)), "HW-"+string(rune('A'+i)))
		deadline := time.Now().Add(10 * time.Second)
		for upload(t, b, e.AgentToken, batch(b)).Status != http.StatusUnauthorized {
			if time.Now().After(deadline) {
				t.Fatal("replica b still takes the old token")
			}
			time.Sleep(20 * time.Millisecond)
		}
		uploadOK(t, b, re.AgentToken, batch(b))
	}
}

// A restart keeps the batch IDs: a batch re-sent after a restart is a duplicate.
func TestDuplicateAcrossRestart(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine apptest.Engine) {
		dir := t.TempDir()
		opts := apptest.Options{DataDir: dir, Now: jstTime("2025-07-20 10:00")}
		if engine == apptest.Postgres {
			opts.PostgresURL = pgtestDatabase(t)
		}
		env := startTelemetry(t, engine, opts)
		staff := env.StaffToken("sato", "operator")
		seedContract(t, env, "N000000001", 0)
		e := enroll(t, env, enrollmentToken(t, env, staff, "N000000001"), "PC-1", "HW-1")
		bt := batch(env, web(env.Clock.Now(), "https://www.example.com/", 10))
		uploadOK(t, env, e.AgentToken, bt)
		env.Stop()
		env = startTelemetry(t, engine, opts)
		if got := uploadOK(t, env, e.AgentToken, bt); !got.Duplicate {
			t.Fatalf("after a restart: %+v", got)
		}
	})
}
