package main

// Backups and restores through the yorozu binary (docs/backup.md): the read models of a restored
// store equal the original's, on the embedded store and on PostgreSQL; a backup taken through a
// running server while orders keep arriving is one consistent state of the log; damaged files,
// non-empty targets and broken chains are refused with nothing written; two generations are kept;
// staff log in on the restored store with the same master key and TOTP secret.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pquerna/otp/totp"
	bbolt "go.etcd.io/bbolt"

	"yorozu/adapters/backup"
	"yorozu/adapters/eventstore/bolt"
	"yorozu/adapters/postgres/pgtest"
	"yorozu/cmd/yorozu/app"
	"yorozu/cmd/yorozu/app/apptest"
	"yorozu/domain/event"
)

func TestBackupAndRestore(t *testing.T) {
	bin := buildYorozu(t)
	t.Run("read models equal after restore on both engines", func(t *testing.T) {
		t.Parallel()
		testRestoredReadModels(t, newCLI(t, bin))
	})
	t.Run("backup through a running server while orders arrive", func(t *testing.T) {
		t.Parallel()
		testBackupWhileServing(t, newCLI(t, bin))
	})
	t.Run("damaged files and non-empty stores are refused", func(t *testing.T) {
		t.Parallel()
		testRestoreRefusals(t, newCLI(t, bin))
	})
	t.Run("a broken chain fails the backup", func(t *testing.T) {
		t.Parallel()
		testBrokenChainBackup(t, newCLI(t, bin))
	})
}

// backupOut runs `yorozu backup` and checks its output: exactly {file, events, sha256}, a
// file that is there, with that checksum.
func (c *cli) backup(args ...string) app.BackupSummary {
	c.t.Helper()
	r := c.mustRun("", append([]string{"backup"}, args...)...)
	var raw map[string]any
	decodeOne(c.t, r.stdout, &raw)
	var sum app.BackupSummary
	decodeOne(c.t, r.stdout, &sum)
	if len(raw) != 3 || sum.File == "" || sum.SHA256 == "" || sum.Events <= 0 {
		c.t.Fatalf("backup %q printed %s; want {file, events, sha256}", args, r.stdout)
	}
	v, err := backup.Verify(context.Background(), sum.File)
	if err != nil || v.SHA256 != sum.SHA256 || v.Events != sum.Events {
		c.t.Fatalf("backup %q wrote %s: verify %+v, %v", args, sum.File, v, err)
	}
	return sum
}

// restore runs `yorozu restore` and checks its output.
func (c *cli) restore(file string, store ...string) app.RestoreSummary {
	c.t.Helper()
	r := c.mustRun("", append([]string{"restore", file}, store...)...)
	var sum app.RestoreSummary
	decodeOne(c.t, r.stdout, &sum)
	if sum.Events <= 0 || sum.SHA256 == "" {
		c.t.Fatalf("restore printed %s", r.stdout)
	}
	return sum
}

// fileEvents reads every event of a backup file.
func fileEvents(t *testing.T, path string) (backup.Header, []event.Record) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := backup.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var out []event.Record
	for rec, err := range r.Events() {
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, rec)
	}
	return r.Header(), out
}

// storeEvents reads the whole log of an embedded store that no process holds.
func storeEvents(t *testing.T, dataDir string) ([]event.Record, event.Position) {
	t.Helper()
	s, err := bolt.OpenDir(dataDir, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	recs, err := s.ReadAll(context.Background(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	h, err := s.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return recs, h
}

func masterKeyEnv(t *testing.T, dataDir string) string {
	t.Helper()
	k, err := os.ReadFile(filepath.Join(dataDir, "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	return "YOROZU_MASTER_KEY=" + base64.StdEncoding.EncodeToString(k)
}

// ---- read models ----

var jst = time.FixedZone("JST", 9*3600)

func jstAt(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, jst)
	if err != nil {
		panic(err)
	}
	return t
}

func formFile(t *testing.T, name string, set map[string]any) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "domain", "order", "testdata", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var f map[string]any
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	for k, v := range set {
		if v == nil {
			delete(f, k)
		} else {
			f[k] = v
		}
	}
	return f
}

func expectStatus(t *testing.T, r *apptest.Response, status int) *apptest.Response {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	return r
}

// billingState is a store with what the service does today: staff and API keys, price lists,
// contracts opened and changed through orders, orders in every state, two closed months with
// final invoices, and the audit records of staff reads.
type billingState struct {
	op        apptest.Staff
	opToken   string
	feedKey   string
	auditKey  string
	customers []string
	orders    []string
}

func buildBillingState(t *testing.T, env *apptest.Env) billingState {
	var s billingState
	s.op = env.AddStaff("yamada", "operator")
	s.opToken = env.Login(s.op)
	s.feedKey = env.APIKey("billing-system", "billing")
	s.auditKey = env.APIKey("auditor-bot", "auditor")
	tok := s.opToken
	for _, pl := range []struct {
		from string
		base int
	}{{"2025-04", 2980}, {"2025-10", 3280}} {
		expectStatus(t, env.Do("POST", "/api/v1/billing/price-lists", tok, map[string]any{
			"effectiveFrom": pl.from, "baseMenu": pl.base, "healthCheckIdAddition": 198, "webFiltering": 165,
			"securityTicket": 11000, "taxRate": "0.10",
		}), 201)
	}
	submit := func(f map[string]any) string {
		var created struct{ OrderID string }
		expectStatus(t, env.Do("POST", "/api/v1/orders", tok, f), 201).JSON(t, &created)
		s.orders = append(s.orders, created.OrderID)
		return created.OrderID
	}
	env.Clock.Set(jstAt("2025-07-01 10:00"))
	var opened []string
	for i := range 3 {
		id := submit(formFile(t, "new", map[string]any{"appliedOn": "2025/7/1", "desiredDate": "2025/7/1",
			"commonCustomerId": fmt.Sprintf("C%010d", 100+i)}))
		expectStatus(t, env.Do("POST", "/api/v1/orders/"+id+"/accept", tok, map[string]string{"acceptedAt": "2025-07-01T10:00:00+09:00"}), 200)
		opened = append(opened, id)
	}
	// Received only, and withdrawn.
	submit(formFile(t, "new", map[string]any{"appliedOn": "2025/7/1", "desiredDate": "2025/7/1", "commonCustomerId": "C0000000200"}))
	gone := submit(formFile(t, "new", map[string]any{"appliedOn": "2025/7/1", "desiredDate": "2025/7/1", "commonCustomerId": "C0000000201"}))
	expectStatus(t, env.Do("POST", "/api/v1/orders/"+gone+"/withdraw", tok, nil), 200)

	env.Clock.Set(jstAt("2025-07-14 00:10"))
	if _, err := env.App.RunDue(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, id := range opened {
		var o struct{ Status, CustomerNumber string }
		expectStatus(t, env.Do("GET", "/api/v1/orders/"+id, tok, nil), 200).JSON(t, &o)
		if o.Status != "completed" {
			t.Fatalf("order %s: %+v, want completed", id, o)
		}
		s.customers = append(s.customers, o.CustomerNumber)
	}

	// A change of the first contract from 2025-08-14: 30 additional IDs and 3 tickets.
	env.Clock.Set(jstAt("2025-08-01 10:00"))
	change := formFile(t, "change", map[string]any{
		"customerNumber": s.customers[0], "commonCustomerId": "C0000000100", "securityContact": nil, "securityReportPassword": nil,
		"appliedOn": "2025/8/1", "desiredDate": "2025/8/1", "webFiltering": nil,
		"changes":             map[string]any{"healthCheckIds": true, "webFiltering": false, "securityTickets": true, "securityContact": false},
		"healthCheckIdChange": "add", "idsAfterChange": 30, "securityTicketCount": 3,
	})
	cid := submit(change)
	expectStatus(t, env.Do("POST", "/api/v1/orders/"+cid+"/accept", tok, map[string]string{"acceptedAt": "2025-08-01T10:00:00+09:00"}), 200)
	env.Clock.Set(jstAt("2025-08-14 09:00"))
	expectStatus(t, env.Do("POST", "/api/v1/orders/"+cid+"/complete", tok, nil), 200)

	// July and August closed: final invoices and the feed.
	env.Clock.Set(jstAt("2025-08-05 10:00"))
	expectStatus(t, env.Do("POST", "/api/v1/billing/months/2025-07/close", tok, nil), 200)
	env.Clock.Set(jstAt("2025-09-02 10:00"))
	expectStatus(t, env.Do("POST", "/api/v1/billing/months/2025-08/close", tok, nil), 200)
	return s
}

// reads is what every read model answers, as (name, token, path) triples.
func (s billingState) reads() [][3]string {
	var r [][3]string
	add := func(tok, path string) { r = append(r, [3]string{path, tok, path}) }
	add(s.opToken, "/api/v1/contracts")
	add(s.opToken, "/api/v1/contracts?status=active")
	for _, cn := range s.customers {
		add(s.opToken, "/api/v1/contracts/"+cn)
		add(s.opToken, "/api/v1/contracts/"+cn+"/history")
		add(s.opToken, "/api/v1/contracts/"+cn+"/as-of?effectiveAt=2025-08-20T00:00:00Z&knownAt=2025-08-10T00:00:00Z")
		add(s.feedKey, "/api/v1/billing/invoices/"+cn+"/2025-08")
	}
	add(s.opToken, "/api/v1/orders")
	add(s.opToken, "/api/v1/orders?status=received")
	add(s.opToken, "/api/v1/orders?status=withdrawn")
	for _, id := range s.orders {
		add(s.opToken, "/api/v1/orders/"+id)
	}
	add(s.opToken, "/api/v1/billing/price-lists")
	for _, m := range []string{"2025-07", "2025-08", "2025-09", "2025-10"} {
		add(s.feedKey, "/api/v1/billing/invoices?month="+m)
		add(s.feedKey, "/api/v1/billing/invoices.csv?month="+m+"&encoding=utf8")
	}
	add(s.feedKey, "/api/v1/billing/feed")
	add(s.feedKey, "/api/v1/billing/feed?limit=1")
	add(s.auditKey, "/api/v1/audit/events?limit=1000")
	add(s.auditKey, "/api/v1/audit/events?limit=1000&customerNumber="+s.customers[0])
	add(s.auditKey, "/api/v1/audit/events?limit=1000&actor=yamada")
	add(s.auditKey, "/api/v1/audit/verify")
	return r
}

// comparable is a response body made fit to compare across stores that started from the same
// log: entries recorded after the restore point (position > head: staff reads recorded by the
// comparison itself, with event and command IDs of their own) keep everything but their IDs
// and hashes. Without cursors, the "next" cursors of pages are left out: they are the
// read-model store's own (docs/backup.md).
func comparable(t *testing.T, body []byte, head event.Position, cursors bool) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return string(body) // CSV
	}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if p, ok := x["position"].(float64); ok && event.Position(p) > head {
				for _, k := range []string{"eventId", "commandId", "correlationId", "causationId", "hash", "prevHash"} {
					delete(x, k)
				}
			}
			if !cursors {
				delete(x, "next")
			}
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	out, _ := json.MarshalIndent(v, "", " ")
	return string(out)
}

func testRestoredReadModels(t *testing.T, c *cli) {
	dirA, dirB, dirP := filepath.Join(c.dir, "a"), filepath.Join(c.dir, "b"), filepath.Join(c.dir, "p")
	configure := func(cfg *app.Config) { cfg.Issuer, cfg.RegistrationNumber = "株式会社YOROZU", "T1234567890123" }
	env := apptest.Start(t, apptest.Embedded, apptest.Options{DataDir: dirA, Now: jstAt("2025-07-01 09:00"), Configure: configure})
	state := buildBillingState(t, env)
	env.Stop()

	sum := c.backup("--data", dirA)
	if want := filepath.Join(dirA, "backups"); filepath.Dir(sum.File) != want {
		t.Errorf("backup went to %s, want the default %s", filepath.Dir(sum.File), want)
	}
	hdr, fileRecs := fileEvents(t, sum.File)
	srcRecs, srcHead := storeEvents(t, dirA)
	if !reflect.DeepEqual(fileRecs, srcRecs) || hdr.Head != srcHead || hdr.Engine != backup.EngineEmbedded {
		t.Fatalf("the backup of a store at rest differs from it: %d vs %d events, head %d vs %d", len(fileRecs), len(srcRecs), hdr.Head, srcHead)
	}
	// The key stays out: no event carries it, in any form.
	key, _ := os.ReadFile(filepath.Join(dirA, "master.key"))
	raw, _ := os.ReadFile(sum.File)
	for _, form := range []string{string(key), base64.StdEncoding.EncodeToString(key), fmt.Sprintf("%x", key)} {
		if bytes.Contains(raw, []byte(form)) {
			t.Fatal("the backup holds the master key")
		}
	}

	dsn := pgtest.NewDatabase(t)
	rb := c.restore(sum.File, "--data", dirB)
	rp := c.restore(sum.File, "--postgres", dsn)
	for _, r := range []app.RestoreSummary{rb, rp} {
		if r.Events != sum.Events || r.SHA256 != sum.SHA256 || r.Head != srcHead {
			t.Fatalf("restore printed %+v for a backup of %d events at %d", r, sum.Events, srcHead)
		}
	}
	if got, h := storeEvents(t, dirB); !reflect.DeepEqual(got, srcRecs) || h != srcHead {
		t.Fatalf("the restored embedded log differs from the original (%d vs %d events, head %d)", len(got), len(srcRecs), h)
	}
	if _, err := os.Stat(filepath.Join(dirB, "master.key")); err == nil {
		t.Fatal("restore made a master key")
	}
	c.verify("--data", dirB)
	c.verify("--postgres", dsn)

	// The same master key (the deployment's) on the restored stores.
	for _, d := range []string{dirB, dirP} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "master.key"), key, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	now := jstAt("2025-09-02 12:00")
	envs := map[string]*apptest.Env{
		"original": apptest.Start(t, apptest.Embedded, apptest.Options{DataDir: dirA, Now: now, Configure: configure}),
		"embedded": apptest.Start(t, apptest.Embedded, apptest.Options{DataDir: dirB, Now: now, Configure: configure}),
		"postgres": apptest.Start(t, apptest.Postgres, apptest.Options{DataDir: dirP, PostgresURL: dsn, Now: now, Configure: configure}),
	}
	names := []string{"original", "embedded", "postgres"}
	// Same requests in the same order on the three: the reads that are recorded land at the
	// same positions everywhere.
	compare := func(what, tok, path string, status int) {
		var body []byte
		for _, n := range names {
			r := envs[n].Do("GET", path, tok, nil)
			if r.Status != status {
				t.Fatalf("%s: GET %s: %d %s", n, path, r.Status, r.Body)
			}
			if n == "original" {
				body = r.Body
				continue
			}
			cursors := n != "postgres"
			if want, got := comparable(t, body, srcHead, cursors), comparable(t, r.Body, srcHead, cursors); got != want {
				t.Errorf("%s differs on the %s store after the restore:\n--- original\n%s\n--- %s\n%s", what, n, want, n, got)
			}
		}
	}
	for _, rd := range state.reads() {
		compare(rd[0], rd[1], rd[2], http.StatusOK)
	}
	// Paged listings give the same items, page by page, each store following its own cursors.
	for _, listing := range [][2]string{
		{state.feedKey, "/api/v1/billing/feed?limit=1"},
		{state.auditKey, "/api/v1/audit/events?limit=7"},
		{state.opToken, "/api/v1/orders?limit=2"},
		{state.opToken, "/api/v1/contracts?limit=1"},
	} {
		var want string
		for _, n := range names {
			got := comparable(t, []byte(allPages(t, envs[n], listing[0], listing[1])), srcHead, false)
			if n == "original" {
				want = got
			} else if got != want {
				t.Errorf("the pages of %s differ on the %s store:\n%s\n---\n%s", listing[1], n, want, got)
			}
		}
	}
	// Staff log in with their TOTP secret, with the same master key.
	for _, n := range names {
		envs[n].Clock.Set(now.Add(time.Hour))
		if tok := envs[n].Login(state.op); tok == "" {
			t.Fatalf("%s: no session", n)
		}
	}
	// The restored stores go on: a new order is taken and listed as on the original.
	for _, n := range names {
		var created struct{ OrderID string }
		expectStatus(t, envs[n].Do("POST", "/api/v1/orders", state.opToken,
			formFile(t, "new", map[string]any{"appliedOn": "2025/9/2", "desiredDate": "2025/9/2", "commonCustomerId": "C0000000300"})), 201).JSON(t, &created)
		var received struct{ Items []struct{ OrderID string } }
		expectStatus(t, envs[n].Do("GET", "/api/v1/orders?status=received", state.opToken, nil), 200).JSON(t, &received)
		if len(received.Items) != 2 || !slices.ContainsFunc(received.Items, func(o struct{ OrderID string }) bool { return o.OrderID == created.OrderID }) {
			t.Errorf("%s: received orders after a new one: %+v", n, received.Items)
		}
	}
}

// allPages follows the next cursors of a listing to its end (a page without items) and returns
// every item, as a JSON array.
func allPages(t *testing.T, env *apptest.Env, tok, path string) string {
	t.Helper()
	var items []json.RawMessage
	next := ""
	for range 1000 {
		p := path
		if next != "" {
			p += "&after=" + url.QueryEscape(next)
		}
		var page struct {
			Items []json.RawMessage
			Next  *string
		}
		expectStatus(t, env.Do("GET", p, tok, nil), http.StatusOK).JSON(t, &page)
		items = append(items, page.Items...)
		if len(page.Items) == 0 || page.Next == nil {
			out, _ := json.Marshal(items)
			return string(out)
		}
		next = *page.Next
	}
	t.Fatalf("%s: more than 1000 pages", path)
	return ""
}

// ---- backup while serving ----

func testBackupWhileServing(t *testing.T, c *cli) {
	data := filepath.Join(c.dir, "data")
	op := c.staffAdd(data, "op", "operator", "a long enough password")
	srv := c.serve("--data", data)
	tok := srv.login(op)
	backups := filepath.Join(data, "backups")
	if err := os.MkdirAll(backups, 0o700); err != nil {
		t.Fatal(err)
	}
	notes := filepath.Join(backups, "README.txt")
	if err := os.WriteFile(notes, []byte("not a backup"), 0o600); err != nil {
		t.Fatal(err)
	}

	// Four clients keep submitting orders during the backups.
	var (
		mu    sync.Mutex
		acked []string
		wg    sync.WaitGroup
	)
	stop := make(chan struct{})
	client := &http.Client{Timeout: 30 * time.Second}
	orderForm(t, 0)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				status, body, err := do(client, "POST", srv.url+"/api/v1/orders", tok, orderForm(t, 1000*(w+1)+i))
				if err != nil {
					t.Errorf("POST /api/v1/orders: %v", err)
					return
				}
				if status != http.StatusCreated && status != http.StatusAccepted {
					t.Errorf("POST /api/v1/orders: %d %s", status, body)
					return
				}
				var o struct{ OrderID string }
				_ = json.Unmarshal(body, &o)
				mu.Lock()
				acked = append(acked, o.OrderID)
				mu.Unlock()
			}
		}()
	}
	waitFor := func(n int) {
		deadline := time.Now().Add(60 * time.Second)
		for {
			mu.Lock()
			got := len(acked)
			mu.Unlock()
			if got >= n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("only %d orders acknowledged within 60 s", got)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	var sums []app.BackupSummary
	for i := range 3 {
		waitFor(20 * (i + 1))
		sums = append(sums, c.backup("--data", data)) // forwarded: serve holds the store
	}
	waitFor(80)
	close(stop)
	wg.Wait()
	if t.Failed() {
		return
	}
	mu.Lock()
	ids := slices.Clone(acked)
	mu.Unlock()

	// Two generations, and nothing else removed.
	entries, err := os.ReadDir(backups)
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	want := []string{filepath.Base(notes), filepath.Base(sums[1].File), filepath.Base(sums[2].File)}
	slices.Sort(want)
	if !slices.Equal(left, want) {
		t.Fatalf("backup directory after 3 backups: %v, want %v", left, want)
	}

	// What the server answers for each order, before it stops.
	answers := map[string][]byte{}
	for _, id := range ids {
		answers[id] = srv.expect("GET", "/api/v1/orders/"+id, tok, nil, http.StatusOK)
	}
	srv.stop()

	// The last backup is the log as it was at its head: every event up to it, in order, and
	// nothing after; every chain holds.
	last := sums[2]
	hdr, fileRecs := fileEvents(t, last.File)
	all, _ := storeEvents(t, data)
	var upTo []event.Record
	for _, r := range all {
		if r.Position <= hdr.Head {
			upTo = append(upTo, r)
		}
	}
	if len(upTo) == len(all) {
		t.Fatal("no order arrived after the last backup: the test shows nothing about consistency")
	}
	if !reflect.DeepEqual(fileRecs, upTo) || len(fileRecs) != last.Events {
		t.Fatalf("backup at head %d holds %d events; the log holds %d up to that head", hdr.Head, len(fileRecs), len(upTo))
	}

	// Restored into a new directory, with the master key given as YOROZU_MASTER_KEY.
	restored := filepath.Join(c.dir, "restored")
	rs := c.restore(last.File, "--data", restored)
	if rs.Head != hdr.Head || rs.Events != last.Events {
		t.Fatalf("restore printed %+v", rs)
	}
	if got, h := storeEvents(t, restored); !reflect.DeepEqual(got, fileRecs) || h != hdr.Head {
		t.Fatalf("restored log differs from the backup (%d vs %d events, head %d vs %d)", len(got), len(fileRecs), h, hdr.Head)
	}
	srv = c.serveWithEnv([]string{masterKeyEnv(t, data)}, "--data", restored)
	if _, err := os.Stat(filepath.Join(restored, "master.key")); err == nil {
		t.Error("serve on the restored directory made a master key although YOROZU_MASTER_KEY is set")
	}
	// The TOTP secret printed by `staff add` before the backup. The code of this time step was
	// used by the first login, which the restored log remembers: take the next step's code,
	// within the allowed clock skew.
	tok2 := loginAt(srv, op, time.Now().Add(30*time.Second))
	in := map[string]bool{}
	for _, r := range fileRecs {
		in[r.Stream] = true
	}
	restoredOrders := 0
	for _, id := range ids {
		if !in["order-"+id] {
			srv.expect("GET", "/api/v1/orders/"+id, tok2, nil, http.StatusNotFound)
			continue
		}
		restoredOrders++
		if got := srv.expect("GET", "/api/v1/orders/"+id, tok2, nil, http.StatusOK); !bytes.Equal(got, answers[id]) {
			t.Fatalf("order %s after the restore:\n%s\nbefore:\n%s", id, got, answers[id])
		}
	}
	if restoredOrders == 0 || restoredOrders == len(ids) {
		t.Fatalf("%d of %d orders restored: the backup was not taken in the middle of the writes", restoredOrders, len(ids))
	}
	srv.stop()

	// The same backup into a new PostgreSQL database, served there: the same orders, the same
	// answers, the same login.
	dsn := pgtest.NewDatabase(t)
	if rp := c.restore(last.File, "--postgres", dsn); rp.Head != hdr.Head || rp.Events != last.Events {
		t.Fatalf("restore into PostgreSQL printed %+v", rp)
	}
	srv = c.serveWithEnv([]string{masterKeyEnv(t, data)}, "--postgres", dsn)
	tok3 := loginAt(srv, op, time.Now().Add(30*time.Second))
	for _, id := range ids {
		if !in["order-"+id] {
			srv.expect("GET", "/api/v1/orders/"+id, tok3, nil, http.StatusNotFound)
			continue
		}
		if got := srv.expect("GET", "/api/v1/orders/"+id, tok3, nil, http.StatusOK); !bytes.Equal(got, answers[id]) {
			t.Fatalf("order %s after the restore into PostgreSQL:\n%s\nbefore:\n%s", id, got, answers[id])
		}
	}
	srv.stop()
}

func loginAt(s *server, st staff, at time.Time) string {
	s.t.Helper()
	code, err := totp.GenerateCode(st.secret, at)
	if err != nil {
		s.t.Fatal(err)
	}
	var out struct{ Token string }
	s.expectJSON("POST", "/api/v1/auth/login", "", map[string]string{"staffId": st.id, "password": st.password, "otp": code}, http.StatusOK, &out)
	if out.Token == "" {
		s.t.Fatalf("login %s: no token", st.id)
	}
	return out.Token
}

// ---- refusals ----

func testRestoreRefusals(t *testing.T, c *cli) {
	data := filepath.Join(c.dir, "data")
	c.staffAdd(data, "op", "operator", "a long enough password")
	c.apikeyCreate(data, "feed", "billing")
	c.apikeyCreate(data, "bot", "auditor")
	sum := c.backup("--data", data, "--out", filepath.Join(c.dir, "out"))
	good, err := os.ReadFile(sum.File)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(good, []byte("\n"))
	flipped := slices.Clone(good)
	i := bytes.Index(flipped, []byte(`"data":{`)) + len(`"data":{"`)
	flipped[i] ^= 0x01 // inside the first event's payload
	damaged := map[string][]byte{
		"flipped": flipped,
		"cut":     good[:len(good)-len(lines[len(lines)-2])-15],
		"no-end":  bytes.Join(lines[:len(lines)-2], nil),
		"other":   []byte("{\"format\":\"something-else\",\"version\":1}\n"),
	}
	for name, content := range damaged {
		path := filepath.Join(c.dir, name+".jsonl")
		if err := os.WriteFile(path, content, 0o600); err != nil {
			t.Fatal(err)
		}
		target := filepath.Join(c.dir, "target-"+name)
		r := c.run("", "restore", path, "--data", target)
		if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, "not an intact backup") || !strings.Contains(r.stderr, "nothing was written") {
			t.Errorf("restore of the %s file: exit %d, stdout %q, stderr %q", name, r.code, r.stdout, r.stderr)
		}
		if _, err := os.Stat(target); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("restore of the %s file left %s behind (%v)", name, target, err)
		}
		dsn := pgtest.NewDatabase(t)
		r = c.run("", "restore", path, "--postgres", dsn)
		if r.code != 1 || !strings.Contains(r.stderr, "not an intact backup") {
			t.Errorf("restore of the %s file into PostgreSQL: exit %d, stderr %q", name, r.code, r.stderr)
		}
		if n := countEvents(t, dsn); n != 0 {
			t.Errorf("restore of the %s file left %d events in PostgreSQL", name, n)
		}
	}

	// A store that holds events is refused, untouched.
	before, beforeHead := storeEvents(t, data)
	r := c.run("", "restore", sum.File, "--data", data)
	if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, "already holds events") {
		t.Errorf("restore into the store it came from: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if after, h := storeEvents(t, data); !reflect.DeepEqual(after, before) || h != beforeHead {
		t.Error("a refused restore changed the store")
	}
	dsn := pgtest.NewDatabase(t)
	c.restore(sum.File, "--postgres", dsn)
	r = c.run("", "restore", sum.File, "--postgres", dsn)
	if r.code != 1 || !strings.Contains(r.stderr, "already holds events") {
		t.Errorf("second restore into one database: exit %d, stderr %q", r.code, r.stderr)
	}
	if n := countEvents(t, dsn); n != sum.Events {
		t.Errorf("the database holds %d events after a refused restore, want %d", n, sum.Events)
	}
	// A restore into a directory a server holds is refused too.
	srv := c.serve("--data", data)
	r = c.run("", "restore", sum.File, "--data", data)
	if r.code != 1 || !strings.Contains(r.stderr, "in use by a running server") {
		t.Errorf("restore into a served directory: exit %d, stderr %q", r.code, r.stderr)
	}
	srv.stop()
	// Usage errors.
	for _, args := range [][]string{{"restore"}, {"restore", "a", "b"}, {"backup", "extra"}} {
		if r := c.run("", args...); r.code != 2 {
			t.Errorf("yorozu %q: exit %d, want 2 (%s)", args, r.code, r.stderr)
		}
	}
}

func countEvents(t *testing.T, dsn string) int {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var exists bool
	if err := conn.QueryRow(context.Background(), "SELECT to_regclass('events') IS NOT NULL").Scan(&exists); err != nil || !exists {
		return 0
	}
	var n int
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM events").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// ---- broken chains ----

func testBrokenChainBackup(t *testing.T, c *cli) {
	data := filepath.Join(c.dir, "data")
	c.staffAdd(data, "op", "operator", "a long enough password")
	c.apikeyCreate(data, "feed", "billing")
	good := c.backup("--data", data, "--out", filepath.Join(c.dir, "good"))

	// Embedded: one byte of the first event's payload changed in the file itself.
	db, err := bbolt.Open(filepath.Join(data, bolt.FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		log := tx.Bucket([]byte("log"))
		k, v := log.Cursor().First()
		changed := slices.Clone(v)
		changed[len(changed)-2] ^= 0x01 // inside the JSON payload, the record's last field
		return log.Put(slices.Clone(k), changed)
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(c.dir, "out")
	r := c.run("", "backup", "--data", data, "--out", out)
	if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, "breaks a hash chain") || !strings.Contains(r.stderr, "staff-op") {
		t.Errorf("backup of an altered embedded log: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Errorf("a failed backup left %d files in %s", len(entries), out)
	}

	// PostgreSQL: an event altered in the table.
	dsn := pgtest.NewDatabase(t)
	c.restore(good.File, "--postgres", dsn)
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	_, err = conn.Exec(context.Background(), `UPDATE events SET actor = 'someone-else' WHERE position = (SELECT max(position) FROM events)`)
	conn.Close(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	r = c.run("", "backup", "--postgres", dsn, "--out", out)
	if r.code != 1 || !strings.Contains(r.stderr, "breaks a hash chain") {
		t.Errorf("backup of an altered PostgreSQL log: exit %d, stderr %q", r.code, r.stderr)
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Errorf("a failed backup left %d files in %s", len(entries), out)
	}
}
