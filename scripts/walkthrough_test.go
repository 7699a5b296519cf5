package scripts

// TestWalkthrough runs scripts/walkthrough.sh as a reader does: against the real binary serving
// a fresh data directory on a free port. It checks that the script succeeds, that what it
// reports is what the API answers (read back with an auditor key of the test's own), that the
// dates follow the business calendar, and that docs/api.md shows every command the script runs,
// so the guide cannot drift from what works.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"yorozu/domain/calendar"
)

func TestWalkthrough(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the walkthrough builds its helper with the go tool, which is not on PATH: %v", err)
	}
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatalf("the walkthrough calls the API with curl, which is not on PATH (apt-get install curl): %v", err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "yorozu")
	build := exec.Command(goTool, "build", "-o", bin, "./cmd/yorozu")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/yorozu: %v\n%s", err, out)
	}
	// Short: the admin socket's path must fit a unix socket address.
	data, err := os.MkdirTemp("", "yzwalk")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(data) })

	script := filepath.Join(root, "scripts", "walkthrough.sh")
	env := func(addr string) []string {
		return append(os.Environ(), "DATA="+data, "ADDR="+addr, "YOROZU="+bin)
	}

	// Without a server on DATA the script says how to start one, and writes nothing.
	noServer := runScript(t, script, env("127.0.0.1:1"))
	if noServer.code != 1 || !strings.Contains(noServer.stderr, "make run DATA="+data) {
		t.Errorf("walkthrough without a server: exit %d, stderr %q; want exit 1 naming make run", noServer.code, noServer.stderr)
	}
	if entries, _ := os.ReadDir(data); len(entries) != 0 {
		t.Errorf("walkthrough without a server wrote into %s: %v", data, entries)
	}

	addr := serve(t, bin, data)
	started := time.Now()
	res := runScript(t, script, env(addr))
	if res.code != 0 {
		t.Fatalf("walkthrough.sh exited %d\n--- stdout\n%s\n--- stderr\n%s", res.code, res.stdout, res.stderr)
	}
	sum := summary(t, res.stdout)

	// What the script reported is what the API answers.
	key := apiKey(t, bin, data)
	api := client{base: "http://" + addr + "/api/v1", token: key}

	var order struct {
		Status, CustomerNumber                                  string
		AcceptedAt                                              time.Time
		AcceptanceDay, EarliestDate, ScheduledDate, CompletedOn string
		Form                                                    struct{ AppliedOn, DesiredDate string }
	}
	api.get(t, "/orders/"+sum["ORDER"], &order)
	if order.Status != "completed" || order.CustomerNumber != sum["CN"] || order.CompletedOn != sum["OPENED_ON"] {
		t.Errorf("order %s: %+v; the script reported customer %s opened on %s", sum["ORDER"], order, sum["CN"], sum["OPENED_ON"])
	}
	acceptedAt, err := time.Parse(time.RFC3339, sum["ACCEPTED_AT"])
	if err != nil || !order.AcceptedAt.Equal(acceptedAt) {
		t.Errorf("order accepted at %v; the script reported %s (%v)", order.AcceptedAt, sum["ACCEPTED_AT"], err)
	}

	// The dates are the business calendar's: a form of two months ago (JST), accepted on the
	// day it was applied for, scheduled for the later of its desired date and the earliest date.
	jst := calendar.JST()
	y, m, _ := started.In(jst).Date()
	opened := time.Date(y, m-2, 1, 0, 0, 0, 0, jst)
	if want := opened.Format("2006-01"); sum["MONTH_OPENED"] != want {
		t.Errorf("MONTH_OPENED = %s, want %s (two months before this month in Japan)", sum["MONTH_OPENED"], want)
	}
	if want := time.Date(y, m-1, 1, 0, 0, 0, 0, jst).Format("2006-01"); sum["MONTH_BILLED"] != want {
		t.Errorf("MONTH_BILLED = %s, want %s", sum["MONTH_BILLED"], want)
	}
	if want := fmt.Sprintf("%d/%d/1", opened.Year(), opened.Month()); order.Form.AppliedOn != want {
		t.Errorf("appliedOn = %s, want %s", order.Form.AppliedOn, want)
	}
	cal := calendar.New()
	day := cal.AcceptanceDay(acceptedAt)
	earliest := cal.AddBusinessDays(day, 8)
	desired, err := calendar.ParseFormDate(order.Form.DesiredDate)
	if err != nil {
		t.Fatalf("desiredDate %q: %v", order.Form.DesiredDate, err)
	}
	scheduled := max(desired.String(), earliest.String()) // YYYY-MM-DD compares as text
	if order.AcceptanceDay != day.String() || order.EarliestDate != earliest.String() || order.ScheduledDate != scheduled {
		t.Errorf("order dates: acceptance %s, earliest %s, scheduled %s; want %s, %s, %s",
			order.AcceptanceDay, order.EarliestDate, order.ScheduledDate, day, earliest, scheduled)
	}
	if !strings.HasPrefix(scheduled, sum["MONTH_OPENED"]) || scheduled >= started.In(jst).Format("2006-01-02") {
		t.Errorf("scheduled date %s is not in %s, before today: completing the order would not work", scheduled, sum["MONTH_OPENED"])
	}

	var contract struct {
		Status, OpenedOn        string
		AdditionalIds, TotalIds int
		WebFiltering            bool
	}
	api.get(t, "/contracts/"+sum["CN"], &contract)
	if contract.Status != "active" || contract.OpenedOn != sum["OPENED_ON"] || contract.TotalIds != 20 || !contract.WebFiltering {
		t.Errorf("contract %s: %+v; want active from %s with 20 IDs and web filtering", sum["CN"], contract, sum["OPENED_ON"])
	}

	// Charged from the month after the opening: base 3000 + 15 IDs × 200 + 20 IDs × 100 = 8000
	// yen, tax 10 %.
	var invoice struct {
		Status            string
		Subtotal, Tax     int64
		Total             json.Number
		Lines             []struct{ Name string }
		UsagePeriod       struct{ From, To string }
		InvoiceNumber     *string
		CustomerNumber    string
		Month             string
		TaxByRate         []struct{ Rate string }
		Issuer, Recipient map[string]any
	}
	api.get(t, "/billing/invoices/"+sum["CN"]+"/"+sum["MONTH_BILLED"], &invoice)
	if invoice.Status != "draft" || invoice.Subtotal != 8000 || invoice.Tax != 800 || invoice.Total.String() != "8800" ||
		len(invoice.Lines) != 3 || invoice.InvoiceNumber != nil {
		t.Errorf("invoice %s %s: %+v; want a draft of 8000 + 800 yen in 3 lines", sum["CN"], sum["MONTH_BILLED"], invoice)
	}
	if sum["INVOICE_TOTAL"] != invoice.Total.String() {
		t.Errorf("the script reported a total of %s, the API answers %s", sum["INVOICE_TOTAL"], invoice.Total)
	}

	// No month was closed: the feed is empty, and the script said so.
	var feed struct {
		Items []json.RawMessage
		Next  *string
	}
	api.get(t, "/billing/feed", &feed)
	if len(feed.Items) != 0 || sum["FEED_ITEMS"] != "[]" {
		t.Errorf("billing feed: %d items, the script reported %s; the walkthrough closes no month", len(feed.Items), sum["FEED_ITEMS"])
	}
	var history struct {
		Items []struct{ Type, Actor string }
	}
	api.get(t, "/contracts/"+sum["CN"]+"/history", &history)
	var types []string
	for _, it := range history.Items {
		types = append(types, it.Type)
	}
	if got := strings.Join(types, "\n"); !strings.Contains(res.stdout, "\n"+got+"\n") {
		t.Errorf("history types %q do not appear in the script's output as the API lists them", types)
	}

	// Run again on the same server: the store is no longer empty, and the script refuses.
	again := runScript(t, script, env(addr))
	if again.code != 1 || !strings.Contains(again.stderr, "already holds events") || strings.Contains(again.stdout, "## 1.") {
		t.Errorf("walkthrough on a store with events: exit %d, stderr %q; want exit 1 before any write", again.code, again.stderr)
	}

	t.Run("docs show every command", func(t *testing.T) { checkDocs(t, root, res.stdout) })
}

// checkDocs: every command the script printed appears verbatim in docs/api.md, and the script
// needs nothing a fresh machine lacks.
func checkDocs(t *testing.T, root, stdout string) {
	guide, err := os.ReadFile(filepath.Join(root, "docs", "api.md"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(stdout, "\n") {
		cmd, ok := strings.CutPrefix(line, "$ ")
		if !ok {
			continue
		}
		n++
		if !bytes.Contains(guide, []byte(cmd)) {
			t.Errorf("docs/api.md does not show the command the walkthrough runs:\n%s", cmd)
		}
	}
	if n < 30 {
		t.Errorf("the walkthrough printed %d commands; expected the whole lifecycle", n)
	}
	src, err := os.ReadFile(filepath.Join(root, "scripts", "walkthrough.sh"))
	if err != nil {
		t.Fatal(err)
	}
	tools := regexp.MustCompile(`\b(jq|python3?|uuidgen|oathtool)\b`)
	for i, line := range strings.Split(string(src), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		if m := tools.FindString(line); m != "" {
			t.Errorf("walkthrough.sh:%d uses %s, which a fresh machine may lack; use scripts/walkhelper", i+1, m)
		}
	}
}

type result struct {
	code           int
	stdout, stderr string
}

func runScript(t *testing.T, script string, env []string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", script)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatalf("bash %s: %v", script, err)
	}
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// summary reads the NAME=value lines the script prints last.
func summary(t *testing.T, stdout string) map[string]string {
	t.Helper()
	_, tail, ok := strings.Cut(stdout, "\n## Summary\n")
	if !ok {
		t.Fatalf("the walkthrough printed no summary:\n%s", stdout)
	}
	sum := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(tail))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			sum[k] = v
		}
	}
	for _, k := range []string{"ORDER", "CN", "ACCEPTED_AT", "OPENED_ON", "MONTH_OPENED", "MONTH_BILLED", "INVOICE_TOTAL", "FEED_ITEMS"} {
		if sum[k] == "" {
			t.Fatalf("the summary has no %s:\n%s", k, tail)
		}
	}
	return sum
}

// serve starts `yorozu serve` on data and a free loopback port and returns the address once
// /readyz answers; the server is stopped with SIGTERM at the end of the test.
func serve(t *testing.T, bin, data string) string {
	t.Helper()
	for attempt := 0; ; attempt++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		cmd := exec.Command(bin, "serve", "--data", data, "--addr", addr)
		var logs bytes.Buffer
		cmd.Stderr = &logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		if waitReady(addr, exited) {
			t.Cleanup(func() {
				cmd.Process.Signal(syscall.SIGTERM)
				select {
				case <-exited:
				case <-time.After(30 * time.Second):
					cmd.Process.Kill()
					t.Errorf("serve did not stop within 30 s of SIGTERM\n%s", logs.String())
				}
			})
			return addr
		}
		cmd.Process.Kill()
		<-exited
		if attempt == 2 {
			t.Fatalf("serve on %s never became ready:\n%s", addr, logs.String())
		}
	}
}

func waitReady(addr string, exited <-chan error) bool {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return false
		default:
		}
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return true
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// apiKey creates an auditor key of the test's own, through the running server.
func apiKey(t *testing.T, bin, data string) string {
	t.Helper()
	out, err := exec.Command(bin, "apikey", "create", "--data", data, "--role", "auditor", "--name", "walkthrough-test").Output()
	if err != nil {
		t.Fatalf("yorozu apikey create: %v", err)
	}
	var k struct{ Key string }
	if err := json.Unmarshal(out, &k); err != nil || k.Key == "" {
		t.Fatalf("yorozu apikey create printed %q (%v)", out, err)
	}
	return k.Key
}

type client struct{ base, token string }

func (c client) get(t *testing.T, path string, v any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("GET %s: %v\n%s", path, err, body)
	}
}
