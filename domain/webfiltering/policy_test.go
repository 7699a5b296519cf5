package webfiltering_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/google/uuid"

	"yorozu/domain/webfiltering"
)

var inEffect = webfiltering.OptionState{InEffect: true}

func apply(p webfiltering.Policy, events ...any) webfiltering.Policy {
	for _, e := range events {
		if e != nil {
			p = p.Evolve(e)
		}
	}
	return p
}

func TestTheDefaultPolicyBlocksEveryItem(t *testing.T) {
	var p webfiltering.Policy
	if p.Enabled || p.Version != 0 || len(p.BlockedItems()) != 19 || !slices.Equal(p.BlockedItems(), webfiltering.Items()) {
		t.Fatalf("default policy: %+v, blocked %v", p, p.BlockedItems())
	}
}

func TestEnablingNeedsTheOption(t *testing.T) {
	var p webfiltering.Policy
	for _, opt := range []webfiltering.OptionState{{}, {Terminated: true}} {
		if _, err := p.SetEnabled("N000000001", true, opt); !errors.Is(err, webfiltering.ErrOptionNotInEffect) {
			t.Fatalf("enable with %+v: %v", opt, err)
		}
	}
	e, err := p.SetEnabled("N000000001", true, inEffect)
	if err != nil || e == nil {
		t.Fatalf("enable: %v, %v", e, err)
	}
	p = apply(p, e)
	if !p.Enabled || p.Version != 1 {
		t.Fatalf("enabled: %+v", p)
	}
	// Asking again for the state it has changes nothing; disabling needs no option.
	if again, err := p.SetEnabled("N000000001", true, inEffect); again != nil || err != nil {
		t.Fatalf("enable twice: %v, %v", again, err)
	}
	off, err := p.SetEnabled("N000000001", false, webfiltering.OptionState{})
	if err != nil || off.(*webfiltering.WebFilteringDisabled).Reason != webfiltering.ReasonRequested {
		t.Fatalf("disable: %v, %v", off, err)
	}
}

func TestTheEndOfTheOptionTurnsFilteringOff(t *testing.T) {
	var p webfiltering.Policy
	if e := p.EndOption("N000000001", webfiltering.OptionState{}); e != nil {
		t.Fatalf("ending the option of a disabled policy: %+v", e)
	}
	e, _ := p.SetEnabled("N000000001", true, inEffect)
	p = apply(p, e)
	if e := p.EndOption("N000000001", inEffect); e != nil {
		t.Fatalf("option still in effect: %+v", e)
	}
	end := p.EndOption("N000000001", webfiltering.OptionState{Terminated: true})
	if end == nil || end.Reason != webfiltering.ReasonOptionEnded {
		t.Fatalf("option ended: %+v", end)
	}
	if p = apply(p, end); p.Enabled || p.Version != 2 {
		t.Fatalf("after the option ended: %+v", p)
	}
}

func TestEntries(t *testing.T) {
	var p webfiltering.Policy
	add := func(list webfiltering.List, item, url string) (webfiltering.Entry, error) {
		t.Helper()
		target, err := webfiltering.NewTarget(item, url)
		if err != nil {
			return webfiltering.Entry{}, err
		}
		entry, e, err := p.AddEntry("N000000001", list, target, uuid.New(), inEffect)
		if e != nil {
			p = apply(p, e)
		}
		return entry, err
	}
	dating, err := add(webfiltering.ListAllow, "dating", "")
	if err != nil {
		t.Fatal(err)
	}
	lottery, _ := add(webfiltering.ListAllow, "lottery", "")
	if got := p.BlockedItems(); len(got) != 17 || slices.Contains(got, "dating") || slices.Contains(got, "lottery") {
		t.Fatalf("blocked items with dating and lottery allowed: %v", got)
	}
	// The same entry again is the same entry.
	if again, err := add(webfiltering.ListAllow, "dating", ""); err != nil || again.ID != dating.ID || p.Version != 2 {
		t.Fatalf("dating again: %+v, %v (version %d)", again, err, p.Version)
	}
	for _, item := range []string{"malware", "childAbuse", "phishingFraud", "illegalDrugs"} {
		if _, err := add(webfiltering.ListAllow, item, ""); !errors.Is(err, webfiltering.ErrNotAllowListable) {
			t.Fatalf("allowing %s: %v", item, err)
		}
	}
	if _, err := add(webfiltering.ListBlock, "malware", ""); err != nil {
		t.Fatalf("block-listing malware: %v", err)
	}
	if _, err := add(webfiltering.ListBlock, "gamblingSites", ""); !errors.Is(err, webfiltering.ErrUnknownItem) {
		t.Fatalf("unknown item: %v", err)
	}
	if _, err := add(webfiltering.ListBlock, "dating", ""); !errors.Is(err, webfiltering.ErrInOtherList) {
		t.Fatalf("dating on both lists: %v", err)
	}
	host, _ := add(webfiltering.ListBlock, "", "Ads.Example.COM")
	if host.URL != "ads.example.com" {
		t.Fatalf("host entry: %+v", host)
	}
	if again, _ := add(webfiltering.ListBlock, "", "ads.example.com"); again.ID != host.ID {
		t.Fatal("the same host in another case made a second entry")
	}
	rm, err := p.RemoveEntry("N000000001", lottery.ID, inEffect)
	if err != nil {
		t.Fatal(err)
	}
	p = apply(p, rm)
	if !slices.Contains(p.BlockedItems(), "lottery") || len(p.Allow) != 1 {
		t.Fatalf("after removing lottery: %+v", p)
	}
	if _, err := p.RemoveEntry("N000000001", lottery.ID, inEffect); !errors.Is(err, webfiltering.ErrEntryNotFound) {
		t.Fatalf("removing twice: %v", err)
	}
	target, _ := webfiltering.NewTarget("gambling", "")
	if _, _, err := p.AddEntry("N000000001", webfiltering.ListAllow, target, uuid.New(), webfiltering.OptionState{Terminated: true}); !errors.Is(err, webfiltering.ErrContractTerminated) {
		t.Fatalf("entry on a terminated contract: %v", err)
	}
}

func TestURLEntries(t *testing.T) {
	for raw, want := range map[string]string{
		"example.com":                       "example.com",
		"WWW.Example.co.jp.":                "www.example.co.jp",
		"例え.jp":                             "xn--r8jz45g.jp",
		"192.0.2.10":                        "192.0.2.10",
		"https://Example.com":               "https://example.com/",
		"HTTP://example.com:8080/a/b?x=1":   "http://example.com:8080/a/b?x=1",
		"https://shop.example.com/sale/%E3": "https://shop.example.com/sale/%E3",
	} {
		got, err := webfiltering.NormalizeURL(raw)
		if err != nil || got != want {
			t.Errorf("%q: %q, %v; want %q", raw, got, err, want)
		}
	}
	for _, raw := range []string{
		"", "example", "exa mple.com", "example.com/path", "ftp://example.com/", "https://", "https://user@example.com/",
		"https://example.com/#top", "https://example.com:0/", "https://example.com:99999/", "-bad-.com", "a..b.com",
		"1.2.3", "::1", "javascript:alert(1)", "https://exa_mple.com/", "example.com:80", "\u3000example.com",
	} {
		if got, err := webfiltering.NormalizeURL(raw); !errors.Is(err, webfiltering.ErrMalformedURL) {
			t.Errorf("%q: accepted as %q", raw, got)
		}
	}
}
