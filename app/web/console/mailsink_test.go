package console_test

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"pharos/app/notify"
)

// mailSink is a real SMTP server on loopback that keeps what it receives.
type mailSink struct {
	addr  string
	mails chan sunkMail
	// delay holds every DATA this long (a slow mail server).
	delay atomic.Int64
}

// sunkMail is one received mail, decoded.
type sunkMail struct {
	to         []string
	header     mail.Header
	text, html string
}

type sinkSession struct {
	s  *mailSink
	to []string
}

func (ss *sinkSession) Mail(string, *smtp.MailOptions) error { return nil }
func (ss *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = append(ss.to, to)
	return nil
}
func (ss *sinkSession) Reset()        { ss.to = nil }
func (ss *sinkSession) Logout() error { return nil }

func (ss *sinkSession) Data(r io.Reader) error {
	time.Sleep(time.Duration(ss.s.delay.Load()))
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	m := sunkMail{to: ss.to, header: msg.Header}
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		return err
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		b, err := io.ReadAll(p) // quoted-printable is decoded by NextPart
		if err != nil {
			return err
		}
		switch ct := p.Header.Get("Content-Type"); {
		case strings.HasPrefix(ct, "text/plain"):
			m.text = string(b)
		case strings.HasPrefix(ct, "text/html"):
			m.html = string(b)
		}
	}
	ss.s.mails <- m
	return nil
}

// newMailSink starts an SMTP server and returns it with an email channel
// sending to it.
func newMailSink(t testing.TB) (*mailSink, *notify.Email) {
	t.Helper()
	s := &mailSink{mails: make(chan sunkMail, 100)}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &sinkSession{s: s}, nil }))
	srv.Domain = "sink.test"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.AllowInsecureAuth = true
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
	e, err := notify.NewEmail(notify.EmailOptions{SMTPURL: "smtp://" + s.addr + "?from=status@example.org",
		BaseURL: "https://status.example.org", SecretKey: []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return s, e
}

// next waits for the next mail.
func (s *mailSink) next(t testing.TB) sunkMail {
	t.Helper()
	select {
	case m := <-s.mails:
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no mail arrived within 10s")
		return sunkMail{}
	}
}

// none checks that no mail arrives for a moment.
func (s *mailSink) none(t testing.TB) {
	t.Helper()
	select {
	case m := <-s.mails:
		t.Errorf("unexpected mail to %v: %s", m.to, m.header.Get("Subject"))
	case <-time.After(300 * time.Millisecond):
	}
}

var linkPattern = regexp.MustCompile(`https?://[^\s"<>]+\?token=[A-Za-z0-9_%-]+`)

// pathOf returns the path and query of the first one-time link in text,
// to open on the test server.
func pathOf(t testing.TB, text string) string {
	t.Helper()
	raw := linkPattern.FindString(text)
	if raw == "" {
		t.Fatalf("no link in:\n%s", text)
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.RequestURI()
}
