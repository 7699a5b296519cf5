// Package mailer sends the mail magazine by SMTP with github.com/wneessen/go-mail: one connection
// per delivery attempt, one message per chunk of recipients, each recipient only in the envelope
// (RCPT TO), never in a header. The list account is the message's To and a recipient of every
// message.
//
// A server URL is smtp://[user:pass@]host[:port] (STARTTLS when the server offers it, port 587
// by default) or smtps://[user:pass@]host[:port] (TLS from the start, port 465 by default).
package mailer

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/mail"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
	gosmtp "github.com/wneessen/go-mail/smtp"

	"yorozu/commands"
	"yorozu/domain/mailmagazine"
)

// DefaultFrom is the magazine's sender address.
const DefaultFrom = "member@yorozu-sodan.com"

// DefaultTimeout bounds each SMTP command (and the connection set-up).
const DefaultTimeout = 30 * time.Second

// Config configures a Sender.
type Config struct {
	// URL is the server (see the package comment).
	URL string
	// From is the sender address (default DefaultFrom); ListTo the list account (default From:
	// the sender writes to itself and every recipient is in Bcc).
	From   string
	ListTo string
	// TLS, if set, is used for STARTTLS and smtps (trusted roots of a private CA); its
	// ServerName defaults to the URL's host.
	TLS *tls.Config
	// Timeout bounds each command (default DefaultTimeout).
	Timeout time.Duration
	// HELO is the name the client greets with (default: the host name).
	HELO string
}

// ErrInvalidConfig: the URL or an address cannot work.
var ErrInvalidConfig = errors.New("mailer: invalid configuration")

// Sender implements commands.MailSender.
type Sender struct {
	cfg    Config
	opts   []gomail.Option
	host   string
	domain string
}

// New checks cfg and returns a sender; nothing is contacted yet.
func New(cfg Config) (*Sender, error) {
	if cfg.From == "" {
		cfg.From = DefaultFrom
	}
	if cfg.ListTo == "" {
		cfg.ListTo = cfg.From
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	var errs []error
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		errs = append(errs, fmt.Errorf("--smtp %q is not smtp://[user:pass@]host[:port] or smtps://...", redact(cfg.URL)))
	}
	from, ferr := mail.ParseAddress(cfg.From)
	if ferr != nil || from.Name != "" {
		errs = append(errs, fmt.Errorf("--mail-from %q is not an address", cfg.From))
	}
	if to, err := mail.ParseAddress(cfg.ListTo); err != nil || to.Name != "" {
		errs = append(errs, fmt.Errorf("--mail-list-to %q is not an address", cfg.ListTo))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, errors.Join(errs...))
	}
	s := &Sender{cfg: cfg, host: u.Hostname(), domain: from.Address[strings.LastIndexByte(from.Address, '@')+1:]}
	port := 587
	tlsOpt := gomail.WithTLSPolicy(gomail.TLSOpportunistic)
	if u.Scheme == "smtps" {
		port, tlsOpt = 465, gomail.WithSSL()
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("%w: --smtp: bad port %q", ErrInvalidConfig, p)
		}
		port = n
	}
	s.opts = []gomail.Option{gomail.WithPort(port), tlsOpt, gomail.WithTimeout(cfg.Timeout)}
	if cfg.TLS != nil {
		tc := cfg.TLS.Clone()
		if tc.ServerName == "" {
			tc.ServerName = s.host
		}
		s.opts = append(s.opts, gomail.WithTLSConfig(tc))
	}
	if cfg.HELO != "" {
		s.opts = append(s.opts, gomail.WithHELO(cfg.HELO))
	}
	if u.User != nil {
		pass, _ := u.User.Password()
		s.opts = append(s.opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(u.User.Username()), gomail.WithPassword(pass))
	}
	return s, nil
}

// redact hides the password of a server URL in messages.
func redact(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		if u.User == nil {
			return raw
		}
		return u.Redacted()
	}
	// Unparsable: cut out whatever stands between the scheme and the last '@'.
	scheme, rest, ok := strings.Cut(raw, "://")
	if at := strings.LastIndexByte(rest, '@'); ok && at >= 0 {
		return scheme + "://xxxxx" + rest[at:]
	}
	return raw
}

// Open connects, greets, starts TLS when offered (or uses TLS from the start) and logs in.
func (s *Sender) Open(ctx context.Context) (commands.MailSession, error) {
	client, err := gomail.NewClient(s.host, s.opts...)
	if err != nil {
		return nil, err
	}
	conn, err := client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return nil, err
	}
	return &session{s: s, client: client, conn: conn}, nil
}

type session struct {
	s      *Sender
	client *gomail.Client
	conn   *gosmtp.Client
}

// Send transmits one message: MAIL FROM, RCPT TO the list account and every recipient, DATA.
// A recipient the server refuses for good (5xx) is reported as rejected, one it refuses for now
// (4xx) as deferred; either way the message goes to the others.
func (ss *session) Send(ctx context.Context, m commands.OutgoingMail) (commands.MailReceipt, error) {
	if err := ctx.Err(); err != nil {
		return commands.MailReceipt{}, err
	}
	s := ss.s
	if err := ss.conn.UpdateDeadline(s.cfg.Timeout); err != nil {
		return commands.MailReceipt{}, err
	}
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := msg.From(s.cfg.From); err != nil {
		return commands.MailReceipt{}, err
	}
	if err := msg.To(s.cfg.ListTo); err != nil {
		return commands.MailReceipt{}, err
	}
	msg.Subject(m.Subject)
	msg.SetDateWithValue(m.Date)
	id := m.Key + "@" + s.domain
	msg.SetMessageIDWithValue(id)
	msg.SetGenHeader(gomail.HeaderListUnsubscribe, "<mailto:"+s.cfg.From+"?subject=unsubscribe>")
	msg.SetBodyString(gomail.TypeTextPlain, m.Body)

	receipt := commands.MailReceipt{MessageID: "<" + id + ">"}
	if err := ss.conn.Mail(s.cfg.From); err != nil {
		return commands.MailReceipt{}, fmt.Errorf("MAIL FROM: %w", err)
	}
	if err := ss.conn.Rcpt(s.cfg.ListTo); err != nil {
		return commands.MailReceipt{}, fmt.Errorf("RCPT TO the list account %s: %w", s.cfg.ListTo, err)
	}
	for _, addr := range m.Bcc {
		err := ss.conn.Rcpt(addr)
		var reply *textproto.Error
		switch {
		case err == nil:
			receipt.Accepted = append(receipt.Accepted, addr)
		case errors.As(err, &reply) && reply.Code >= 500:
			receipt.Rejected = append(receipt.Rejected, mailmagazine.Rejection{Address: addr, Reason: fmt.Sprintf("%d %s", reply.Code, reply.Msg)})
		case errors.As(err, &reply) && reply.Code >= 400:
			receipt.Deferred = append(receipt.Deferred, addr)
		default:
			return commands.MailReceipt{}, fmt.Errorf("RCPT TO: %w", err)
		}
	}
	w, err := ss.conn.Data()
	if err != nil {
		return commands.MailReceipt{}, fmt.Errorf("DATA: %w", err)
	}
	if _, err := msg.WriteTo(w); err != nil {
		_ = w.Close()
		return commands.MailReceipt{}, fmt.Errorf("DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return commands.MailReceipt{}, fmt.Errorf("end of DATA: %w", err)
	}
	return receipt, nil
}

// Close says goodbye and closes the connection.
func (ss *session) Close() error {
	err := ss.client.CloseWithSMTPClient(ss.conn)
	if err != nil {
		_ = ss.conn.Close()
	}
	return err
}
