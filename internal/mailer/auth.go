package mailer

import (
	"errors"
	"fmt"
	"slices"

	"github.com/wneessen/go-mail/smtp"
)

// ErrLoginRefused: the server answered the login with a refusal (wrong
// user or password, or a user it does not allow): the one failure of
// SMTP AUTH a caller tells apart, to say what to correct.
var ErrLoginRefused = errors.New("mailer: the server refused the login")

// login is SMTP AUTH as the mailer does it: PLAIN (RFC 4616), or LOGIN
// when the server offers only that, and only inside TLS. It refuses
// plain text itself, also to localhost (go-mail's mechanisms let a
// localhost server have the password without TLS), and never uses the
// challenge–response mechanisms (CRAM-MD5, DIGEST-MD5, SCRAM), which a
// TLS session makes pointless and which need the server to keep a
// password equivalent.
type login struct {
	user, password, host string
	mech                 smtp.Auth // chosen by Start
	started              bool      // the password may have gone to the server
}

// Start chooses the mechanism from what the server offers.
func (a *login) Start(server *smtp.ServerInfo) (string, []byte, error) {
	if !server.TLS {
		return "", nil, errors.New("mailer: SMTP AUTH without TLS: the password was not sent")
	}
	switch {
	case slices.Contains(server.Auth, "PLAIN"):
		a.mech = smtp.PlainAuth("", a.user, a.password, a.host, false)
	case slices.Contains(server.Auth, "LOGIN"):
		a.mech = smtp.LoginAuth(a.user, a.password, a.host, false)
	default:
		return "", nil, fmt.Errorf("mailer: the server offers neither SMTP AUTH PLAIN nor LOGIN (it offers %v)", server.Auth)
	}
	a.started = true
	return a.mech.Start(server)
}

// Next answers the server's challenges (LOGIN asks for the user, then
// the password).
func (a *login) Next(fromServer []byte, more bool) ([]byte, error) {
	return a.mech.Next(fromServer, more)
}
