package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// TestAttackCLISecrets runs a whole election through the role commands
// against an in-process node on loopback, and checks that (1) no output of
// `urna vote`, `urna trustee`, `urna credentials` or `urna authority`
// contains a credential or a byte of secret key material, and (2) the
// commands refuse secret files that other users could read.
func TestAttackCLISecrets(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix permission bits")
	}
	dir := t.TempDir()
	p := func(s string) string { return filepath.Join(dir, s) }

	var all bytes.Buffer // every byte any command printed
	urna := func(args ...string) error {
		t.Helper()
		out, printed, err := runUrna(args...) // printed ends with what main prints on failure
		all.WriteString(out + printed)
		return err
	}
	must := func(args ...string) {
		t.Helper()
		if err := urna(args...); err != nil {
			t.Fatalf("urna %s: %v\n%s", strings.Join(args, " "), err, all.String())
		}
	}
	N := openTestElection(t, dir, `{"election_id":"attack-1","title":"Attack","threshold":2,
	 "questions":[{"text":"Q1","options":["A","B"],"min":1,"max":1}]}`, must, 3)

	creds, err := os.ReadFile(p("ca/credentials.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var credList []string // credList[i] is voter i+1's credential
	for _, line := range strings.Split(strings.TrimSpace(string(creds)), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		credList = append(credList, f[len(f)-1])
	}
	os.MkdirAll(p("receipts"), 0o700)
	must("vote", N, "--credential-file", p("ca/credentials.txt"), "--voter", "1", "--choices", "1", "--receipt-dir", p("receipts"))
	must("vote", N, "--credential", credList[0], "--choices", "2", "--challenge", "--receipt-dir", p("receipts"))
	one := p("voter3.txt")
	os.WriteFile(one, []byte(credList[1]+"\n"), 0o600)
	must("vote", N, "--credential-file", one, "--choices", "2", "--receipt-dir", p("receipts"))

	// Secret files readable by others are refused, and nothing is posted.
	perms := []struct {
		file string
		args []string
	}{
		{one, []string{"vote", N, "--credential-file", one, "--choices", "1", "--receipt-dir", p("receipts")}},
		{p("ca/credentials.txt"), []string{"vote", N, "--credential-file", p("ca/credentials.txt"), "--voter", "2", "--choices", "1"}},
		{p("t1/trustee.key"), []string{"trustee", "decrypt", "--dir", p("t1"), N}},
		{p("ea/authority.key"), []string{"authority", "close", "--dir", p("ea"), N}},
	}
	for _, pc := range perms {
		for _, mode := range []os.FileMode{0o644, 0o640, 0o604} {
			os.Chmod(pc.file, mode)
			err := urna(pc.args...)
			if err == nil || !strings.Contains(err.Error(), "permissions") {
				t.Errorf("%s with mode %04o: %v", filepath.Base(pc.file), mode, err)
			}
		}
		os.Chmod(pc.file, 0o600)
	}
	// A mistyped credential is not echoed back.
	// The first symbol is changed to another symbol (not a look-alike, which
	// the parser folds: O for 0), so the check symbol no longer matches.
	other := "A"
	if credList[0][:1] == "A" {
		other = "B"
	}
	typo := other + credList[0][1:]
	if err := urna("vote", N, "--credential", typo, "--choices", "1", "--receipt-dir", p("receipts")); err == nil {
		t.Error("a mistyped credential was accepted")
	}

	// Steps out of phase name the command that comes next.
	outOfPhase := func(want string, args ...string) {
		t.Helper()
		err := urna(args...)
		var h hinter
		if err == nil || !errors.As(err, &h) || !strings.Contains(h.Hint(), want) {
			var buf bytes.Buffer
			if err != nil {
				reportError(&buf, err)
			}
			t.Errorf("urna %s before its phase: want a hint naming %q, got:\n%s", strings.Join(args, " "), want, buf.String())
		}
	}
	outOfPhase("urna authority close", "trustee", "decrypt", "--dir", p("t1"), N)
	must("authority", "close", "--dir", p("ea"), N)
	outOfPhase("urna check-receipt", "vote", N, "--credential-file", one, "--choices", "1", "--receipt-dir", p("receipts"))
	outOfPhase("urna trustee decrypt", "tally", "--dir", p("ea"), N)
	must("trustee", "decrypt", "--dir", p("t1"), N)
	must("trustee", "decrypt", "--dir", p("t2"), N)
	must("tally", "--dir", p("ea"), N)

	// Secrets: every credential (with and without its dashes) and every
	// long token of a secret key file that its public file does not hold.
	printed := all.String()
	secrets := map[string]string{}
	for i, c := range append(credList, typo) {
		secrets[c] = fmt.Sprintf("credential %d", i+1)
		secrets[strings.ReplaceAll(c, "-", "")] = fmt.Sprintf("credential %d without dashes", i+1)
	}
	token := regexp.MustCompile(`[A-Za-z0-9_\-+/=]{16,}`)
	for _, kf := range []string{"ea/authority.key", "ca/credential-authority.key", "t1/trustee.key", "t2/trustee.key", "t3/trustee.key"} {
		sec, err := os.ReadFile(p(kf))
		if err != nil {
			t.Fatal(err)
		}
		pub, _ := os.ReadFile(p(strings.TrimSuffix(kf, ".key") + ".pub"))
		for _, tok := range token.FindAllString(string(sec), -1) {
			if !bytes.Contains(pub, []byte(tok)) {
				secrets[tok] = kf
			}
		}
	}
	if len(secrets) < 10 {
		t.Fatalf("found only %d secrets to look for", len(secrets))
	}
	for s, what := range secrets {
		if strings.Contains(printed, s) {
			t.Errorf("the output contains %s", what)
		}
		// Also 16-character pieces, in case a secret is printed in part.
		if len(s) > 40 {
			for i := 0; i+16 <= len(s); i += 8 {
				if strings.Contains(printed, s[i:i+16]) {
					t.Errorf("the output contains part of %s", what)
					break
				}
			}
		}
	}
	t.Logf("%d bytes of output checked for %d secrets", len(printed), len(secrets))
}
