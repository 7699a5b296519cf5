package mailer_test

import (
	"crypto/tls"
	"errors"
	"mime"
	"slices"
	"strings"
	"testing"
	"time"

	"yorozu/adapters/mailer"
	"yorozu/adapters/mailer/mailtest"
	"yorozu/commands"
)

func send(t *testing.T, cfg mailer.Config, m commands.OutgoingMail) (commands.MailReceipt, error) {
	t.Helper()
	s, err := mailer.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := s.Open(t.Context())
	if err != nil {
		return commands.MailReceipt{}, err
	}
	defer sess.Close()
	return sess.Send(t.Context(), m)
}

var issue = commands.OutgoingMail{Key: "issue-1.1", Subject: "今週のセキュリティ情報", Body: "本文です。\n二行目\n.\n最後",
	Date: time.Date(2025, 7, 2, 15, 0, 0, 0, time.FixedZone("JST", 9*3600)), Bcc: []string{"a@x.jp", "b@x.jp", "c@y.jp"}}

func TestRecipientsAreOnlyInTheEnvelope(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{})
	r, err := send(t, mailer.Config{URL: srv.URL(""), ListTo: "list@yorozu-sodan.com"}, issue)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.Accepted, issue.Bcc) || r.MessageID != "<issue-1.1@yorozu-sodan.com>" {
		t.Fatalf("receipt %+v", r)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	m := msgs[0]
	if m.From != mailer.DefaultFrom || !slices.Equal(m.To, []string{"list@yorozu-sodan.com", "a@x.jp", "b@x.jp", "c@y.jp"}) {
		t.Fatalf("envelope %s → %v", m.From, m.To)
	}
	h := m.Header
	if h.Get("To") != "<list@yorozu-sodan.com>" || h.Get("From") != "<member@yorozu-sodan.com>" ||
		h.Get("Message-Id") != "<issue-1.1@yorozu-sodan.com>" || h.Get("Date") != "Wed, 02 Jul 2025 15:00:00 +0900" ||
		h.Get("List-Unsubscribe") != "<mailto:member@yorozu-sodan.com?subject=unsubscribe>" || h.Get("Bcc") != "" {
		t.Fatalf("headers %v", h)
	}
	for _, rcpt := range issue.Bcc {
		if strings.Contains(string(m.Data), rcpt) {
			t.Fatalf("recipient %s appears in the message:\n%s", rcpt, m.Data)
		}
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
	if err != nil || subject != issue.Subject {
		t.Fatalf("subject %q (%v)", subject, err)
	}
}

func TestRefusedRecipients(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{Reject: map[string]bool{"b@x.jp": true}, Defer: map[string]bool{"c@y.jp": true}})
	r, err := send(t, mailer.Config{URL: srv.URL(""), ListTo: "list@yorozu-sodan.com"}, issue)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.Accepted, []string{"a@x.jp"}) || len(r.Rejected) != 1 || r.Rejected[0].Address != "b@x.jp" ||
		!strings.HasPrefix(r.Rejected[0].Reason, "550") || !slices.Equal(r.Deferred, []string{"c@y.jp"}) {
		t.Fatalf("receipt %+v", r)
	}
	if m := srv.Messages(); len(m) != 1 || !slices.Equal(m[0].To, []string{"list@yorozu-sodan.com", "a@x.jp"}) {
		t.Fatalf("messages %+v", m)
	}
}

func TestTemporaryFailureIsAnError(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{FailFirst: 1})
	cfg := mailer.Config{URL: srv.URL(""), ListTo: "list@yorozu-sodan.com"}
	if _, err := send(t, cfg, issue); err == nil || !strings.Contains(err.Error(), "451") {
		t.Fatalf("first attempt: %v", err)
	}
	if _, err := send(t, cfg, issue); err != nil {
		t.Fatalf("second attempt: %v", err)
	}
}

func TestADroppedConnectionIsAnError(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{DropAfter: 1})
	s, err := mailer.New(mailer.Config{URL: srv.URL(""), ListTo: "list@yorozu-sodan.com"})
	if err != nil {
		t.Fatal(err)
	}
	sess, err := s.Open(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	if _, err := sess.Send(t.Context(), issue); err != nil {
		t.Fatal(err)
	}
	if _, err := sess.Send(t.Context(), issue); err == nil {
		t.Fatal("the message the server hung up on counts as sent")
	}
	if n := len(srv.Messages()); n != 1 {
		t.Fatalf("%d messages accepted", n)
	}
}

func TestSTARTTLSAndLogin(t *testing.T) {
	serverTLS, roots := mailtest.SelfSigned(t)
	srv := mailtest.Start(t, mailtest.Options{TLS: serverTLS, Users: map[string]string{"yorozu": "p@ss word"}})
	cfg := mailer.Config{URL: srv.URL("yorozu:p%40ss%20word"), ListTo: "list@yorozu-sodan.com", TLS: &tls.Config{RootCAs: roots}}
	if _, err := send(t, cfg, issue); err != nil {
		t.Fatal(err)
	}
	if m := srv.Messages(); len(m) != 1 || !m[0].TLS || m[0].User != "yorozu" {
		t.Fatalf("session: %+v", m)
	}
	cfg.URL = srv.URL("yorozu:wrong")
	if _, err := send(t, cfg, issue); err == nil {
		t.Fatal("a wrong password sent mail")
	}
	// A server whose certificate is not trusted is not talked to.
	cfg.URL, cfg.TLS = srv.URL("yorozu:p%40ss%20word"), nil
	if _, err := send(t, cfg, issue); err == nil {
		t.Fatal("an untrusted certificate was accepted")
	}
}

func TestImplicitTLS(t *testing.T) {
	serverTLS, roots := mailtest.SelfSigned(t)
	srv := mailtest.Start(t, mailtest.Options{TLS: serverTLS, Implicit: true})
	if _, err := send(t, mailer.Config{URL: srv.URL(""), ListTo: "list@yorozu-sodan.com", TLS: &tls.Config{RootCAs: roots}}, issue); err != nil {
		t.Fatal(err)
	}
	if m := srv.Messages(); len(m) != 1 || !m[0].TLS {
		t.Fatalf("session: %+v", m)
	}
}

func TestConfiguration(t *testing.T) {
	for _, c := range []mailer.Config{
		{URL: "http://mail.example.com", ListTo: "list@example.com"},
		{URL: "smtp://", ListTo: "list@example.com"},
		{URL: "smtp://mail.example.com:99999", ListTo: "list@example.com"},
		{URL: "smtp://mail.example.com", ListTo: "list"},
		{URL: "smtp://mail.example.com", ListTo: "list@example.com", From: "not an address"},
	} {
		if _, err := mailer.New(c); !errors.Is(err, mailer.ErrInvalidConfig) {
			t.Errorf("%+v: %v", c, err)
		}
	}
	_, err := mailer.New(mailer.Config{URL: "smtp://user:secret@mail.example.com:bad"})
	if err == nil || strings.Contains(err.Error(), "secret") {
		t.Fatalf("error shows the password or is missing: %v", err)
	}
}
