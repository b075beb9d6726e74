// Package mailer sends the voters' credential letters by e-mail: each
// message a plain-text body (the letter's text) with the PDF letter
// attached, over SMTP with STARTTLS required.
//
// Security: the connection MUST be upgraded with STARTTLS and the server's
// certificate MUST verify (the system's roots, or Config.RootCAs) before
// any command that carries an address, a password or a letter; a server
// that does not offer STARTTLS, or one a man in the middle stripped it
// from, gets nothing: there is no fallback to plain text, and no way to
// turn verification off. SMTP AUTH (when a user is given) runs only inside
// that TLS session, as PLAIN or LOGIN (auth.go): the login refuses a
// connection that is not TLS by itself too, and a refused login is
// ErrLoginRefused, told apart from a server that cannot be reached.
//
// A recipient the server refuses is reported for that voter and the others
// go on; a connection that breaks is dialled again for the next letter.
// The package never logs and keeps no letter.
package mailer
