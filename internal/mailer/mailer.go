package mailer

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"strconv"
	"time"

	mail "github.com/wneessen/go-mail"

	"github.com/urna-vote/urna/internal/roll"
)

// Config says how to reach the SMTP server.
type Config struct {
	Addr     string // host:port of the server (submission is usually port 587)
	From     string // the sender's address
	User     string // SMTP AUTH user; empty: no AUTH
	Password string
	RootCAs  *x509.CertPool // nil: the system's roots
	Timeout  time.Duration  // of each dial and command
}

// DefaultConfig has the timeout; Addr and From are the caller's.
func DefaultConfig() Config { return Config{Timeout: 2 * time.Minute} }

// Validate checks c.
func (c Config) Validate() error {
	host, port, err := net.SplitHostPort(c.Addr)
	if err != nil || host == "" {
		return fmt.Errorf("mailer: SMTP server %q: want host:port, e.g. smtp.example.org:587", c.Addr)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return fmt.Errorf("mailer: SMTP server %q: bad port", c.Addr)
	}
	if err := roll.CheckEmail(c.From); err != nil {
		return fmt.Errorf("mailer: sender %q: %w", c.From, err)
	}
	if c.User == "" && c.Password != "" {
		return errors.New("mailer: a password without a user")
	}
	if c.User != "" && c.Password == "" {
		return fmt.Errorf("mailer: no password for user %q", c.User)
	}
	if c.Timeout <= 0 {
		return errors.New("mailer: the timeout must be positive")
	}
	return nil
}

// Letter is one voter's e-mail.
type Letter struct {
	VoterID string
	To      string
	Subject string
	Text    string
	PDF     []byte // attached as <VoterID>.pdf
}

// Mailer sends letters over one connection at a time. It is not safe for
// concurrent use.
type Mailer struct {
	c      Config
	client *mail.Client
	open   bool
	conn   net.Conn // the newest connection dialled
	auth   *login   // nil without a user
}

// New checks c and returns a Mailer; nothing is dialled yet.
func New(c Config) (*Mailer, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	host, port, _ := net.SplitHostPort(c.Addr)
	p, _ := strconv.Atoi(port)
	m := &Mailer{c: c}
	opts := []mail.Option{
		mail.WithPort(p),
		mail.WithDialContextFunc(m.dial),
		mail.WithTimeout(c.Timeout),
		// STARTTLS or nothing (package doc).
		mail.WithTLSPolicy(mail.TLSMandatory),
		mail.WithTLSConfig(&tls.Config{ServerName: host, RootCAs: c.RootCAs, MinVersion: tls.VersionTLS12}),
	}
	if c.User != "" {
		m.auth = &login{user: c.User, password: c.Password, host: host}
		opts = append(opts, mail.WithSMTPAuthCustom(m.auth))
	}
	cl, err := mail.NewClient(host, opts...)
	if err != nil {
		return nil, fmt.Errorf("mailer: %w", err)
	}
	m.client = cl
	return m, nil
}

func (m *Mailer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: m.c.Timeout}
	conn, err := d.DialContext(ctx, network, addr)
	m.conn = conn
	return conn, err
}

// Dial connects, upgrades the connection with STARTTLS and authenticates;
// Send dials by itself, Dial lets a caller check the server before it
// does anything that cannot be undone.
func (m *Mailer) Dial(ctx context.Context) error {
	if m.open {
		return nil
	}
	m.conn = nil
	if m.auth != nil {
		m.auth.started = false
	}
	if err := m.client.DialWithContext(ctx); err != nil {
		// go-mail leaves the connection open when STARTTLS or AUTH fails.
		if m.conn != nil {
			m.conn.Close()
		}
		var te *textproto.Error
		if m.auth != nil && m.auth.started && errors.As(err, &te) && te.Code/100 == 5 {
			return fmt.Errorf("%w: %s: user %q: wrong user or password (%d %s)", ErrLoginRefused, m.c.Addr, m.c.User, te.Code, te.Msg)
		}
		return fmt.Errorf("mailer: %s: %w", m.c.Addr, err)
	}
	m.open = true
	return nil
}

// RefusedError is a letter the server would not take for its recipient
// (or at all); the other letters go on.
type RefusedError struct {
	VoterID, To string
	Temporary   bool // a 4xx answer: sending again later may work
	Err         error
}

func (e *RefusedError) Error() string {
	kind := "refused"
	if e.Temporary {
		kind = "deferred (try again later)"
	}
	return fmt.Sprintf("mailer: voter %s: the server %s the letter to %s: %v", e.VoterID, kind, e.To, e.Err)
}

func (e *RefusedError) Unwrap() error { return e.Err }

// Send sends one letter. A *RefusedError means the server refused this
// letter and the connection is fine for the next; any other error means
// the connection failed (it is closed, and the next Send dials again).
func (m *Mailer) Send(ctx context.Context, l Letter) error {
	msg, err := m.message(l)
	if err != nil {
		return err
	}
	if err := m.Dial(ctx); err != nil {
		return err
	}
	if err := m.client.Send(msg); err != nil {
		var se *mail.SendError
		if errors.As(err, &se) && (se.Reason == mail.ErrSMTPRcptTo || se.Reason == mail.ErrSMTPMailFrom ||
			se.Reason == mail.ErrSMTPDataClose) {
			return &RefusedError{VoterID: l.VoterID, To: l.To, Temporary: se.IsTemp(), Err: err}
		}
		m.Close()
		return fmt.Errorf("mailer: voter %s: sending to %s: %w", l.VoterID, l.To, err)
	}
	return nil
}

func (m *Mailer) message(l Letter) (*mail.Msg, error) {
	if err := roll.CheckEmail(l.To); err != nil {
		return nil, &RefusedError{VoterID: l.VoterID, To: l.To, Err: err}
	}
	msg := mail.NewMsg(mail.WithCharset(mail.CharsetUTF8), mail.WithEncoding(mail.EncodingQP))
	if err := msg.From(m.c.From); err != nil {
		return nil, fmt.Errorf("mailer: sender: %w", err)
	}
	if err := msg.To(l.To); err != nil {
		return nil, &RefusedError{VoterID: l.VoterID, To: l.To, Err: err}
	}
	msg.Subject(l.Subject)
	msg.SetMessageID()
	msg.SetDate()
	msg.SetBodyString(mail.TypeTextPlain, l.Text)
	if len(l.PDF) > 0 {
		if err := msg.AttachReader(l.VoterID+".pdf", bytes.NewReader(l.PDF), mail.WithFileContentType(mail.ContentType("application/pdf"))); err != nil {
			return nil, fmt.Errorf("mailer: voter %s: attaching the letter: %w", l.VoterID, err)
		}
	}
	return msg, nil
}

// Close ends the connection, if any.
func (m *Mailer) Close() error {
	if !m.open {
		return nil
	}
	m.open = false
	return m.client.Close()
}
