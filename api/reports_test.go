package api_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	crand "crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"yorozu/adapters/keyring"
	"yorozu/cmd/yorozu/app"
	"yorozu/cmd/yorozu/app/apptest"
	"yorozu/domain/calendar"
	"yorozu/domain/contract"
	"yorozu/domain/report"
	"yorozu/domain/telemetry"
)

func getReport(t testing.TB, env *apptest.Env, tok, cn, month string) report.Report {
	t.Helper()
	r := env.Do("GET", "/api/v1/reports/"+cn+"/"+month, tok, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("report %s %s: %d %s", cn, month, r.Status, r.Body)
	}
	var rep report.Report
	r.JSON(t, &rep)
	return rep
}

func withInventory(b map[string]any, inv map[string]any) map[string]any {
	b["inventory"] = inv
	return b
}

func inventoryOf(build string, software ...map[string]string) map[string]any {
	return map[string]any{
		"os":       map[string]string{"edition": "Windows 11 Pro", "version": "23H2", "build": build},
		"updates":  []map[string]string{{"kb": "KB5040442", "installedOn": "2025-07-09"}, {"kb": "KB5039212", "installedOn": "2025-06-11"}},
		"software": software,
		"hardware": map[string]any{"manufacturer": "FUJITSU", "model": "U9313", "cpu": "i5", "memoryMB": 16384, "diskGB": 512},
	}
}

func sw(name, version string) map[string]string {
	return map[string]string{"name": name, "version": version, "publisher": "Vendor"}
}

// reportFixture: a contract with three terminals and a week of crafted telemetry in July 2025,
// catalogs published on 2025-07-22.
type reportFixture struct {
	env     *apptest.Env
	staff   string
	a, b, c enrolled
}

func newReportFixture(t *testing.T, engine apptest.Engine, opts apptest.Options) *reportFixture {
	t.Helper()
	opts.Now = jstTime("2025-07-22 10:00")
	env := startTelemetry(t, engine, opts)
	f := &reportFixture{env: env, staff: env.StaffToken("sato", "operator")}
	seedContract(t, env, "N000000001", 0)
	tok := enrollmentToken(t, env, f.staff, "N000000001")
	f.a = enroll(t, env, tok, "PC-A", "HW-A")
	f.b = enroll(t, env, tok, "PC-B", "HW-B")
	f.c = enroll(t, env, tok, "PC-C", "HW-C")
	must(t, env.Do("POST", "/api/v1/catalogs/patches", f.staff, map[string]any{"entries": []map[string]any{
		{"build": "22631", "name": "Windows 11 23H2", "latestRevision": 4460, "endOfSupport": "2026-11-10"},
		{"build": "19045", "name": "Windows 10 22H2", "latestRevision": 4894, "endOfSupport": "2025-10-14"},
		{"build": "22000", "name": "Windows 11 21H2", "latestRevision": 3260, "endOfSupport": "2024-10-08"},
	}}), 201)
	must(t, env.Do("POST", "/api/v1/catalogs/software", f.staff, map[string]any{"entries": []map[string]any{
		{"name": "google chrome", "latestVersion": "126.0.2"},
		{"name": "7-Zip", "latestVersion": "23.01"},
		{"name": "Java 8", "latestVersion": "8.0.411", "endOfSupport": "2025-01-01"},
	}}), 201)
	return f
}

func (f *reportFixture) uploadWeek(t *testing.T) {
	env := f.env
	j := jstTime
	// PC-A: an unsupported build, outdated and unsupported software, dangerous and harmful visits.
	uploadOK(t, env, f.a.AgentToken, withInventory(batch(env,
		web(j("2025-07-18 10:00"), "https://www.foo.co.jp/", 100),
		web(j("2025-07-18 10:05"), "https://shop.foo.co.jp/cart", 50), // the same site: foo.co.jp
		web(j("2025-07-18 10:10"), "https://sub.evil.example/dl.exe", 5),
		web(j("2025-07-18 10:11"), "https://casino-lucky-star.example.com/", 7),
		web(j("2025-07-18 10:12"), "http://203.0.113.9/login", 9),
		rec{"type": "boot", "at": j("2025-07-21 10:00").Format(time.RFC3339)}, // Marine Day
		rec{"type": "logon", "at": j("2025-07-18 04:30").Format(time.RFC3339), "user": "tanaka"},
		rec{"type": "logon", "at": j("2025-07-18 05:00").Format(time.RFC3339), "user": "tanaka"}, // not off-hours
		rec{"type": "logon", "at": j("2025-07-18 21:59").Format(time.RFC3339), "user": "tanaka"}, // not off-hours
		rec{"type": "logon", "at": j("2025-07-18 22:00").Format(time.RFC3339), "user": "tanaka"},
		rec{"type": "shutdown", "at": j("2025-07-19 12:00").Format(time.RFC3339)},
		rec{"type": "device", "at": j("2025-07-18 11:00").Format(time.RFC3339), "class": "usbStorage", "name": "Cruzer", "vendor": "SanDisk", "serial": "S1"},
		rec{"type": "device", "at": j("2025-07-18 11:01").Format(time.RFC3339), "class": "keyboard", "name": "KB"},
	), inventoryOf("22000.3260", sw("Google Chrome", "125.0.1"), sw("7-Zip", "23.01"), sw("Java 8", "8.0.411"), sw("Tool X", "1"))))
	// PC-B: Windows 10 22H2 up to date (support ends later); ties in the web section.
	inv := inventoryOf("19045.5000", sw("7-Zip", "23.1"))
	inv["os"] = map[string]string{"edition": "Windows 10 Pro", "version": "22H2", "build": "19045.5000"}
	recs := []rec{
		web(j("2025-07-18 09:00"), "https://www.bbb.co.jp/", 100), web(j("2025-07-18 09:01"), "https://www.bbb.co.jp/", 0),
		web(j("2025-07-18 09:02"), "https://www.bbb.co.jp/", 0),
		web(j("2025-07-18 09:03"), "https://www.ccc.co.jp/", 100), web(j("2025-07-18 09:04"), "https://www.ccc.co.jp/", 0),
		web(j("2025-07-18 09:05"), "https://www.ccc.co.jp/", 0),
		web(j("2025-07-18 09:06"), "https://www.aaa.co.jp/", 60), web(j("2025-07-18 09:07"), "https://www.aaa.co.jp/", 40),
		rec{"type": "logon", "at": j("2025-07-19 12:00").Format(time.RFC3339), "user": "suzuki"}, // Saturday
	}
	for i := range 30 { // 30 sites of 1 second: the TOP 30 cuts them
		recs = append(recs, web(j("2025-07-18 12:00"), "https://site"+string(rune('a'+i%26))+string(rune('a'+i/26))+".net/", 1))
	}
	uploadOK(t, env, f.b.AgentToken, withInventory(batch(env, recs...), inv))
	// PC-C: no inventory (the enrollment's build, below the catalog's revision).
	uploadOK(t, env, f.c.AgentToken, batch(env, web(j("2025-07-20 15:00"), "https://www.foo.co.jp/", 1)))
}

func TestMonthlyReportSections(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine apptest.Engine) {
		f := newReportFixture(t, engine, apptest.Options{})
		f.uploadWeek(t)
		rep := getReport(t, f.env, f.staff, "N000000001", "2025-07")
		if rep.Status != report.StatusProvisional || rep.Terminals != 3 || rep.Month != "2025-07" || rep.CustomerNumber != "N000000001" {
			t.Fatalf("report header: %+v", rep)
		}
		s := rep.Sections
		// 1. OS and patches: unsupported wins over an up-to-date revision.
		status := map[string]report.PatchStatus{}
		for _, p := range s.OSPatches {
			status[p.Hostname] = p.Status
		}
		if !reflect.DeepEqual(status, map[string]report.PatchStatus{"PC-A": "unsupported", "PC-B": "upToDate", "PC-C": "missingUpdates"}) {
			t.Fatalf("patch status: %+v", s.OSPatches)
		}
		if p := s.OSPatches[0]; p.Hostname != "PC-A" || p.Build != "22000.3260" || p.LatestUpdate == nil || p.LatestUpdate.KB != "KB5040442" {
			t.Fatalf("PC-A patches: %+v", p)
		}
		// 2. Software: by name without regard to case, numeric versions (23.1 < 23.01? no: equal).
		soft := map[string]report.SoftwareStatus{}
		for _, a := range s.Software {
			soft[a.Hostname+"/"+a.Name] = a.Status
		}
		want := map[string]report.SoftwareStatus{"PC-A/Google Chrome": "outdated", "PC-A/7-Zip": "current", "PC-A/Java 8": "unsupported",
			"PC-A/Tool X": "unknown", "PC-B/7-Zip": "current"}
		if !reflect.DeepEqual(soft, want) {
			t.Fatalf("software: %v", soft)
		}
		// 3. TOP 30 by seconds, then more accesses, then name; subdomains under their site.
		top := s.WebTop30
		if len(top) != 30 || top[0] != (report.Site{Site: "foo.co.jp", Seconds: 151, Count: 3}) ||
			top[1] != (report.Site{Site: "bbb.co.jp", Seconds: 100, Count: 3}) ||
			top[2] != (report.Site{Site: "ccc.co.jp", Seconds: 100, Count: 3}) ||
			top[3] != (report.Site{Site: "aaa.co.jp", Seconds: 100, Count: 2}) {
			t.Fatalf("web top: %+v", top[:5])
		}
		if rep.Sections.Summary.Counts.Sites != 37 {
			t.Fatalf("distinct sites %d, want 37", rep.Sections.Summary.Counts.Sites)
		}
		// 4. Harmful categories from the dictionary (subdomains and IP hosts match).
		var harmful []string
		for _, h := range s.HarmfulAccess {
			harmful = append(harmful, h.Category+"/"+h.Item+"/"+h.Hostname)
		}
		if !slices.Equal(harmful, []string{"security/malware/PC-A", "gambling/gambling/PC-A", "security/phishingFraud/PC-A"}) {
			t.Fatalf("harmful: %v", s.HarmfulAccess)
		}
		// 5. Off-hours: holidays (weekend, national holiday), else 22:00 to 05:00.
		var off []string
		for _, o := range s.OffHours {
			off = append(off, o.Hostname+" "+o.At.In(calendar.JST()).Format("01-02 15:04")+" "+o.Type+" "+string(o.Reason))
		}
		if !slices.Equal(off, []string{"PC-A 07-18 04:30 logon lateNight", "PC-A 07-18 22:00 logon lateNight",
			"PC-B 07-19 12:00 logon holiday", "PC-A 07-21 10:00 boot holiday"}) {
			t.Fatalf("off-hours: %q", off)
		}
		// 6. External media: storage classes only.
		if len(s.ExternalMedia) != 1 || s.ExternalMedia[0].Class != "usbStorage" || s.ExternalMedia[0].Serial != "S1" {
			t.Fatalf("external media: %+v", s.ExternalMedia)
		}
		// 7. Summary: risk per terminal and company, recommendations.
		sum := s.Summary
		risk := map[string]report.RiskLevel{}
		for _, tr := range sum.Terminals {
			risk[tr.Hostname] = tr.RiskLevel
		}
		if sum.RiskLevel != report.RiskHigh || !reflect.DeepEqual(risk, map[string]report.RiskLevel{"PC-A": "high", "PC-B": "low", "PC-C": "medium"}) {
			t.Fatalf("risk: %s %v", sum.RiskLevel, risk)
		}
		var codes []string
		for _, r := range sum.Recommendations {
			codes = append(codes, r.Code)
		}
		if !slices.Equal(codes, []string{"investigateDangerousAccess", "upgradeOs", "replaceUnsupportedSoftware", "controlExternalMedia",
			"reviewWebUsage", "applyWindowsUpdates", "updateSoftware", "checkAgent"}) {
			t.Fatalf("recommendations: %v", codes)
		}
		if sum.Counts.HarmfulAccess != 3 || sum.Counts.OffHours != 4 || sum.Counts.ExternalMedia != 1 || sum.Counts.OSPatches["unsupported"] != 1 {
			t.Fatalf("counts: %+v", sum.Counts)
		}

		// Refusals: unknown contract, a month that has not begun, a malformed month.
		wantProblem(t, f.env.Do("GET", "/api/v1/reports/N000000077/2025-07", f.staff, nil), 404, "contract-not-found")
		wantProblem(t, f.env.Do("GET", "/api/v1/reports/N000000001/2025-09", f.staff, nil), 404, "no-report")
		must(t, f.env.Do("GET", "/api/v1/reports/N000000001/2025-13", f.staff, nil), 422)
		// Catalog refusals: every error at once, nothing stored.
		r := must(t, f.env.Do("POST", "/api/v1/catalogs/patches", f.staff, map[string]any{"entries": []map[string]any{
			{"build": "x", "name": "", "latestRevision": -1}, {"build": "22631", "name": "a"}, {"build": "22631", "name": "b"}}}), 422)
		for _, field := range []string{"entries[0].build", "entries[0].name", "entries[0].latestRevision", "entries[2].build"} {
			if !bytes.Contains(r.Body, []byte(`"`+field+`"`)) {
				t.Fatalf("%s not reported: %s", field, r.Body)
			}
		}
		must(t, f.env.Do("POST", "/api/v1/catalogs/software", f.staff, map[string]any{}), 422)
	})
}

// A month is sealed at 00:00 JST on the 16th of the next month, with the catalogs in force at the
// month's end, published as an integration event, and served unchanged from then on: through
// retention of its raw telemetry and a rebuild of the read models.
func TestSealingRetentionAndRebuild(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine apptest.Engine) {
		dir := t.TempDir()
		opts := apptest.Options{DataDir: dir}
		if engine == apptest.Postgres {
			opts.PostgresURL = pgtestDatabase(t)
		}
		f := newReportFixture(t, engine, opts)
		env := f.env
		f.uploadWeek(t)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		msgs, err := env.App.ReportSealedEvents(ctx, "mailer")
		if err != nil {
			t.Fatal(err)
		}

		// A new software catalog in August does not judge July.
		env.Clock.Set(jstTime("2025-08-05 10:00"))
		must(t, env.Do("POST", "/api/v1/catalogs/software", f.staff, map[string]any{"entries": []map[string]any{
			{"name": "Google Chrome", "latestVersion": "125.0.1"}}}), 201)
		// A late July record arrives on August 2nd... (within 15 days).
		env.Clock.Set(jstTime("2025-08-02 10:00"))
		uploadOK(t, env, f.c.AgentToken, batch(env, web(jstTime("2025-07-31 23:00"), "https://late-news.org/", 42)))

		env.Clock.Set(jstTime("2025-08-15 23:59"))
		if n, err := env.App.SealDueReports(ctx); err != nil || n != 0 {
			t.Fatalf("sealed %d before the 16th (%v)", n, err)
		}
		env.Clock.Set(jstTime("2025-08-16 00:00"))
		if n, err := env.App.SealDueReports(ctx); err != nil || n != 1 {
			t.Fatalf("sealed %d on the 16th, want 1 (%v)", n, err)
		}
		if n, err := env.App.SealDueReports(ctx); err != nil || n != 0 {
			t.Fatalf("sealed %d again, want 0 (%v)", n, err)
		}
		sealedRaw := must(t, env.Do("GET", "/api/v1/reports/N000000001/2025-07", f.staff, nil), 200).Body
		var sealed report.Report
		if err := json.Unmarshal(sealedRaw, &sealed); err != nil {
			t.Fatal(err)
		}
		if sealed.Status != report.StatusSealed || sealed.SealedAt == nil || !sealed.SealedAt.Equal(jstTime("2025-08-16 00:00")) {
			t.Fatalf("sealed report: %s %v", sealed.Status, sealed.SealedAt)
		}
		var chrome report.SoftwareStatus
		for _, a := range sealed.Sections.Software {
			if a.Name == "Google Chrome" {
				chrome = a.Status
			}
		}
		if chrome != report.SoftwareOutdated {
			t.Fatalf("July judged with August's catalog: Chrome %s", chrome)
		}
		if !slices.ContainsFunc(sealed.Sections.WebTop30, func(s report.Site) bool { return s.Site == "late-news.org" }) {
			t.Fatalf("the late July record is missing from the sealed report: %+v", sealed.Sections.WebTop30)
		}
		select {
		case m := <-msgs:
			if m.Metadata.Get("name") != "ReportSealed" || m.Metadata.Get("customerNumber") != "N000000001" || m.Metadata.Get("month") != "2025-07" {
				t.Fatalf("integration event metadata: %v", m.Metadata)
			}
			var payload report.Report
			if err := json.Unmarshal(m.Payload, &payload); err != nil || payload.Status != report.StatusSealed || payload.Terminals != 3 {
				t.Fatalf("integration event payload: %v %s", err, m.Payload)
			}
			m.Ack()
		case <-ctx.Done():
			t.Fatal("no ReportSealed integration event")
		}

		// Retention: three months later the raw telemetry is gone, the report stays.
		env.Clock.Set(jstTime("2025-11-01 10:00"))
		if err := env.App.ExpireTelemetry(ctx); err != nil {
			t.Fatal(err)
		}
		stream := telemetry.TelemetryStream("N000000001", uuid.MustParse(f.a.TerminalID), jstTime("2025-07-22 10:00"))
		if recs, err := env.App.Events.ReadStream(ctx, stream, 1, 0); err != nil || len(recs) != 0 {
			t.Fatalf("raw telemetry of July after retention: %d events (%v)", len(recs), err)
		}
		// A rebuild of every read model gives the same sealed report, byte for byte on the
		// embedded store (PostgreSQL's jsonb orders keys its own way).
		env.Stop()
		rebuild(t, env.Config)
		env = startTelemetry(t, engine, apptest.Options{DataDir: dir, PostgresURL: env.Config.PostgresURL, Now: jstTime("2025-11-01 10:00")})
		after := must(t, env.Do("GET", "/api/v1/reports/N000000001/2025-07", f.staff, nil), 200).Body
		var rebuilt report.Report
		if err := json.Unmarshal(after, &rebuilt); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(rebuilt, sealed) || (engine == apptest.Embedded && !bytes.Equal(bytes.TrimSpace(after), bytes.TrimSpace(sealedRaw))) {
			t.Fatalf("the sealed report changed after retention and rebuild:\n%s\n%s", sealedRaw, after)
		}
	})
}

// rebuild runs `yorozu rebuild` on a stopped service's stores.
func rebuild(t *testing.T, cfg app.Config) {
	t.Helper()
	cfg.NoProjections = true
	a, err := app.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, err := a.Runner.Rebuild(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// Terminating a contract seals its open reports and destroys its data key at once: its raw
// telemetry, still in the log, can no longer be decrypted by anyone, while its reports stay.
func TestTerminationShredsTelemetry(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine apptest.Engine) {
		f := newReportFixture(t, engine, apptest.Options{})
		env := f.env
		f.uploadWeek(t)
		ctx := context.Background()
		stream := telemetry.TelemetryStream("N000000001", uuid.MustParse(f.a.TerminalID), env.Clock.Now())
		recs, err := env.App.Events.ReadStream(ctx, stream, 1, 0)
		if err != nil || len(recs) != 1 {
			t.Fatalf("raw batch: %d (%v)", len(recs), err)
		}
		e, err := testCodec.Decode(recs[0])
		if err != nil {
			t.Fatal(err)
		}
		b := e.(*telemetry.BatchReceived)
		if bytes.Contains(recs[0].Data, []byte("evil.example")) || bytes.Contains(recs[0].Data, []byte("Java 8")) {
			t.Fatal("the stored event holds plain telemetry")
		}
		key, err := env.App.KeyRing().Key(ctx, "N000000001")
		if err != nil {
			t.Fatal(err)
		}
		ad := telemetry.PayloadAD("N000000001", b.TerminalID, b.BatchID)
		if p, err := telemetry.OpenPayload(key, ad, b.PayloadSealed); err != nil || p.Inventory == nil || len(p.Records) != 13 {
			t.Fatalf("before termination the payload opens: %v", err)
		}
		before := getReport(t, env, f.staff, "N000000001", "2025-07")
		issued := enrollmentToken(t, env, f.staff, "N000000001")

		env.Clock.Set(jstTime("2025-07-25 10:00"))
		appendEvents(t, env, contract.Stream("N000000001"), &contract.ContractTerminated{CustomerNumber: "N000000001",
			TerminatedOn: calendar.MustDate(2025, 7, 25)})

		// At once: the key is gone from this process and from the key ring's store.
		if _, err := env.App.KeyRing().Key(ctx, "N000000001"); !errors.Is(err, telemetry.ErrKeyDestroyed) {
			t.Fatalf("key after termination: %v", err)
		}
		var backend keyring.Backend
		if engine == apptest.Postgres {
			backend = keyring.NewPostgres(pgPool(t, env.Config.PostgresURL))
		} else {
			if backend, err = keyring.OpenFile(env.Config.DataDir); err != nil {
				t.Fatal(err)
			}
		}
		wrapped, destroyed, err := backend.Load(ctx, "N000000001")
		if err != nil || wrapped != nil || !destroyed {
			t.Fatalf("key ring store after termination: %x destroyed=%v %v", wrapped, destroyed, err)
		}
		fresh, err := keyring.New(backend, masterKeyOf(t, env.Config.DataDir), nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fresh.Key(ctx, "N000000001"); !errors.Is(err, telemetry.ErrKeyDestroyed) {
			t.Fatalf("a fresh key ring with the master key: %v", err)
		}
		recs, err = env.App.Events.ReadStream(ctx, stream, 1, 0)
		if err != nil || len(recs) != 1 {
			t.Fatalf("the raw batch is still in the log (until retention): %d %v", len(recs), err)
		}
		// Not even with the old key ring's cache: the payload is only as readable as the key.
		if _, err := telemetry.OpenPayload(newRandomKey(t), ad, b.PayloadSealed); !errors.Is(err, telemetry.ErrUnreadablePayload) {
			t.Fatalf("a payload opened with another key: %v", err)
		}

		// Its reports were sealed first, and its agents are refused.
		after := getReport(t, env, f.staff, "N000000001", "2025-07")
		if after.Status != report.StatusSealed || !reflect.DeepEqual(after.Sections, before.Sections) {
			t.Fatalf("report after termination: %s\n%+v\n%+v", after.Status, after.Sections.Summary, before.Sections.Summary)
		}
		wantProblem(t, upload(t, env, f.a.AgentToken, batch(env)), 403, "contractTerminated")
		wantProblem(t, env.Do("POST", "/agent/v1/enroll", "", enrollBody(issued, "PC-Z", "HW-Z")), 422, "contractNotActive")
		wantProblem(t, env.Do("POST", "/api/v1/contracts/N000000001/enrollment-tokens", f.staff, nil), 422, "contractNotActive")

		// The audit trail files the batches under the customer, without their payload.
		var trail struct {
			Items []struct {
				Type string          `json:"type"`
				Data json.RawMessage `json:"data"`
			}
		}
		auditor := env.StaffToken("ueda", "auditor")
		must(t, env.Do("GET", "/api/v1/audit/events?customerNumber=N000000001&type=BatchReceived", auditor, nil), 200).JSON(t, &trail)
		if len(trail.Items) != 3 || string(trail.Items[0].Data) != "null" {
			t.Fatalf("audit trail of the batches: %+v", trail.Items)
		}
	})
}

func pgPool(t *testing.T, url string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func masterKeyOf(t *testing.T, dir string) []byte {
	t.Helper()
	k, err := os.ReadFile(filepath.Join(dir, "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newRandomKey(t *testing.T) cipher.AEAD {
	t.Helper()
	k := make([]byte, 32)
	_, _ = crand.Read(k)
	block, err := aes.NewCipher(k)
	if err != nil {
		t.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	return aead
}
