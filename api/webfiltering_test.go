package api_test

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"yorozu/cmd/yorozu/app"
	"yorozu/cmd/yorozu/app/apptest"
	"yorozu/domain/access"
)

// agentTokens stands in for the terminals' directory in these tests: it maps an agent token to
// the customer number of its terminal's contract (the lead wires the real directory).
type agentTokens map[string]string

func (a agentTokens) AuthenticateAgent(_ context.Context, token string) (string, error) {
	if cn, ok := a[token]; ok {
		return cn, nil
	}
	return "", access.ErrUnauthenticated
}

type wfEntry struct {
	EntryID string `json:"entryId"`
	Item    string `json:"item"`
	URL     string `json:"url"`
}

type wfPolicy struct {
	CustomerNumber *string   `json:"customerNumber"`
	Enabled        bool      `json:"enabled"`
	Version        int       `json:"version"`
	BlockedItems   []string  `json:"blockedItems"`
	Allow          []wfEntry `json:"allow"`
	Block          []wfEntry `json:"block"`
	Entry          *wfEntry  `json:"entry"`
}

type wfProblem struct {
	Type          string
	Status        int
	Code          string
	NextAllowedOn string
	Errors        []struct{ Field, Code string }
}

func wfGet(t *testing.T, env *apptest.Env, tok, cn string) wfPolicy {
	t.Helper()
	var p wfPolicy
	r := must(t, env.Do("GET", "/api/v1/contracts/"+cn+"/web-filtering", tok, nil), 200)
	r.JSON(t, &p)
	if etag := r.Header.Get("ETag"); etag != `"`+strconv.Itoa(p.Version)+`"` {
		t.Fatalf("ETag %s for version %d", etag, p.Version)
	}
	return p
}

// problem decodes a problem+json answer of the wanted status.
func problem(t *testing.T, r *apptest.Response, status int) wfProblem {
	t.Helper()
	if r.Status != status || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/problem+json") {
		t.Fatalf("status %d (%s), want a %d problem: %s", r.Status, r.Header.Get("Content-Type"), status, r.Body)
	}
	var p wfProblem
	r.JSON(t, &p)
	return p
}

func fieldCodes(p wfProblem) map[string]string {
	out := map[string]string{}
	for _, e := range p.Errors {
		out[e.Field] = e.Code
	}
	return out
}

// withoutWebFiltering is a new form without the option (5 IDs, no filtering).
var withoutWebFiltering = map[string]any{"healthCheckIdAddition": "notUse", "additionalIds": nil, "webFiltering": "notUse"}

func TestWebFilteringPolicy(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, engine apptest.Engine) {
		agents := agentTokens{}
		env := apptest.Start(t, engine, apptest.Options{Configure: func(c *app.Config) { c.AgentContracts = agents }})
		tok := env.StaffToken("kato", "operator")
		auditor := env.StaffToken("mori", "auditor")

		// A contract without the option: its policy is the default one, and it cannot be turned on.
		plain, _ := openContract(t, env, tok, withoutWebFiltering)
		p := wfGet(t, env, tok, plain)
		if p.Enabled || p.Version != 0 || len(p.BlockedItems) != 19 || len(p.Allow) != 0 || len(p.Block) != 0 || *p.CustomerNumber != plain {
			t.Fatalf("default policy: %+v", p)
		}
		if pr := problem(t, env.Do("PUT", "/api/v1/contracts/"+plain+"/web-filtering", tok, map[string]any{"enabled": true}), 409); pr.Type != "/problems/optionNotInEffect" || pr.Code != "optionNotInEffect" {
			t.Fatalf("enabling without the option: %+v", pr)
		}
		problem(t, env.Do("GET", "/api/v1/contracts/N999999999/web-filtering", tok, nil), 404)
		problem(t, env.Do("PUT", "/api/v1/contracts/N999999999/web-filtering", tok, map[string]any{"enabled": true}), 404)

		// A contract with the option (20 IDs): on, then on again (nothing changes).
		cn, _ := openContract(t, env, tok, nil)
		var on wfPolicy
		must(t, env.Do("PUT", "/api/v1/contracts/"+cn+"/web-filtering", tok, map[string]any{"enabled": true}), 200).JSON(t, &on)
		if !on.Enabled || on.Version != 1 {
			t.Fatalf("enabled: %+v", on)
		}
		must(t, env.Do("PUT", "/api/v1/contracts/"+cn+"/web-filtering", tok, map[string]any{"enabled": true}), 200).JSON(t, &on)
		if on.Version != 1 {
			t.Fatalf("enabling twice changed the version: %+v", on)
		}
		if pr := problem(t, env.Do("PUT", "/api/v1/contracts/"+cn+"/web-filtering", tok, map[string]any{"enabled": "yes"}), 422); fieldCodes(pr)["enabled"] != "invalidType" {
			t.Fatalf("enabled not a boolean: %+v", pr)
		}
		problem(t, env.Do("PUT", "/api/v1/contracts/"+cn+"/web-filtering", tok, map[string]any{}), 422)
		problem(t, env.Do("PUT", "/api/v1/contracts/"+cn+"/web-filtering", auditor, map[string]any{"enabled": false}), 403)
		problem(t, env.Do("PUT", "/api/v1/contracts/"+cn+"/web-filtering", tok, map[string]any{"enabled": false}, "If-Match", `"7"`), 412)

		// Entries.
		entries := "/api/v1/contracts/" + cn + "/web-filtering/entries"
		var dating wfPolicy
		must(t, env.Do("POST", entries, tok, map[string]any{"list": "allow", "item": "dating"}), 201).JSON(t, &dating)
		if dating.Entry == nil || dating.Entry.Item != "dating" || dating.Version != 2 || len(dating.Allow) != 1 ||
			len(dating.BlockedItems) != 18 || slices.Contains(dating.BlockedItems, "dating") {
			t.Fatalf("dating allowed: %+v", dating)
		}
		var again wfPolicy
		must(t, env.Do("POST", entries, tok, map[string]any{"list": "allow", "item": "dating"}), 201).JSON(t, &again)
		if again.Entry.EntryID != dating.Entry.EntryID || again.Version != 2 || len(again.Allow) != 1 {
			t.Fatalf("the same entry twice: %+v", again)
		}
		for _, item := range []string{"malware", "illegalDrugs", "phishingFraud", "childAbuse"} {
			pr := problem(t, env.Do("POST", entries, tok, map[string]any{"list": "allow", "item": item}), 422)
			if fieldCodes(pr)["item"] != "notAllowListable" {
				t.Fatalf("allowing %s: %+v", item, pr)
			}
		}
		if pr := problem(t, env.Do("POST", entries, tok, map[string]any{"list": "block", "item": "casino"}), 422); fieldCodes(pr)["item"] != "unknownItem" {
			t.Fatalf("unknown item: %+v", pr)
		}
		for _, bad := range []string{"not a url", "ftp://example.com/", "example", "https://user@example.com/", "example.com/path"} {
			if pr := problem(t, env.Do("POST", entries, tok, map[string]any{"list": "block", "url": bad}), 422); fieldCodes(pr)["url"] != "invalidUrl" {
				t.Fatalf("url %q: %+v", bad, pr)
			}
		}
		pr := problem(t, env.Do("POST", entries, tok, map[string]any{"list": "deny", "item": "dating", "url": "example.com"}), 422)
		if c := fieldCodes(pr); c["list"] != "invalidChoice" || c["url"] != "mustBeAbsent" {
			t.Fatalf("every error at once: %+v", pr)
		}
		if pr := problem(t, env.Do("POST", entries, tok, map[string]any{"list": "block", "item": "dating"}), 409); pr.Code != "entryInOtherList" {
			t.Fatalf("dating on both lists: %+v", pr)
		}
		if p := wfGet(t, env, tok, cn); p.Version != 2 {
			t.Fatalf("refused entries changed the policy: %+v", p)
		}
		var host, prefix wfPolicy
		must(t, env.Do("POST", entries, tok, map[string]any{"list": "block", "url": "Ads.Example.COM"}), 201).JSON(t, &host)
		must(t, env.Do("POST", entries, tok, map[string]any{"list": "allow", "url": "https://Example.com/docs"}), 201).JSON(t, &prefix)
		if host.Entry.URL != "ads.example.com" || prefix.Entry.URL != "https://example.com/docs" || prefix.Version != 4 ||
			len(prefix.Block) != 1 || len(prefix.Allow) != 2 {
			t.Fatalf("URL entries: %+v / %+v", host, prefix)
		}
		var removed wfPolicy
		must(t, env.Do("DELETE", entries+"/"+dating.Entry.EntryID, tok, nil), 200).JSON(t, &removed)
		if removed.Version != 5 || len(removed.BlockedItems) != 19 || len(removed.Allow) != 1 {
			t.Fatalf("after removing dating: %+v", removed)
		}
		problem(t, env.Do("DELETE", entries+"/"+dating.Entry.EntryID, tok, nil), 404)
		problem(t, env.Do("DELETE", entries+"/not-an-id", tok, nil), 404)

		// The agent polls its contract's policy: no customer number, ETag, 304 while unchanged.
		agents["agent-token-1"] = cn
		poll := func(etag string) *apptest.Response {
			if etag == "" {
				return env.Do("GET", "/agent/v1/policy", "agent-token-1", nil)
			}
			return env.Do("GET", "/agent/v1/policy", "agent-token-1", nil, "If-None-Match", etag)
		}
		problem(t, env.Do("GET", "/agent/v1/policy", "", nil), 401)
		problem(t, env.Do("GET", "/agent/v1/policy", "stolen", nil), 401)
		problem(t, env.Do("GET", "/agent/v1/policy", tok, nil), 401) // a staff token is no agent token
		r := must(t, poll(""), 200)
		var ap wfPolicy
		r.JSON(t, &ap)
		if r.Header.Get("ETag") != `"5"` || ap.CustomerNumber != nil || !ap.Enabled || ap.Version != 5 || len(ap.BlockedItems) != 19 ||
			len(ap.Allow) != 1 || ap.Allow[0].URL != "https://example.com/docs" || len(ap.Block) != 1 {
			t.Fatalf("agent policy %s: %s", r.Header.Get("ETag"), r.Body)
		}
		if r := poll(`"5"`); r.Status != http.StatusNotModified || len(r.Body) != 0 || r.Header.Get("ETag") != `"5"` {
			t.Fatalf("unchanged: %d %s", r.Status, r.Body)
		}
		if r := poll(`W/"5"`); r.Status != http.StatusNotModified {
			t.Fatalf("weak tag: %d", r.Status)
		}
		must(t, poll(`"4"`), 200)

		// The option ends with a change order: filtering goes off with it, and stays off.
		env.Clock.Set(at("2025-08-01 10:00"))
		off := noChanges(cn)
		for k, v := range map[string]any{"appliedOn": "2025/8/1", "desiredDate": "2025/8/1",
			"changes":      map[string]any{"healthCheckIds": false, "webFiltering": true, "securityTickets": false, "securityContact": false},
			"webFiltering": "notUse"} {
			off[k] = v
		}
		changeOrder(t, env, tok, off, "2025-08-01T10:00:00+09:00", "2025-08-14 09:00")
		p = wfGet(t, env, tok, cn)
		if p.Enabled || p.Version != 6 || len(p.Allow) != 1 {
			t.Fatalf("after the option ended: %+v", p)
		}
		if c := getContract(t, env, tok, cn); c.WebFiltering {
			t.Fatalf("contract still has the option: %+v", c)
		}
		problem(t, env.Do("PUT", "/api/v1/contracts/"+cn+"/web-filtering", tok, map[string]any{"enabled": true}), 409)
		waitAgentVersion(t, env, "agent-token-1", 6, false)
	})
}

// waitAgentVersion polls until the agent sees version: the agents' view follows the log, and the
// reaction to an order's completion is recorded just after it.
func waitAgentVersion(t *testing.T, env *apptest.Env, token string, version int, enabled bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var ap wfPolicy
		must(t, env.Do("GET", "/agent/v1/policy", token, nil), 200).JSON(t, &ap)
		if ap.Version == version && ap.Enabled == enabled {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("agent sees version %d enabled %v, want %d %v", ap.Version, ap.Enabled, version, enabled)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestWebFilteringEndsWithTheContract(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, engine apptest.Engine) {
		env := apptest.Start(t, engine, apptest.Options{})
		tok := env.StaffToken("saito", "operator")

		// A new order accepted (its customer number issued) but not opened yet: the option is not in
		// effect, the policy is the default one.
		pending := submit(t, env, tok, form(t, "new", map[string]any{"appliedOn": "2025/7/1", "desiredDate": "2025/7/1"}))
		var acc orderBody
		must(t, env.Do("POST", "/api/v1/orders/"+pending+"/accept", tok, map[string]string{"acceptedAt": "2025-07-01T10:00:00+09:00"}), 200).JSON(t, &acc)
		if pr := problem(t, env.Do("PUT", "/api/v1/contracts/"+acc.CustomerNumber+"/web-filtering", tok, map[string]any{"enabled": true}), 409); pr.Code != "optionNotInEffect" {
			t.Fatalf("before the opening: %+v", pr)
		}
		if p := wfGet(t, env, tok, acc.CustomerNumber); p.Enabled || p.Version != 0 {
			t.Fatalf("before the opening: %+v", p)
		}
		must(t, env.Do("POST", "/api/v1/orders/"+pending+"/withdraw", tok, nil), 200)

		cn, _ := openContract(t, env, tok, nil)
		must(t, env.Do("PUT", "/api/v1/contracts/"+cn+"/web-filtering", tok, map[string]any{"enabled": true}), 200)
		must(t, env.Do("POST", "/api/v1/contracts/"+cn+"/web-filtering/entries", tok, map[string]any{"list": "allow", "item": "gambling"}), 201)

		env.Clock.Set(at("2025-10-01 10:00"))
		cancelID := submit(t, env, tok, form(t, "cancel", map[string]any{"customerNumber": cn, "appliedOn": "2025/10/1", "desiredDate": "2025/10/20"}))
		must(t, env.Do("POST", "/api/v1/orders/"+cancelID+"/accept", tok, map[string]string{"acceptedAt": "2025-10-01T10:00:00+09:00"}), 200)
		env.Clock.Set(at("2025-10-20 09:00"))
		runDue(t, env)
		if c := getContract(t, env, tok, cn); c.Status != "terminated" {
			t.Fatalf("contract %+v", c)
		}
		p := wfGet(t, env, tok, cn)
		if p.Enabled || p.Version != 3 {
			t.Fatalf("after the termination: %+v", p)
		}
		if pr := problem(t, env.Do("PUT", "/api/v1/contracts/"+cn+"/web-filtering", tok, map[string]any{"enabled": true}), 409); pr.Code != "optionNotInEffect" {
			t.Fatalf("enabling a terminated contract: %+v", pr)
		}
		if pr := problem(t, env.Do("POST", "/api/v1/contracts/"+cn+"/web-filtering/entries", tok, map[string]any{"list": "allow", "item": "dating"}), 409); pr.Code != "contractTerminated" {
			t.Fatalf("entries of a terminated contract: %+v", pr)
		}
		// Turning it off needs no option.
		must(t, env.Do("PUT", "/api/v1/contracts/"+cn+"/web-filtering", tok, map[string]any{"enabled": false}), 200)

		// The reaction survives a restart of the embedded engine (its read models replay the
		// log, and the reaction with them): nothing more is recorded.
		if engine == apptest.Embedded {
			dir := env.Config.DataDir
			env.Stop()
			env2 := apptest.Start(t, engine, apptest.Options{DataDir: dir, Now: at("2025-10-21 09:00")})
			tok2 := env2.StaffToken("saito2", "operator")
			if p := wfGet(t, env2, tok2, cn); p.Version != 3 || p.Enabled {
				t.Fatalf("after a restart: %+v", p)
			}
		}
	})
}

// An agent enrolled through the real enrollment polls its contract's policy with its own token:
// the policy and its ETag, then 304 while nothing changes, the new version once staff change it,
// and a refusal once its terminal is retired.
func TestEnrolledAgentPollsItsPolicy(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine apptest.Engine) {
		env := apptest.Start(t, engine, apptest.Options{})
		staff := env.StaffToken("takeda", "operator")
		cn, _ := openContract(t, env, staff, nil)
		agent := enroll(t, env, enrollmentToken(t, env, staff, cn), "PC-1", "HW-1")

		poll := func(etag string) *apptest.Response {
			if etag == "" {
				return env.Do("GET", "/agent/v1/policy", agent.AgentToken, nil)
			}
			return env.Do("GET", "/agent/v1/policy", agent.AgentToken, nil, "If-None-Match", etag)
		}
		first := must(t, poll(""), http.StatusOK)
		etag := first.Header.Get("ETag")
		var p struct {
			Enabled      bool     `json:"enabled"`
			Version      int      `json:"version"`
			BlockedItems []string `json:"blockedItems"`
		}
		first.JSON(t, &p)
		if etag == "" || p.Enabled || len(p.BlockedItems) != 19 || strings.Contains(string(first.Body), "customerNumber") {
			t.Fatalf("first poll: %s %s", etag, first.Body)
		}
		must(t, poll(etag), http.StatusNotModified)

		must(t, env.Do("PUT", "/api/v1/contracts/"+cn+"/web-filtering", staff, map[string]any{"enabled": true}), http.StatusOK)
		changed := must(t, poll(etag), http.StatusOK)
		if changed.Header.Get("ETag") == etag {
			t.Fatalf("the ETag did not change with the policy: %s", etag)
		}

		must(t, env.Do("POST", "/api/v1/terminals/"+agent.TerminalID+"/retire", staff, nil), http.StatusOK)
		if r := poll(""); r.Status == http.StatusOK || r.Status == http.StatusNotModified {
			t.Fatalf("a retired terminal's poll: %d %s", r.Status, r.Body)
		}
		if r := env.Do("GET", "/agent/v1/policy", "yat1.bogus", nil); r.Status != http.StatusUnauthorized {
			t.Fatalf("a made-up token: %d %s", r.Status, r.Body)
		}
	})
}
