// Package mailtest runs a real SMTP server (github.com/emersion/go-smtp) inside a test process:
// it records every message it accepts with its envelope, and can be told to misbehave the ways
// mail servers do (refuse for now, refuse a recipient, drop the connection in the middle of a
// message), to offer STARTTLS, to speak TLS from the start and to require a login.
package mailtest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"net/mail"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Options choose how the server behaves.
type Options struct {
	// TLS, when set, is offered with STARTTLS; with Implicit the server speaks TLS from the start
	// (smtps).
	TLS      *tls.Config
	Implicit bool
	// Users, when set, must log in (AUTH PLAIN) before sending: user → password.
	Users map[string]string
	// FailFirst refuses that many MAIL FROM commands with 451 before accepting any.
	FailFirst int
	// DropAfter, when positive, drops the connection in the middle of the message that follows
	// the first DropAfter accepted ones (once).
	DropAfter int
	// HoldAfter, when positive, holds the message that follows the first HoldAfter accepted
	// ones (once): Holding tells when it arrives, and Release hangs up on it, as a server that
	// stalls and then dies.
	HoldAfter int
	// Reject refuses these recipients for good (550); Defer for now (451).
	Reject, Defer map[string]bool
}

// Message is one accepted message.
type Message struct {
	From   string
	To     []string
	Data   []byte
	Header mail.Header
	// TLS and User describe the session it came through.
	TLS  bool
	User string
}

// Server is a running test server.
type Server struct {
	// Addr is host:port.
	Addr string
	opts Options

	mu       sync.Mutex
	messages []Message
	refused  int
	dropped  bool
	held     bool
	failures int

	holding chan struct{}
	release chan struct{}
}

// Start runs a server on 127.0.0.1 until the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s := &Server{opts: opts, holding: make(chan struct{}), release: make(chan struct{})}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{s: s, conn: c}, nil
	}))
	srv.Domain = "mail.test"
	srv.ReadTimeout = 30 * time.Second
	srv.WriteTimeout = 30 * time.Second
	srv.MaxMessageBytes = 10 << 20
	srv.AllowInsecureAuth = false
	if !opts.Implicit {
		srv.TLSConfig = opts.TLS
	}
	var l net.Listener
	var err error
	if opts.Implicit {
		l, err = tls.Listen("tcp", "127.0.0.1:0", opts.TLS)
	} else {
		l, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		t.Fatalf("mailtest: listen: %v", err)
	}
	s.Addr = l.Addr().String()
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return s
}

// URL is the server's address for serve --smtp, with user:pass when given.
func (s *Server) URL(userinfo string) string {
	scheme := "smtp://"
	if s.opts.Implicit {
		scheme = "smtps://"
	}
	if userinfo != "" {
		userinfo += "@"
	}
	return scheme + userinfo + s.Addr
}

// Messages returns a copy of the accepted messages, in order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Failures counts the transactions refused or broken on purpose.
func (s *Server) Failures() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failures
}

// Holding is closed when the held message arrives (see Options.HoldAfter).
func (s *Server) Holding() <-chan struct{} { return s.holding }

// Release hangs up on the held message.
func (s *Server) Release() { close(s.release) }

// SetFailFirst makes the server refuse the next n MAIL FROM commands.
func (s *Server) SetFailFirst(n int) {
	s.mu.Lock()
	s.opts.FailFirst, s.refused = n, 0
	s.mu.Unlock()
}

type session struct {
	s    *Server
	conn *smtp.Conn
	user string
	from string
	to   []string
}

var _ smtp.AuthSession = (*session)(nil)

func (ss *session) AuthMechanisms() []string {
	if ss.s.opts.Users == nil {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain || ss.s.opts.Users == nil {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(_, username, password string) error {
		if want, ok := ss.s.opts.Users[username]; !ok || want != password {
			return smtp.ErrAuthFailed
		}
		ss.user = username
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.s.opts.Users != nil && ss.user == "" {
		return smtp.ErrAuthRequired
	}
	ss.s.mu.Lock()
	defer ss.s.mu.Unlock()
	if ss.s.refused < ss.s.opts.FailFirst {
		ss.s.refused++
		ss.s.failures++
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"}
	}
	ss.from, ss.to = from, nil
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	switch {
	case ss.s.opts.Reject[to]:
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user"}
	case ss.s.opts.Defer[to]:
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 2, 1}, Message: "Mailbox busy"}
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	ss.s.mu.Lock()
	drop := ss.s.opts.DropAfter > 0 && !ss.s.dropped && len(ss.s.messages) == ss.s.opts.DropAfter
	if drop {
		ss.s.dropped = true
		ss.s.failures++
	}
	hold := !drop && ss.s.opts.HoldAfter > 0 && !ss.s.held && len(ss.s.messages) == ss.s.opts.HoldAfter
	if hold {
		ss.s.held = true
		ss.s.failures++
	}
	ss.s.mu.Unlock()
	if hold {
		_, _ = io.ReadFull(r, make([]byte, 64))
		close(ss.s.holding)
		<-ss.s.release
		_ = ss.conn.Close()
		return errors.New("mailtest: connection dropped after a stall")
	}
	if drop {
		// Read a little of the message, then hang up: the client is left without an answer.
		_, _ = io.ReadFull(r, make([]byte, 64))
		_ = ss.conn.Close()
		return errors.New("mailtest: connection dropped on purpose")
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	msg := Message{From: ss.from, To: append([]string(nil), ss.to...), Data: data, User: ss.user}
	if _, ok := ss.conn.TLSConnectionState(); ok {
		msg.TLS = true
	}
	if m, err := mail.ReadMessage(bytes.NewReader(data)); err == nil {
		msg.Header = m.Header
	}
	ss.s.mu.Lock()
	ss.s.messages = append(ss.s.messages, msg)
	ss.s.mu.Unlock()
	return nil
}

func (ss *session) Reset()        { ss.from, ss.to = "", nil }
func (ss *session) Logout() error { return nil }

// SelfSigned makes a certificate for 127.0.0.1 and localhost: the server's TLS configuration and
// the roots a client must trust.
func SelfSigned(t testing.TB) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mailtest"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}}, MinVersion: tls.VersionTLS12}, pool
}
