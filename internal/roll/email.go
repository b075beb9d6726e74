package roll

import (
	"errors"
	"fmt"
	"strings"
)

// CheckEmail reports whether s is an e-mail address a roll accepts: a bare
// addr-spec local@domain (RFC 5322 §3.4.1) with a dot-atom local part of at
// most 64 characters and a domain of at least two DNS labels (letters,
// digits and inner hyphens; an internationalized domain in its xn-- form),
// at most 254 characters in all. Quoted local parts, display names,
// comments, address literals and non-ASCII addresses are refused: a roll
// line names one mailbox, and every mail server can take it.
func CheckEmail(s string) error {
	if len(s) > 254 {
		return fmt.Errorf("e-mail address is %d characters long, at most 254", len(s))
	}
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return errors.New("not an e-mail address: no @")
	}
	local, domain := s[:at], s[at+1:]
	if err := checkLocal(local); err != nil {
		return err
	}
	return checkDomain(domain)
}

func checkLocal(local string) error {
	switch {
	case local == "":
		return errors.New("nothing before the @")
	case len(local) > 64:
		return fmt.Errorf("the part before the @ is %d characters long, at most 64", len(local))
	case local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, ".."):
		return errors.New("a dot at the start or end of the part before the @, or two dots in a row")
	}
	for i := 0; i < len(local); i++ {
		c := local[i]
		if !isAtext(c) && c != '.' {
			return fmt.Errorf("%s before the @ (position %d)", describe(local[i:]), i+1)
		}
	}
	return nil
}

func isAtext(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

func checkDomain(domain string) error {
	if domain == "" {
		return errors.New("nothing after the @")
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return fmt.Errorf("domain %q has no dot: want a full domain such as example.org", domain)
	}
	for _, l := range labels {
		switch {
		case l == "":
			return fmt.Errorf("domain %q has an empty label (a dot at the start or end, or two in a row)", domain)
		case len(l) > 63:
			return fmt.Errorf("domain %q has a label longer than 63 characters", domain)
		case l[0] == '-' || l[len(l)-1] == '-':
			return fmt.Errorf("domain %q has a label starting or ending with -", domain)
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return fmt.Errorf("%s in the domain %q", describe(l[i:]), domain)
			}
		}
	}
	if tld := labels[len(labels)-1]; strings.Trim(tld, "0123456789") == "" {
		return fmt.Errorf("domain %q ends in a number: want a domain name, not an IP address", domain)
	}
	return nil
}

// describe names the first character of s for an error.
func describe(s string) string {
	r := []rune(s)[0]
	if r == ' ' {
		return "a space"
	}
	if r < 0x80 {
		return fmt.Sprintf("the character %q", r)
	}
	return fmt.Sprintf("the non-ASCII character %q (write the domain in its xn-- form; non-ASCII local parts are not accepted)", r)
}
