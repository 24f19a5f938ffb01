package notify

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"
)

// Email defaults.
const (
	DefaultEmailConns   = 4
	DefaultEmailTimeout = 30 * time.Second
)

// EmailOptions configure the email channel.
type EmailOptions struct {
	// SMTPURL is PHAROS_SMTP_URL: smtp://user:pass@host:587 (STARTTLS,
	// required when credentials are given, used when offered otherwise)
	// or smtps://user:pass@host:465 (TLS from the first byte). The query
	// may name the sender, ?from=status@example.org (default status@ the
	// host of BaseURL), and the connections kept open, ?pool=N (1–64,
	// default Conns).
	SMTPURL string
	// BaseURL is PHAROS_BASE_URL; every link of a mail is absolute under
	// it (or under the page's custom domain). Required.
	BaseURL string
	// SecretKey signs the manage and unsubscribe links
	// (PHAROS_SECRET_KEY); the web role checks them with the same key.
	SecretKey []byte
	// Conns is how many SMTP connections are kept open and reused
	// (default 4); sends beyond it wait for a free one.
	Conns int
	// Timeout bounds each SMTP exchange (default 30 s).
	Timeout time.Duration
	// TLSConfig overrides the TLS settings (tests trust their own CA).
	TLSConfig *tls.Config
	// Now stamps the Date header (default time.Now).
	Now func() time.Time
}

// Email is the email channel: one message per delivery over SMTP through
// a small pool of reused connections, text and HTML bodies, the RFC 8058
// one-click unsubscribe headers, List-Id, and threading headers so one
// incident's mails form one conversation. It also sends the double opt-in
// confirmation mails of the subscribe page (SendConfirmation).
type Email struct {
	opts   EmailOptions
	client *gomail.Client
	from   *mail.Address
	domain string // of the sender: Message-IDs and List-Id live under it
	// idle holds open connections; slots counts open ones (idle or busy).
	idle  chan *smtp.Client
	slots chan struct{}
}

var _ Sender = (*Email)(nil)

// NewEmail returns the email channel for opts.SMTPURL. It does not
// connect: the first send does.
func NewEmail(opts EmailOptions) (*Email, error) {
	if opts.Conns <= 0 {
		opts.Conns = DefaultEmailConns
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultEmailTimeout
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if len(opts.SecretKey) == 0 {
		return nil, errors.New("email: no secret key to sign unsubscribe links (PHAROS_SECRET_KEY)")
	}
	base, err := url.Parse(opts.BaseURL)
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" {
		return nil, errors.New("email: PHAROS_BASE_URL must be set to an absolute http(s) URL: every mail links back to it")
	}
	u, err := url.Parse(opts.SMTPURL)
	if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
		return nil, errors.New("email: PHAROS_SMTP_URL must look like smtp://user:pass@host:587 or smtps://user:pass@host:465")
	}
	if v := u.Query().Get("pool"); v != "" && opts.Conns == DefaultEmailConns {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 64 {
			return nil, fmt.Errorf("email: PHAROS_SMTP_URL pool=%q: want 1 to 64 connections", v)
		}
		opts.Conns = n
	}
	fromText := u.Query().Get("from")
	if fromText == "" {
		fromText = "status@" + base.Hostname()
	}
	from, err := mail.ParseAddress(fromText)
	if err != nil || strings.ContainsAny(from.Address, "\r\n") {
		return nil, fmt.Errorf("email: sender %q (the from= of PHAROS_SMTP_URL) is not an address", fromText)
	}
	domain := from.Address[strings.LastIndexByte(from.Address, '@')+1:]

	copts := []gomail.Option{gomail.WithTimeout(opts.Timeout), gomail.WithHELO(helo(base.Hostname()))}
	port := 587
	if u.Scheme == "smtps" {
		port = 465
		copts = append(copts, gomail.WithSSL())
	}
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil {
			return nil, fmt.Errorf("email: PHAROS_SMTP_URL port %q: %w", p, err)
		}
	}
	copts = append(copts, gomail.WithPort(port))
	if user := u.User.Username(); user != "" {
		pass, _ := u.User.Password()
		// Credentials never cross an unencrypted connection.
		copts = append(copts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover), gomail.WithUsername(user),
			gomail.WithPassword(pass), gomail.WithTLSPolicy(gomail.TLSMandatory))
	} else {
		copts = append(copts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	}
	if opts.TLSConfig != nil {
		copts = append(copts, gomail.WithTLSConfig(opts.TLSConfig))
	}
	client, err := gomail.NewClient(u.Hostname(), copts...)
	if err != nil {
		return nil, fmt.Errorf("email: %w", err)
	}
	return &Email{opts: opts, client: client, from: from, domain: strings.ToLower(domain),
		idle: make(chan *smtp.Client, opts.Conns), slots: make(chan struct{}, opts.Conns)}, nil
}

// helo is the name the client greets with: the service's host, or
// "localhost" when that is an address.
func helo(host string) string {
	if host == "" || net.ParseIP(host) != nil {
		return "localhost"
	}
	return host
}

// Close closes the idle connections; connections in use close when their
// send returns them.
func (e *Email) Close() error {
	var errs []error
	for {
		select {
		case c := <-e.idle:
			if err := e.client.CloseWithSMTPClient(c); err != nil {
				errs = append(errs, err)
			}
			<-e.slots
		default:
			return errors.Join(errs...)
		}
	}
}

// conn takes an idle connection, or opens one when fewer than Conns are
// open, or waits for one to come back.
func (e *Email) conn(ctx context.Context) (*smtp.Client, error) {
	select {
	case c := <-e.idle:
		return c, nil
	default:
	}
	select {
	case c := <-e.idle:
		return c, nil
	case e.slots <- struct{}{}:
		c, err := e.client.DialToSMTPClientWithContext(ctx)
		if err != nil {
			<-e.slots
			return nil, fmt.Errorf("email: connect: %w", err)
		}
		return c, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// release returns a healthy connection to the pool, or closes a broken one.
func (e *Email) release(c *smtp.Client, healthy bool) {
	if healthy {
		e.idle <- c // never blocks: at most Conns connections exist
		return
	}
	_ = e.client.CloseWithSMTPClient(c) // the connection is broken already; nothing to report
	<-e.slots
}

// send transmits one message. A pooled connection the server has closed
// meanwhile fails its NOOP check; the message is then sent on a new one.
func (e *Email) send(ctx context.Context, msg *gomail.Msg) error {
	for try := 0; ; try++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		c, err := e.conn(ctx)
		if err != nil {
			return err
		}
		err = e.client.SendWithSMTPClient(c, msg)
		var se *gomail.SendError
		stale := errors.As(err, &se) && se.Reason == gomail.ErrConnCheck
		healthy := err == nil || (errors.As(err, &se) && !stale && se.Reason != gomail.ErrWriteContent &&
			se.Reason != gomail.ErrSMTPDataClose && se.Reason != gomail.ErrSMTPReset)
		e.release(c, healthy)
		if stale && try == 0 {
			continue
		}
		return err
	}
}

// outcome maps an SMTP result to the notifier's Outcome: 2xx delivered; a
// 550/551/553 on the recipient means the mailbox is gone; other permanent
// (5xx) answers are rejected; the rest is retried.
func outcome(err error) (Outcome, error) {
	if err == nil {
		return Outcome{Status: Delivered, Code: 250}, nil
	}
	var se *gomail.SendError
	if !errors.As(err, &se) {
		return Outcome{Status: Retry, Detail: "smtp: " + err.Error()}, err
	}
	code := se.ErrorCode()
	out := Outcome{Code: code, Detail: fmt.Sprintf("smtp %d: %s", code, se.Reason)}
	if se.IsTemp() || code < 500 {
		out.Status = Retry
		return out, fmt.Errorf("email: %w", err)
	}
	if se.Reason == gomail.ErrSMTPRcptTo && (code == 550 || code == 551 || code == 553) {
		out.Status = Gone
		return out, nil
	}
	out.Status = Rejected
	return out, nil
}
