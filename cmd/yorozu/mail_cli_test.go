package main

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"yorozu/adapters/mailer/mailtest"
)

// TestServeDeliversTheMailMagazine runs the binary with the delivery flags: a bad --smtp stops
// the start, a good one makes the scheduler send a due issue (to nobody yet: no contract is open,
// so the issue is sent with 0 recipients as soon as it is due), and without --smtp issues stay
// scheduled.
func TestServeDeliversTheMailMagazine(t *testing.T) {
	c := newCLI(t, buildYorozu(t))
	if r := c.run("", "serve", "--data", filepath.Join(c.dir, "bad"), "--smtp", "http://mail.example.com"); r.code == 0 || !strings.Contains(r.stderr, "--smtp") {
		t.Fatalf("serve with a bad --smtp: exit %d: %s", r.code, r.stderr)
	}
	srv := mailtest.Start(t, mailtest.Options{})
	data := filepath.Join(c.dir, "data")
	alice := c.staffAdd(data, "alice", "operator", "correct horse battery staple")
	bob := c.staffAdd(data, "bob", "operator", "another long password") // a one-time code is good once
	s := c.serve("--data", data, "--smtp", srv.URL(""), "--mail-list-to", "list@example.jp", "--mail-from", "news@example.jp")
	tok := s.login(alice)
	var issue struct{ IssueID, Status string }
	s.expectJSON("POST", "/api/v1/mail-magazine/issues", tok, map[string]any{"subject": "件名", "body": "本文",
		"sendAt": time.Now().Add(time.Second).Format(time.RFC3339Nano)}, http.StatusCreated, &issue)
	deadline := time.Now().Add(30 * time.Second)
	for {
		var got struct{ Status string }
		s.expectJSON("GET", "/api/v1/mail-magazine/issues/"+issue.IssueID, tok, nil, http.StatusOK, &got)
		if got.Status == "sent" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("issue not sent within 30 s: %s\n%s", got.Status, s.logs)
		}
		time.Sleep(200 * time.Millisecond)
	}
	s.stop()

	s = c.serve("--data", data)
	tok = s.login(bob)
	s.expectJSON("POST", "/api/v1/mail-magazine/issues", tok, map[string]any{"subject": "件名", "body": "本文",
		"sendAt": time.Now().Format(time.RFC3339Nano)}, http.StatusCreated, &issue)
	time.Sleep(500 * time.Millisecond)
	var got struct{ Status string }
	s.expectJSON("GET", "/api/v1/mail-magazine/issues/"+issue.IssueID, tok, nil, http.StatusOK, &got)
	if got.Status != "scheduled" {
		t.Fatalf("without --smtp: %s", got.Status)
	}
	s.stop()
}
