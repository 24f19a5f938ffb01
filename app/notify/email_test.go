package notify_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"pharos/app/notify"
	"pharos/app/store"
)

// sink is a real SMTP server on loopback that keeps what it receives.
type sink struct {
	addr     string
	mails    chan received
	sessions atomic.Int32
	// reject maps a recipient to the SMTP error its RCPT gets.
	reject map[string]*smtp.SMTPError
	// user and pass, when set, are required (PLAIN over STARTTLS).
	user, pass string
	authed     atomic.Int32
	tlsSeen    atomic.Int32
}

type received struct {
	from string
	to   []string
	msg  *mail.Message
	raw  []byte
}

type sinkSession struct {
	s    *sink
	conn *smtp.Conn
	from string
	to   []string
	auth bool
}

func (ss *sinkSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (ss *sinkSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != ss.s.user || pass != ss.s.pass {
			return errors.New("bad credentials")
		}
		ss.auth = true
		ss.s.authed.Add(1)
		return nil
	}), nil
}

func (ss *sinkSession) Mail(from string, _ *smtp.MailOptions) error {
	if ss.s.user != "" && !ss.auth {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "authenticate first"}
	}
	if _, ok := ss.conn.TLSConnectionState(); ok {
		ss.s.tlsSeen.Add(1)
	}
	ss.from = from
	return nil
}

func (ss *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if e := ss.s.reject[to]; e != nil {
		return e
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *sinkSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	ss.s.mails <- received{from: ss.from, to: ss.to, msg: msg, raw: raw}
	return nil
}

func (ss *sinkSession) Reset()        { ss.from, ss.to = "", nil }
func (ss *sinkSession) Logout() error { return nil }

// newSink starts an SMTP server; withTLS offers STARTTLS with a
// self-signed certificate (returned for the client to trust).
func newSink(t testing.TB, withTLS bool) (*sink, *x509.CertPool) {
	t.Helper()
	s := &sink{mails: make(chan received, 20000), reject: map[string]*smtp.SMTPError{}}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		s.sessions.Add(1)
		return &sinkSession{s: s, conn: c}, nil
	}))
	srv.Domain = "sink.test"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.MaxMessageBytes = 1 << 20
	var pool *x509.CertPool
	if withTLS {
		cert, p := selfSigned(t)
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
		pool = p
	} else {
		srv.AllowInsecureAuth = true
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = l.Addr().String()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = srv.Serve(l) }()
	// Close forgets a listener Serve has not yet taken: closing it too ends
	// a Serve that starts after Close, which otherwise accepts forever.
	t.Cleanup(func() { srv.Close(); l.Close(); wg.Wait() })
	return s, pool
}

func selfSigned(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// next waits for the next mail.
func (s *sink) next(t testing.TB) received {
	t.Helper()
	select {
	case m := <-s.mails:
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no mail arrived within 10s")
		return received{}
	}
}

// bodies returns the text and HTML parts of a multipart/alternative mail.
func bodies(t testing.TB, m received) (text, html string) {
	t.Helper()
	mt, params, err := mime.ParseMediaType(m.msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q: want multipart/alternative", m.msg.Header.Get("Content-Type"))
	}
	r := multipart.NewReader(m.msg.Body, params["boundary"])
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			return text, html
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(p) // quoted-printable is decoded by NextPart
		if err != nil {
			t.Fatal(err)
		}
		switch ct := p.Header.Get("Content-Type"); {
		case strings.HasPrefix(ct, "text/plain"):
			text = string(b)
		case strings.HasPrefix(ct, "text/html"):
			html = string(b)
		}
	}
}

const testKey = "0123456789abcdef0123456789abcdef"

func newEmail(t testing.TB, s *sink, tweak func(*notify.EmailOptions)) *notify.Email {
	t.Helper()
	opts := notify.EmailOptions{SMTPURL: "smtp://" + s.addr + "?from=status@example.org",
		BaseURL: "https://status.example.org", SecretKey: []byte(testKey)}
	if tweak != nil {
		tweak(&opts)
	}
	e, err := notify.NewEmail(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func incidentMessage(id, kind, to string) notify.Message {
	return notify.Message{
		ID: id, Attempt: 1, Kind: kind, EventAt: time.Now(),
		Event: notify.Event{
			Page: notify.EventPage{ID: "7", Name: "ACME status", Slug: "acme", URL: "https://status.example.org/p/acme/",
				StatusIndicator: "major", StatusDescription: "Partial System Outage"},
			Incident: &notify.Incident{ID: "42", Name: "Images fail to load", Status: "investigating", PageID: "7",
				Shortlink:  "https://status.example.org/p/acme/incidents/42",
				Components: []notify.Component{{ID: "3", Name: "Media"}},
				IncidentUpdates: []notify.IncidentUpdate{{ID: "1", Status: "investigating", Body: "Looking <b>into</b> it.",
					DisplayAt: "2026-11-30T06:00:00.000Z"}}},
		},
		Subscriber: notify.Subscriber{ID: 9, OrgID: 1, PageID: 7, Kind: notify.KindEmail, Address: to},
	}
}

func TestEmailHeadersAndThreading(t *testing.T) {
	t.Parallel()
	s, _ := newSink(t, false)
	e := newEmail(t, s, nil)
	ctx := context.Background()
	first := incidentMessage("msg_a1", "incident.created", "ann@example.org")
	out, err := e.Send(ctx, first)
	if err != nil || out.Status != notify.Delivered {
		t.Fatalf("Send = %+v, %v; want delivered", out, err)
	}
	second := incidentMessage("msg_b2", "incident.updated", "ann@example.org")
	second.Event.Incident.Status = "identified"
	if out, err := e.Send(ctx, second); err != nil || out.Status != notify.Delivered {
		t.Fatalf("Send update = %+v, %v", out, err)
	}
	m1, m2 := s.next(t), s.next(t)
	h := m1.msg.Header
	if len(m1.to) != 1 || m1.to[0] != "ann@example.org" || m1.from != "status@example.org" {
		t.Errorf("envelope %s → %v, want status@example.org → ann@example.org", m1.from, m1.to)
	}
	sub := store.Subscriber{ID: 9, OrgID: 1, PageID: 7, Kind: store.SubscriberEmail, Address: "ann@example.org"}
	wantUnsub := "<https://status.example.org/p/acme/unsubscribe?token=" + store.ManageToken([]byte(testKey), sub) + ">"
	for name, want := range map[string]string{
		"List-Unsubscribe":      wantUnsub,
		"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
		"List-Id":               `"ACME status" <acme.pages.example.org>`,
		"Message-Id":            "<incident.42.7@example.org>",
		"Auto-Submitted":        "auto-generated",
		"Subject":               "[ACME status] Images fail to load (Investigating)",
	} {
		if got := h.Get(name); got != want {
			t.Errorf("%s: got %q, want %q", name, got, want)
		}
	}
	if d, err := h.Date(); err != nil || time.Since(d).Abs() > time.Minute {
		t.Errorf("Date %q: %v; want now", h.Get("Date"), err)
	}
	h2 := m2.msg.Header
	if h2.Get("In-Reply-To") != "<incident.42.7@example.org>" || h2.Get("References") != "<incident.42.7@example.org>" ||
		h2.Get("Message-Id") != "<msg_b2@example.org>" {
		t.Errorf("update threading: Message-ID %q In-Reply-To %q References %q; want its own id answering the incident's",
			h2.Get("Message-Id"), h2.Get("In-Reply-To"), h2.Get("References"))
	}
	text, html := bodies(t, m1)
	link := strings.Trim(wantUnsub, "<>")
	if !strings.Contains(text, "Unsubscribe: "+link) || !strings.Contains(text, "Looking <b>into</b> it.") {
		t.Errorf("text body lacks the unsubscribe link or the update:\n%s", text)
	}
	if !strings.Contains(html, `href="`+strings.ReplaceAll(link, "&", "&amp;")+`"`) && !strings.Contains(html, `href="`+link+`"`) {
		t.Errorf("HTML body lacks a visible unsubscribe link:\n%s", html)
	}
	if strings.Contains(html, "<b>into</b>") || !strings.Contains(html, "&lt;b&gt;into&lt;/b&gt;") {
		t.Errorf("HTML body does not escape the update text:\n%s", html)
	}
}

func TestEmailRefusesHeaderInjection(t *testing.T) {
	t.Parallel()
	s, _ := newSink(t, false)
	e := newEmail(t, s, nil)
	ctx := context.Background()
	m := incidentMessage("msg_x", "incident.created", "ann@example.org")
	m.Event.Page.Name = "ACME\r\nBcc: victim@example.org"
	m.Event.Incident.Name = "Down\r\nX-Injected: yes\n\nbody"
	if out, err := e.Send(ctx, m); err != nil || out.Status != notify.Delivered {
		t.Fatalf("Send = %+v, %v", out, err)
	}
	got := s.next(t)
	head := string(got.raw[:bytes.Index(got.raw, []byte("\r\n\r\n"))])
	for _, bad := range []string{"\r\nBcc:", "\r\nX-Injected:"} {
		if strings.Contains(head, bad) {
			t.Errorf("header %q injected:\n%s", bad, head)
		}
	}
	if len(got.to) != 1 {
		t.Errorf("recipients %v, want only the subscriber", got.to)
	}
	bad := incidentMessage("msg_y", "incident.created", "ann@example.org\r\nBcc: victim@example.org")
	if out, _ := e.Send(ctx, bad); out.Status != notify.Rejected {
		t.Errorf("recipient with CR/LF: got %v, want rejected", out.Status)
	}
}

// TestEmailPageTitleWithQuotes: a page title with quotes and a backslash
// is a valid display name: the mail goes out and its From names the page.
func TestEmailPageTitleWithQuotes(t *testing.T) {
	t.Parallel()
	s, _ := newSink(t, false)
	e := newEmail(t, s, nil)
	m := incidentMessage("msg_q", "incident.created", "ann@example.org")
	m.Event.Page.Name = `ACME "Prod" \ status`
	if out, err := e.Send(context.Background(), m); err != nil || out.Status != notify.Delivered {
		t.Fatalf("Send = %+v, %v; want delivered", out, err)
	}
	from, err := mail.ParseAddress(s.next(t).msg.Header.Get("From"))
	if err != nil || from.Name != `ACME "Prod" \ status` || from.Address != "status@example.org" {
		t.Errorf("From = %+v, %v; want the page's title and status@example.org", from, err)
	}
}

func TestEmailOutcomes(t *testing.T) {
	t.Parallel()
	s, _ := newSink(t, false)
	s.reject["gone@example.org"] = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	s.reject["busy@example.org"] = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}
	e := newEmail(t, s, nil)
	ctx := context.Background()
	for _, tc := range []struct {
		to   string
		want notify.Status
		err  bool
	}{
		{"gone@example.org", notify.Gone, false},
		{"busy@example.org", notify.Retry, true},
		{"ok@example.org", notify.Delivered, false},
	} {
		out, err := e.Send(ctx, incidentMessage("msg_"+tc.to[:2], "incident.updated", tc.to))
		if out.Status != tc.want || (err != nil) != tc.err {
			t.Errorf("%s: got %v, %v; want %v (error %v)", tc.to, out.Status, err, tc.want, tc.err)
		}
	}
}

// TestEmailPoolsConnections sends many mails at once over at most Conns
// reused connections.
func TestEmailPoolsConnections(t *testing.T) {
	t.Parallel()
	s, _ := newSink(t, false)
	e := newEmail(t, s, func(o *notify.EmailOptions) { o.SMTPURL += "&pool=3" })
	ctx := context.Background()
	const n = 200
	var wg sync.WaitGroup
	var failed atomic.Int32
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := e.Send(ctx, incidentMessage("msg_p"+string(rune('a'+i%26))+strings.Repeat("x", i/26), "incident.updated", "p@example.org"))
			if err != nil || out.Status != notify.Delivered {
				failed.Add(1)
			}
		}()
	}
	wg.Wait()
	if failed.Load() != 0 {
		t.Fatalf("%d of %d sends failed", failed.Load(), n)
	}
	for range n {
		s.next(t)
	}
	if got := s.sessions.Load(); got > 3 {
		t.Errorf("%d SMTP sessions for %d mails, want at most 3 (pooled)", got, n)
	}
}

// TestEmailSTARTTLSAndAuth sends over STARTTLS with PLAIN credentials from
// the URL, and refuses to send credentials without TLS.
func TestEmailSTARTTLSAndAuth(t *testing.T) {
	t.Parallel()
	s, pool := newSink(t, true)
	s.user, s.pass = "mailer", "s3cret"
	e := newEmail(t, s, func(o *notify.EmailOptions) {
		o.SMTPURL = "smtp://mailer:s3cret@" + s.addr + "?from=status@example.org"
		o.TLSConfig = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	})
	out, err := e.Send(context.Background(), incidentMessage("msg_tls", "incident.updated", "ann@example.org"))
	if err != nil || out.Status != notify.Delivered {
		t.Fatalf("Send over STARTTLS = %+v, %v", out, err)
	}
	s.next(t)
	if s.authed.Load() != 1 || s.tlsSeen.Load() != 1 {
		t.Errorf("authenticated %d times, over TLS %d times; want 1 and 1", s.authed.Load(), s.tlsSeen.Load())
	}

	plain, _ := newSink(t, false)
	plain.user, plain.pass = "mailer", "s3cret"
	e2 := newEmail(t, plain, func(o *notify.EmailOptions) {
		o.SMTPURL = "smtp://mailer:s3cret@" + plain.addr + "?from=status@example.org"
	})
	if out, _ := e2.Send(context.Background(), incidentMessage("msg_plain", "incident.updated", "ann@example.org")); out.Status == notify.Delivered {
		t.Error("credentials were sent over a connection without STARTTLS")
	}
	if plain.authed.Load() != 0 {
		t.Error("the server saw the credentials in the clear")
	}
}

func TestNewEmailNeedsBaseURLAndKey(t *testing.T) {
	t.Parallel()
	for name, o := range map[string]notify.EmailOptions{
		"no base URL": {SMTPURL: "smtp://127.0.0.1:25", SecretKey: []byte(testKey)},
		"no key":      {SMTPURL: "smtp://127.0.0.1:25", BaseURL: "https://status.example.org"},
		"bad scheme":  {SMTPURL: "http://127.0.0.1:25", BaseURL: "https://status.example.org", SecretKey: []byte(testKey)},
		"bad from":    {SMTPURL: "smtp://127.0.0.1:25?from=x%0d%0aBcc:y", BaseURL: "https://status.example.org", SecretKey: []byte(testKey)},
		"bad pool":    {SMTPURL: "smtp://127.0.0.1:25?pool=0", BaseURL: "https://status.example.org", SecretKey: []byte(testKey)},
	} {
		if _, err := notify.NewEmail(o); err == nil {
			t.Errorf("%s: NewEmail succeeded, want an error", name)
		}
	}
}
