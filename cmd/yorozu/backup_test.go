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
	"net"
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

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pquerna/otp/totp"
	bbolt "go.etcd.io/bbolt"

	"yorozu/adapters/backup"
	"yorozu/adapters/eventstore/bolt"
	"yorozu/adapters/keyring"
	"yorozu/adapters/postgres/pgtest"
	"yorozu/cmd/yorozu/app"
	"yorozu/cmd/yorozu/app/apptest"
	"yorozu/domain/event"
	"yorozu/domain/schema"
	"yorozu/domain/telemetry"
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
	t.Run("everything and crypto-shredding", func(t *testing.T) {
		t.Parallel()
		testRestoreEverything(t, newCLI(t, bin))
	})
	t.Run("keyring commands", func(t *testing.T) {
		t.Parallel()
		testKeyRingCommands(t, newCLI(t, bin))
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
			delete(x, "requestId") // a problem's: the request's own ID
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

// ---- everything the service keeps, telemetry and its key ring ----

// Distinctive strings of two contracts' telemetry: S's contract is terminated (its data key
// destroyed), K's stays. Neither appears in any report (a report names a web site by its
// registrable domain, example.com and example.net here, and lists full URLs only for the
// hosts of the URL dictionary), so neither may appear in plain text anywhere in a backup.
const (
	canaryS = "canary-shredded-5d2c9e"
	canaryK = "canary-live-8b41f0"
)

// testRestoreEverything: a store with orders, invoices, consultations, insurance claims and
// telemetry (a sealed and a running monthly report) is backed up through its running server while
// writers keep appending orders, consultations and telemetry batches; restored into a new
// embedded directory and a new PostgreSQL database with the same master key and the key ring
// moved by `yorozu keyring export` and `import`, every read model answers as the original did at
// the backup's head. The terminated contract's telemetry stays unreadable on every restored
// store, also from a backup taken before its termination.
func testRestoreEverything(t *testing.T, c *cli) {
	ctx := context.Background()
	dirA := filepath.Join(c.dir, "a")
	configure := func(cfg *app.Config) {
		cfg.Issuer, cfg.RegistrationNumber = "株式会社YOROZU", "T1234567890123"
		cfg.RateLimit = -1 // the writers below are one client
	}
	env := apptest.Start(t, apptest.Embedded, apptest.Options{DataDir: dirA, Now: jstAt("2025-07-01 09:00"), Configure: configure})
	// The tools reach this server through its admin socket, as they reach `yorozu serve`.
	stopAdmin := serveAdminSocket(t, env)
	state := buildBillingState(t, env) // the clock is at 2025-09-02 10:00
	tok := state.opToken
	K, L, S := state.customers[0], state.customers[1], state.customers[2]

	// Telemetry: catalogs, a terminal on K and one on S enrolled in August, August and
	// September batches.
	env.Clock.Set(jstAt("2025-08-25 10:00"))
	expectStatus(t, env.Do("POST", "/api/v1/catalogs/patches", tok, map[string]any{"entries": []map[string]any{
		{"build": "22631", "name": "Windows 11 23H2", "latestRevision": 4460, "endOfSupport": "2026-11-10"}}}), 201)
	expectStatus(t, env.Do("POST", "/api/v1/catalogs/software", tok, map[string]any{"entries": []map[string]any{
		{"name": "7-Zip", "latestVersion": "23.01"}, {"name": "Google Chrome", "latestVersion": "126.0.2"}}}), 201)
	agentK := enrollAgent(t, env, tok, K, "PC-K1")
	agentS := enrollAgent(t, env, tok, S, "PC-S1")
	first := telemetryBatch(env,
		webVisit(jstAt("2025-08-25 09:00"), "https://"+canaryK+".example.net/q3/budget.xlsx", "社外秘 "+canaryK, 120),
		webVisit(jstAt("2025-08-25 09:05"), "https://www.yorozu-sodan.com/", "", 30),
		map[string]any{"type": "logon", "at": jstAt("2025-08-23 10:00").Format(time.RFC3339), "user": "tanaka"}, // Saturday
		map[string]any{"type": "device", "at": jstAt("2025-08-22 11:00").Format(time.RFC3339), "class": "usbStorage", "name": "Cruzer", "vendor": "SanDisk", "serial": "S1"})
	first["inventory"] = map[string]any{
		"os":       map[string]string{"edition": "Windows 11 Pro", "version": "23H2", "build": "22631.4037"},
		"updates":  []map[string]string{{"kb": "KB5040442", "installedOn": "2025-08-13"}},
		"software": []map[string]string{{"name": "7-Zip", "version": "23.01", "publisher": "Igor Pavlov"}, {"name": "Google Chrome", "version": "125.0.1", "publisher": "Google"}},
		"hardware": map[string]any{"manufacturer": "FUJITSU", "model": "U9313", "cpu": "i5", "memoryMB": 16384, "diskGB": 512},
	}
	uploadBatch(t, env, agentK, first)
	uploadBatch(t, env, agentS, telemetryBatch(env,
		webVisit(jstAt("2025-08-22 10:00"), "https://"+canaryS+".example.com/plans/merger.pdf", "極秘 "+canaryS, 300)))
	env.Clock.Set(jstAt("2025-09-02 10:00"))
	uploadBatch(t, env, agentK, telemetryBatch(env, webVisit(jstAt("2025-09-01 11:00"), "https://www.yorozu-sodan.com/news", "", 60)))
	uploadBatch(t, env, agentS, telemetryBatch(env,
		webVisit(jstAt("2025-09-01 10:00"), "https://"+canaryS+".example.com/plans/", "極秘 "+canaryS, 40)))

	// August is sealed on September 16th; September runs on.
	env.Clock.Set(jstAt("2025-09-16 01:00"))
	if n, err := env.App.SealDueReports(ctx); err != nil || n != 2 {
		t.Fatalf("sealing August: %d reports, %v; want K's and S's", n, err)
	}
	uploadBatch(t, env, agentK, telemetryBatch(env, webVisit(jstAt("2025-09-15 16:00"), "https://"+canaryK+".example.net/", "", 45),
		map[string]any{"type": "app", "at": jstAt("2025-09-15 16:01").Format(time.RFC3339), "action": "start", "name": "7-Zip"}))
	uploadBatch(t, env, agentS, telemetryBatch(env, webVisit(jstAt("2025-09-15 17:00"), "https://"+canaryS+".example.com/board", "", 20)))

	// The help desk: an e-mail answered, a long phone call declined and closed, an e-mail left
	// open past its due time, an inquiry rejected.
	env.Clock.Set(jstAt("2025-09-16 10:00"))
	answered := intake(t, env, tok, K, "email", "2025-09-16 10:00", 0)
	expectStatus(t, env.Do("POST", "/api/v1/consultations/"+answered+"/triage", tok, map[string]any{"category": "suspiciousMail"}), 200)
	expectStatus(t, env.Do("POST", "/api/v1/consultations/"+answered+"/reply", tok, map[string]any{
		"answeredAt": "2025-09-16T15:00:00+09:00", "body": "添付ファイルは開かずに削除してください。"}), 200)
	declined := intake(t, env, tok, L, "phone", "2025-09-16 11:00", 45)
	expectStatus(t, env.Do("POST", "/api/v1/consultations/"+declined+"/triage", tok, map[string]any{"decision": "decline", "reason": "thirdPartyProduct"}), 200)
	expectStatus(t, env.Do("POST", "/api/v1/consultations/"+declined+"/close", tok, map[string]any{"closedAt": "2025-09-16T11:50:00+09:00"}), 200)
	overdue := intake(t, env, tok, K, "email", "2025-09-12 10:00", 0)
	rejected := intake(t, env, tok, "N999999999", "email", "2025-09-16 10:30", 0)
	consultations := []string{answered, declined, overdue, rejected}

	// Insurance: a claim assessed and paid, one still filed.
	var paid, filed struct{ ClaimID, Status string }
	expectStatus(t, env.Do("POST", "/api/v1/insurance/claims", tok, map[string]any{"customerNumber": K, "incidentDate": "2025-09-10",
		"kind": "incidentResponse", "costType": "investigation", "claimedAmount": 300000}), 201).JSON(t, &paid)
	expectStatus(t, env.Do("POST", "/api/v1/insurance/claims/"+paid.ClaimID+"/assess", tok, map[string]any{"assessedAmount": 250000}), 200)
	expectStatus(t, env.Do("POST", "/api/v1/insurance/claims/"+paid.ClaimID+"/pay", tok, nil), 200)
	expectStatus(t, env.Do("POST", "/api/v1/insurance/claims", tok, map[string]any{"customerNumber": L, "incidentDate": "2025-09-11",
		"kind": "liability", "claimedAmount": 100000}), 201).JSON(t, &filed)
	if paid.Status != "filed" || filed.Status != "filed" {
		t.Fatalf("claims: %+v %+v", paid, filed)
	}

	// Before the termination: S's telemetry opens with its key (the canary is in it), and a
	// backup and a key ring export are taken (forwarded to the server, read beside it).
	if p := openBatches(t, readLog(t, env), S, env.App.KeyRing()); p.err != nil || p.batches != 3 || !strings.Contains(p.plain, canaryS) {
		t.Fatalf("S's telemetry before the termination: %d batches, %v", p.batches, p.err)
	}
	before := c.backup("--data", dirA, "--out", filepath.Join(c.dir, "before"))
	exportBefore := c.keyringExport("--data", dirA, "--out", filepath.Join(c.dir, "keyring-before.json"))
	if exportBefore.Keys != 2 || exportBefore.Destroyed != 0 {
		t.Fatalf("key ring before the termination: %+v", exportBefore)
	}

	// S is cancelled: at its completion the contract is terminated, its open reports sealed and
	// its data key destroyed.
	var cancel struct{ OrderID string }
	expectStatus(t, env.Do("POST", "/api/v1/orders", tok, formFile(t, "cancel", map[string]any{"customerNumber": S,
		"commonCustomerId": "C0000000102", "appliedOn": "2025/9/16", "desiredDate": "2025/9/30"})), 201).JSON(t, &cancel)
	expectStatus(t, env.Do("POST", "/api/v1/orders/"+cancel.OrderID+"/accept", tok, map[string]string{"acceptedAt": "2025-09-16T10:00:00+09:00"}), 200)
	env.Clock.Set(jstAt("2025-09-30 09:00"))
	expectStatus(t, env.Do("POST", "/api/v1/orders/"+cancel.OrderID+"/complete", tok, nil), 200)
	if _, err := env.App.KeyRing().Key(ctx, S); !errors.Is(err, telemetry.ErrKeyDestroyed) {
		t.Fatalf("S's key after the termination: %v", err)
	}

	// Writers keep appending orders, consultations and K's telemetry while the backup is taken
	// through the server.
	env.Clock.Set(jstAt("2025-09-30 10:00"))
	var (
		mu     sync.Mutex
		acked  = map[string]int{}
		orders []string
		wg     sync.WaitGroup
	)
	stop := make(chan struct{})
	client := &http.Client{Timeout: 30 * time.Second}
	write := func(kind string, body func(i int) (path, token string, v any)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				path, token, v := body(i)
				status, raw, err := do(client, "POST", env.Server.URL+path, token, v)
				if err != nil || (status != http.StatusOK && status != http.StatusCreated) {
					t.Errorf("%s: POST %s: %d %s %v", kind, path, status, raw, err)
					return
				}
				mu.Lock()
				acked[kind]++
				if kind == "order" {
					var o struct{ OrderID string }
					_ = json.Unmarshal(raw, &o)
					orders = append(orders, o.OrderID)
				}
				mu.Unlock()
			}
		}()
	}
	write("order", func(i int) (string, string, any) {
		return "/api/v1/orders", tok, formFile(t, "new", map[string]any{"appliedOn": "2025/9/30", "desiredDate": "2025/10/1",
			"commonCustomerId": fmt.Sprintf("C%010d", 600+i)})
	})
	write("consultation", func(i int) (string, string, any) {
		return "/api/v1/consultations", tok, consultationForm(K, "email", "2025-09-30 10:00", 0)
	})
	write("telemetry", func(i int) (string, string, any) {
		return "/agent/v1/telemetry", agentK.AgentToken, telemetryBatch(env,
			webVisit(jstAt("2025-09-30 09:50"), fmt.Sprintf("https://www.site%d.co.jp/", i%7), "", i%90))
	})
	waitFor := func(n int) {
		deadline := time.Now().Add(60 * time.Second)
		for {
			mu.Lock()
			done := acked["order"] >= n && acked["consultation"] >= n && acked["telemetry"] >= n
			got := fmt.Sprint(acked)
			mu.Unlock()
			if done || t.Failed() {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("writers acknowledged %s within 60 s, want %d of each", got, n)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitFor(5)
	served := c.backup("--data", dirA, "--out", filepath.Join(c.dir, "served"))
	waitFor(10)
	close(stop)
	wg.Wait()
	if t.Failed() {
		return
	}
	// The key ring is exported after the backup, so it holds every key the backup's events were
	// sealed with; while the server runs (keyring.json is read, never written, by the tool).
	exportFile := filepath.Join(c.dir, "keyring.json")
	exported := c.keyringExport("--data", dirA, "--out", exportFile)
	if exported.Keys != 1 || exported.Destroyed != 1 || exported.File != exportFile {
		t.Fatalf("key ring export after the termination: %+v; want K's key and S's tombstone", exported)
	}
	onStdout := c.mustRun("", "keyring", "export", "--data", dirA)
	if doc := readKeyRingDoc(t, []byte(onStdout.stdout)); !reflect.DeepEqual(doc.Entries(), readKeyRingFile(t, exportFile).Entries()) {
		t.Fatal("the export on standard output differs from the one in the file")
	}
	stopAdmin()
	env.Stop()

	// The backup is the log at its head: every event up to it, nothing after, and writes went on
	// after it.
	hdr, fileRecs := fileEvents(t, served.File)
	all, _ := storeEvents(t, dirA)
	var upTo []event.Record
	for _, r := range all {
		if r.Position <= hdr.Head {
			upTo = append(upTo, r)
		}
	}
	if len(upTo) == len(all) || !reflect.DeepEqual(fileRecs, upTo) {
		t.Fatalf("backup at head %d: %d events; the log holds %d up to it and %d in all", hdr.Head, len(fileRecs), len(upTo), len(all))
	}
	// The key stays out, and so does every plain text of telemetry, live or shredded.
	key, _ := os.ReadFile(filepath.Join(dirA, "master.key"))
	for _, f := range []string{before.File, served.File, exportFile, exportBefore.File} {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{canaryS, canaryK, string(key), base64.StdEncoding.EncodeToString(key), fmt.Sprintf("%x", key)} {
			if bytes.Contains(raw, []byte(s)) {
				t.Fatalf("%s holds %q in plain text", filepath.Base(f), s)
			}
		}
	}

	// The stores compared. The original kept appending after the backup, so it cannot answer
	// as it stood at the head any more; the reference is the original cut at the head: its own
	// log's events up to the head, loaded into a new directory (without the backup file), with
	// its own master key and key ring file. The restored stores must answer exactly as that
	// store does: the same events, the same keys, the same clock, the same requests in the same
	// order.
	dirR, dirB, dirP := filepath.Join(c.dir, "ref"), filepath.Join(c.dir, "b"), filepath.Join(c.dir, "p")
	importEvents(t, dirR, hdr.Head, upTo)
	copyFile(t, filepath.Join(dirA, "keyring.json"), filepath.Join(dirR, "keyring.json"))
	for _, d := range []string{dirR, dirB, dirP} {
		copyFile(t, filepath.Join(dirA, "master.key"), filepath.Join(d, "master.key"))
	}
	dsn := pgtest.NewDatabase(t)
	c.restore(served.File, "--data", dirB)
	c.restore(served.File, "--postgres", dsn)
	c.keyringImport(exportFile, nil, "--data", dirB)
	c.keyringImport(exportFile, []string{masterKeyEnv(t, dirA)}, "--postgres", dsn)

	now := jstAt("2025-09-30 12:00")
	envs := map[string]*apptest.Env{
		"reference": apptest.Start(t, apptest.Embedded, apptest.Options{DataDir: dirR, Now: now, Configure: configure}),
		"embedded":  apptest.Start(t, apptest.Embedded, apptest.Options{DataDir: dirB, Now: now, Configure: configure}),
		"postgres":  apptest.Start(t, apptest.Postgres, apptest.Options{DataDir: dirP, PostgresURL: dsn, Now: now, Configure: configure}),
	}
	names := []string{"reference", "embedded", "postgres"}
	compare := func(tok, path string, status int) {
		t.Helper()
		var want []byte
		for _, n := range names {
			r := envs[n].Do("GET", path, tok, nil)
			if r.Status != status {
				t.Fatalf("%s: GET %s: %d %s", n, path, r.Status, r.Body)
			}
			if n == "reference" {
				want = r.Body
				continue
			}
			cursors := n != "postgres"
			if w, got := comparable(t, want, hdr.Head, cursors), comparable(t, r.Body, hdr.Head, cursors); got != w {
				t.Errorf("GET %s differs on the %s store:\n--- reference\n%s\n--- %s\n%s", path, n, w, n, got)
			}
		}
	}
	reads := state.reads()
	add := func(path string) { reads = append(reads, [3]string{path, tok, path}) }
	for _, q := range []string{"", "?status=open", "?status=closed", "?status=rejected", "?overdue=true", "?customerNumber=" + K} {
		add("/api/v1/consultations" + q)
	}
	add("/api/v1/consultations/stats?month=2025-09")
	add("/api/v1/consultations/long-calls?month=2025-09")
	add("/api/v1/consultations/outbound-calls?asOf=2025-12-31")
	for _, id := range consultations {
		add("/api/v1/consultations/" + id)
	}
	add("/api/v1/insurance/claims")
	add("/api/v1/insurance/claims/" + paid.ClaimID)
	add("/api/v1/insurance/claims/" + filed.ClaimID)
	add("/api/v1/insurance/usage?customerNumber=" + K + "&period=2025")
	for _, cn := range []string{K, S} {
		for _, m := range []string{"2025-08", "2025-09"} {
			add("/api/v1/reports/" + cn + "/" + m)
		}
		add("/api/v1/terminals?customerNumber=" + cn)
	}
	add("/api/v1/reports/" + K + "/2025-09.html")
	add("/api/v1/reports/" + K + "/2025-09/webTop30.csv")
	add("/api/v1/terminals")
	add("/api/v1/terminals?silentDays=14")
	add("/api/v1/orders?status=received")
	add("/api/v1/contracts/" + S)
	for _, rd := range reads {
		compare(rd[1], rd[2], http.StatusOK)
	}
	for _, listing := range []string{"/api/v1/consultations?limit=3", "/api/v1/orders?limit=4", "/api/v1/terminals?limit=1"} {
		var want string
		for _, n := range names {
			got := comparable(t, []byte(allPages(t, envs[n], tok, listing)), hdr.Head, false)
			if n == "reference" {
				want = got
			} else if got != want {
				t.Errorf("the pages of %s differ on the %s store:\n%s\n---\n%s", listing, n, want, got)
			}
		}
	}
	// What was compared holds what the scenario made: K's August sealed and September running
	// with the batches up to the head, S's months sealed at its termination, the orders written
	// before the head and not after.
	ref := envs["reference"]
	for _, want := range []struct{ cn, month, status string }{{K, "2025-08", "sealed"}, {K, "2025-09", "provisional"}, {S, "2025-08", "sealed"}, {S, "2025-09", "sealed"}} {
		var rep struct {
			Status   string
			Sections struct{ WebTop30 []struct{ Site string } }
		}
		expectStatus(t, ref.Do("GET", "/api/v1/reports/"+want.cn+"/"+want.month, tok, nil), 200).JSON(t, &rep)
		if rep.Status != want.status || len(rep.Sections.WebTop30) == 0 {
			t.Errorf("report %s %s: %s with %d sites, want %s with sites", want.cn, want.month, rep.Status, len(rep.Sections.WebTop30), want.status)
		}
	}
	in := map[string]bool{}
	for _, r := range upTo {
		in[r.Stream] = true
	}
	kept := 0
	for _, id := range orders {
		if in["order-"+id] {
			kept++
			compare(tok, "/api/v1/orders/"+id, http.StatusOK)
		} else {
			compare(tok, "/api/v1/orders/"+id, http.StatusNotFound)
		}
	}
	if kept == 0 || kept == len(orders) {
		t.Errorf("%d of the %d orders written during the backup are in it: it was not taken in the middle of the writes", kept, len(orders))
	}

	// Crypto-shredding survives the restore: on both restored stores S's batches are in the log
	// and cannot be opened, through the service's key ring or a fresh one over the imported
	// backend; K's open, with their plain text.
	backends := map[string]keyring.Backend{"embedded": nil, "postgres": keyring.NewPostgres(pgPool(t, dsn))}
	for _, n := range []string{"embedded", "postgres"} {
		recs := readLog(t, envs[n])
		rings := []telemetry.KeyRing{envs[n].App.KeyRing()}
		if b := backends[n]; b != nil {
			rings = append(rings, newRing(t, b, key))
		}
		for _, ring := range rings {
			if p := openBatches(t, recs, S, ring); p.batches != 3 || !errors.Is(p.err, telemetry.ErrKeyDestroyed) {
				t.Errorf("%s: S's %d batches: %v; want 3 that cannot be opened (key destroyed)", n, p.batches, p.err)
			}
			if p := openBatches(t, recs, K, ring); p.err != nil || p.batches < 5 || !strings.Contains(p.plain, canaryK) {
				t.Errorf("%s: K's %d batches: %v; want them open, with their plain text", n, p.batches, p.err)
			}
		}
	}
	for _, n := range names {
		envs[n].Stop()
	}
	// The embedded one again, with a fresh key ring over its file.
	checkShredded(t, dirB, key, S, K, 3)

	// A backup taken before the termination, restored with the key ring exported after it, does
	// not open S's telemetry either: the tombstone came with the key ring.
	dirE := filepath.Join(c.dir, "e")
	c.restore(before.File, "--data", dirE)
	copyFile(t, filepath.Join(dirA, "master.key"), filepath.Join(dirE, "master.key"))
	c.keyringImport(exportFile, nil, "--data", dirE)
	checkShredded(t, dirE, key, S, K, 3)
	// An export taken before the termination still holds S's key: it opens the old backup's
	// batches (why docs/backup.md says to keep only the newest export).
	dirOld := filepath.Join(c.dir, "old")
	copyFile(t, filepath.Join(dirA, "master.key"), filepath.Join(dirOld, "master.key"))
	c.keyringImport(exportBefore.File, nil, "--data", dirOld)
	oldRing, err := keyring.OpenFile(dirOld)
	if err != nil {
		t.Fatal(err)
	}
	_, beforeRecs := fileEvents(t, before.File)
	if p := openBatches(t, beforeRecs, S, newRing(t, oldRing, key)); p.err != nil || !strings.Contains(p.plain, canaryS) {
		t.Errorf("the key ring exported before the termination does not open S's batches: %v", p.err)
	}
}

// checkShredded opens the restored embedded store in dir with a fresh key ring over its file:
// the shredded contract's batches (want of them) cannot be opened, the live contract's can.
func checkShredded(t *testing.T, dir string, master []byte, shredded, live string, want int) {
	t.Helper()
	recs, _ := storeEvents(t, dir)
	b, err := keyring.OpenFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	ring := newRing(t, b, master)
	if p := openBatches(t, recs, shredded, ring); p.batches != want || !errors.Is(p.err, telemetry.ErrKeyDestroyed) {
		t.Errorf("%s: %s's %d batches: %v; want %d that cannot be opened (key destroyed)", dir, shredded, p.batches, p.err, want)
	}
	if p := openBatches(t, recs, live, ring); p.err != nil || p.batches == 0 || !strings.Contains(p.plain, canaryK) {
		t.Errorf("%s: %s's %d batches: %v; want them open", dir, live, p.batches, p.err)
	}
}

// serveAdminSocket serves env's admin protocol on the socket of its data directory, as `yorozu
// serve` does on the embedded store, and returns the function that closes it.
func serveAdminSocket(t *testing.T, env *apptest.Env) func() {
	t.Helper()
	path := app.AdminSocketPath(env.Config.DataDir)
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: env.App.AdminHandler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			_ = srv.Close()
			_ = os.Remove(path)
		})
	}
	t.Cleanup(stop)
	return stop
}

// keyringExport runs `yorozu keyring export` with --out and checks its summary.
func (c *cli) keyringExport(args ...string) app.KeyRingSummary {
	c.t.Helper()
	r := c.mustRun("", append([]string{"keyring", "export"}, args...)...)
	return decodeKeyRingSummary(c.t, r.stdout)
}

// keyringImport runs `yorozu keyring import FILE` and checks that its summary matches the file.
func (c *cli) keyringImport(file string, env []string, store ...string) app.KeyRingSummary {
	c.t.Helper()
	r := c.runWithEnv(env, "", append([]string{"keyring", "import", file}, store...)...)
	if r.code != 0 {
		c.t.Fatalf("keyring import %s %q: exit %d\n%s", file, store, r.code, r.stderr)
	}
	sum := decodeKeyRingSummary(c.t, r.stdout)
	doc := readKeyRingFile(c.t, file)
	if sum.File != file || sum.Keys != len(doc.Keys) || sum.Destroyed != len(doc.Destroyed) {
		c.t.Fatalf("keyring import printed %+v for %s (%d keys, %d tombstones)", sum, file, len(doc.Keys), len(doc.Destroyed))
	}
	return sum
}

func decodeKeyRingSummary(t *testing.T, stdout string) app.KeyRingSummary {
	t.Helper()
	var raw map[string]any
	decodeOne(t, stdout, &raw)
	var sum app.KeyRingSummary
	decodeOne(t, stdout, &sum)
	if len(raw) != 3 || sum.File == "" {
		t.Fatalf("printed %s; want {file, keys, destroyed}", stdout)
	}
	return sum
}

func readKeyRingDoc(t *testing.T, raw []byte) *keyring.Document {
	t.Helper()
	doc, err := keyring.ReadDocument(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func readKeyRingFile(t *testing.T, path string) *keyring.Document {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return readKeyRingDoc(t, raw)
}

func newRing(t *testing.T, b keyring.Backend, master []byte) *keyring.Ring {
	t.Helper()
	r, err := keyring.New(b, master, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func pgPool(t *testing.T, dsn string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	raw, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, raw, 0o600); err != nil {
		t.Fatal(err)
	}
}

// importEvents loads records, a log up to head, into a new embedded store in dir.
func importEvents(t *testing.T, dir string, head event.Position, recs []event.Record) {
	t.Helper()
	s, err := bolt.OpenDir(dir, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.Import(context.Background(), head, func(yield func(event.Record, error) bool) {
		for _, r := range recs {
			if !yield(r, nil) {
				return
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
}

// readLog reads the whole log of a running service.
func readLog(t *testing.T, env *apptest.Env) []event.Record {
	t.Helper()
	recs, err := env.App.Events.ReadAll(context.Background(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// opened is what openBatches found: how many batches the contract has in the log, the plain
// text (JSON) of those it opened, and the error of the first it could not open.
type opened struct {
	batches int
	plain   string
	err     error
}

// openBatches decrypts every telemetry batch of contract cn in recs with the contract's key from
// ring, as the report projection does.
func openBatches(t *testing.T, recs []event.Record, cn string, ring telemetry.KeyRing) opened {
	t.Helper()
	codec := schema.Registry()
	var out opened
	var plain strings.Builder
	for _, r := range recs {
		if !strings.HasPrefix(r.Stream, telemetry.TelemetryCategory+"-"+cn+"-") {
			continue
		}
		e, err := codec.Decode(r)
		if err != nil {
			t.Fatal(err)
		}
		b, ok := e.(*telemetry.BatchReceived)
		if !ok {
			continue
		}
		out.batches++
		if out.err != nil {
			continue
		}
		k, err := ring.Key(context.Background(), cn)
		if err != nil {
			out.err = err
			continue
		}
		p, err := telemetry.OpenPayload(k, telemetry.PayloadAD(cn, b.TerminalID, b.BatchID), b.PayloadSealed)
		if err != nil {
			out.err = err
			continue
		}
		raw, _ := json.Marshal(p)
		plain.Write(raw)
	}
	out.plain = plain.String()
	return out
}

// ---- telemetry and help desk through the API ----

type agentCredentials struct{ TerminalID, AgentToken string }

// enrollAgent issues an enrollment token for contract cn and enrolls a Windows terminal with it.
func enrollAgent(t *testing.T, env *apptest.Env, tok, cn, host string) agentCredentials {
	t.Helper()
	var et struct{ EnrollmentToken string }
	expectStatus(t, env.Do("POST", "/api/v1/contracts/"+cn+"/enrollment-tokens", tok, nil), 201).JSON(t, &et)
	var a agentCredentials
	expectStatus(t, env.Do("POST", "/agent/v1/enroll", "", map[string]any{"enrollmentToken": et.EnrollmentToken, "hostname": host,
		"hardwareId": "HW-" + host, "os": map[string]string{"edition": "Windows 11 Pro", "version": "23H2", "build": "22631.4037"},
		"assetManagementTools": []string{}}), 201).JSON(t, &a)
	return a
}

func webVisit(at time.Time, url, title string, seconds int) map[string]any {
	return map[string]any{"type": "web", "at": at.Format(time.RFC3339), "url": url, "seconds": seconds, "title": title}
}

// telemetryBatch is a batch of records with a new batch ID, collected over the 15 minutes
// before the clock's time.
func telemetryBatch(env *apptest.Env, records ...map[string]any) map[string]any {
	to := env.Clock.Now().UTC()
	return map[string]any{"batchId": uuid.NewString(), "sequence": 1, "collectedFrom": to.Add(-15 * time.Minute).Format(time.RFC3339),
		"collectedTo": to.Format(time.RFC3339), "records": records}
}

// uploadBatch sends a batch and checks that every record was accepted.
func uploadBatch(t *testing.T, env *apptest.Env, a agentCredentials, batch map[string]any) {
	t.Helper()
	var ans struct {
		Accepted  int
		Duplicate bool
	}
	expectStatus(t, env.Do("POST", "/agent/v1/telemetry", a.AgentToken, batch), 200).JSON(t, &ans)
	if n := len(batch["records"].([]map[string]any)); ans.Accepted != n || ans.Duplicate {
		t.Fatalf("batch: %+v, want %d records accepted", ans, n)
	}
}

// consultationForm is an inquiry from the example contractor (the order forms' company).
func consultationForm(cn, channel, receivedAt string, minutes int) map[string]any {
	f := map[string]any{"channel": channel, "receivedAt": jstAt(receivedAt).Format(time.RFC3339), "customerNumber": cn,
		"companyName": "株式会社大和商事", "personName": "山田　太郎", "phone": "03-1234-5678",
		"subject": "不審なメールが届きました", "body": "添付ファイルを開いてしまいました。"}
	if channel == "email" {
		f["email"] = "yamada@yamato-shoji.co.jp"
	} else {
		f["durationMinutes"] = minutes
	}
	return f
}

func intake(t *testing.T, env *apptest.Env, tok, cn, channel, receivedAt string, minutes int) string {
	t.Helper()
	var out struct{ ConsultationID string }
	expectStatus(t, env.Do("POST", "/api/v1/consultations", tok, consultationForm(cn, channel, receivedAt, minutes)), 201).JSON(t, &out)
	return out.ConsultationID
}
