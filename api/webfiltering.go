package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/gorilla/mux"

	"yorozu/api/httpx"
	"yorozu/commands"
	"yorozu/domain/access"
	"yorozu/domain/webfiltering"
)

// AgentAuthenticator resolves an agent's bearer token to the customer number of its terminal's
// contract, for GET /agent/v1/policy. The terminals' directory implements it; a token it does not
// accept fails with access.ErrUnauthenticated (401), or with an error the error mapper knows.
type AgentAuthenticator interface {
	AuthenticateAgent(ctx context.Context, token string) (customerNumber string, err error)
}

// webFilteringRoutes are the web-filtering endpoints: staff manage a contract's policy, agents
// poll theirs.
func (s *Server) webFilteringRoutes() []route {
	return []route{
		{"GET", "/api/v1/contracts/{customerNumber}/web-filtering", access.PermReadOperations, false, s.getWebFiltering},
		{"PUT", "/api/v1/contracts/{customerNumber}/web-filtering", access.PermCommand, true, s.setWebFiltering},
		{"POST", "/api/v1/contracts/{customerNumber}/web-filtering/entries", access.PermCommand, true, s.addWebFilteringEntry},
		{"DELETE", "/api/v1/contracts/{customerNumber}/web-filtering/entries/{entryId}", access.PermCommand, true, s.removeWebFilteringEntry},
		{"GET", "/agent/v1/policy", 0, false, s.agentPolicy},
	}
}

// policyJSON is a policy as staff and agents see it (agents without customerNumber).
type policyJSON struct {
	CustomerNumber string               `json:"customerNumber,omitempty"`
	Enabled        bool                 `json:"enabled"`
	Version        uint64               `json:"version"`
	BlockedItems   []webfiltering.Item  `json:"blockedItems"`
	Allow          []webfiltering.Entry `json:"allow"`
	Block          []webfiltering.Entry `json:"block"`
	// Entry is the entry a POST .../entries named (the new one, or the same one already there).
	Entry *webfiltering.Entry `json:"entry,omitempty"`
}

func policyOf(p webfiltering.Policy, customerNumber string) policyJSON {
	out := policyJSON{CustomerNumber: customerNumber, Enabled: p.Enabled, Version: p.Version, BlockedItems: p.BlockedItems(),
		Allow: p.Allow, Block: p.Block}
	if out.Allow == nil {
		out.Allow = []webfiltering.Entry{}
	}
	if out.Block == nil {
		out.Block = []webfiltering.Entry{}
	}
	return out
}

func policyETag(version uint64) string { return `"` + strconv.FormatUint(version, 10) + `"` }

func (s *Server) writePolicy(w http.ResponseWriter, status int, out commands.Outcome, p policyJSON) {
	w.Header().Set("ETag", policyETag(p.Version))
	writeCommandResult(w, out, status, p)
}

func (s *Server) getWebFiltering(w http.ResponseWriter, r *http.Request) {
	cn := mux.Vars(r)["customerNumber"]
	p, err := s.App.Queries.WebFiltering.Policy(r.Context(), cn)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writePolicy(w, http.StatusOK, commands.Outcome{}, policyOf(p, cn))
}

// setWebFilteringBody is the body of PUT .../web-filtering, read raw so that a missing or
// mistyped field is a field error (422) like the others.
type setWebFilteringBody struct {
	Enabled json.RawMessage `json:"enabled"`
}

func (s *Server) setWebFiltering(w http.ResponseWriter, r *http.Request) {
	var body setWebFilteringBody
	if err := httpx.DecodeJSON(r, &body); err != nil {
		s.fail(w, r, err)
		return
	}
	var v httpx.ValidationError
	var enabled bool
	if absentJSON(body.Enabled) {
		v.Add("enabled", "required", "enabled is required (true or false)")
	} else if err := json.Unmarshal(body.Enabled, &enabled); err != nil {
		v.Add("enabled", "invalidType", "enabled is true or false")
	}
	match, err := ifMatch(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := v.Err(); err != nil {
		s.fail(w, r, err)
		return
	}
	cn := mux.Vars(r)["customerNumber"]
	out, err := s.App.Commands.SetWebFiltering.Handle(r.Context(), commands.SetWebFiltering{Meta: meta(r), CustomerNumber: cn,
		Enabled: enabled, IfMatch: match})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writePolicy(w, s.awaitRead(r, out.Outcome, http.StatusOK), out.Outcome, policyOf(out.Policy, cn))
}

// entryBody is the body of POST .../entries: a list and an item or a URL.
type entryBody struct {
	List json.RawMessage `json:"list"`
	Item json.RawMessage `json:"item"`
	URL  json.RawMessage `json:"url"`
}

// target reads the body with every field error at once.
func (b entryBody) target() (webfiltering.List, webfiltering.Target, error) {
	var v httpx.ValidationError
	text := func(field string, raw json.RawMessage) (string, bool) {
		if absentJSON(raw) {
			return "", false
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			v.Add(field, "invalidType", field+" is a string")
			return "", false
		}
		return s, true
	}
	list, hasList := text("list", b.List)
	item, hasItem := text("item", b.Item)
	rawURL, hasURL := text("url", b.URL)
	switch {
	case !hasList && absentJSON(b.List):
		v.Add("list", "required", `list is required ("allow" or "block")`)
	case hasList && list != string(webfiltering.ListAllow) && list != string(webfiltering.ListBlock):
		v.Add("list", "invalidChoice", `list is "allow" or "block"`)
	}
	var t webfiltering.Target
	switch {
	case hasItem && hasURL:
		v.Add("url", "mustBeAbsent", "give an item or a url, not both")
	case hasItem:
		it, err := webfiltering.ParseItem(item)
		switch {
		case err != nil:
			v.Add("item", "unknownItem", "item is not one of the 19 filtered items")
		case list == string(webfiltering.ListAllow) && !it.AllowListable():
			v.Add("item", "notAllowListable", "items of the "+string(it.Category())+" category can never be allowed")
		}
		t.Item = it
	case hasURL:
		u, err := webfiltering.NormalizeURL(rawURL)
		if err != nil {
			v.Add("url", "invalidUrl", "url is a host name (example.com) or an http(s) URL prefix (https://example.com/path)")
		}
		t.URL = u
	case absentJSON(b.Item) && absentJSON(b.URL):
		v.Add("item", "required", "an item or a url is required")
	}
	return webfiltering.List(list), t, v.Err()
}

func (s *Server) addWebFilteringEntry(w http.ResponseWriter, r *http.Request) {
	var body entryBody
	if err := httpx.DecodeJSON(r, &body); err != nil {
		s.fail(w, r, err)
		return
	}
	list, target, err := body.target()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	match, err := ifMatch(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	cn := mux.Vars(r)["customerNumber"]
	out, err := s.App.Commands.AddWebFilteringEntry.Handle(r.Context(), commands.AddWebFilteringEntry{Meta: meta(r), CustomerNumber: cn,
		List: list, Target: target, IfMatch: match})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := policyOf(out.Policy, cn)
	p.Entry = &out.Entry
	s.writePolicy(w, s.awaitRead(r, out.Outcome, http.StatusCreated), out.Outcome, p)
}

func (s *Server) removeWebFilteringEntry(w http.ResponseWriter, r *http.Request) {
	vars := mux.Vars(r)
	id, err := uuid.Parse(vars["entryId"])
	if err != nil {
		s.fail(w, r, webfiltering.ErrEntryNotFound)
		return
	}
	match, err := ifMatch(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out, err := s.App.Commands.RemoveWebFilteringEntry.Handle(r.Context(), commands.RemoveWebFilteringEntry{Meta: meta(r),
		CustomerNumber: vars["customerNumber"], EntryID: id, IfMatch: match})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writePolicy(w, s.awaitRead(r, out.Outcome, http.StatusOK), out.Outcome, policyOf(out.Policy, vars["customerNumber"]))
}

// agentPolicy answers an agent's poll from the policies in memory: 304 when its If-None-Match
// names the current version, without reading any store.
func (s *Server) agentPolicy(w http.ResponseWriter, r *http.Request) {
	token, ok := httpx.BearerToken(r)
	if !ok || s.AgentContracts == nil {
		s.agentUnauthenticated(w, r, access.ErrUnauthenticated)
		return
	}
	cn, err := s.AgentContracts.AuthenticateAgent(r.Context(), token)
	if errors.Is(err, access.ErrUnauthenticated) {
		s.agentUnauthenticated(w, r, err)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.App.Queries.WebFilteringPolicies.Policy(cn)
	etag := policyETag(p.Version)
	h := w.Header()
	h.Set("ETag", etag)
	h.Set("Cache-Control", "no-cache")
	if noneMatch(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, policyOf(p, ""))
}

func (s *Server) agentUnauthenticated(w http.ResponseWriter, r *http.Request, err error) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="yorozu-agent"`)
	s.fail(w, r, err)
}

// noneMatch reports whether an If-None-Match header names etag (or is "*"); weak tags count.
func noneMatch(header, etag string) bool {
	if header == "" {
		return false
	}
	for _, tag := range strings.Split(header, ",") {
		tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
		if tag == "*" || tag == etag {
			return true
		}
	}
	return false
}
