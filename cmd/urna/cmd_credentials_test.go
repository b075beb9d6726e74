package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/apiclient"
	"github.com/urna-vote/urna/internal/letters"
	"github.com/urna-vote/urna/internal/mailer"
	"github.com/urna-vote/urna/internal/roles"
	"github.com/urna-vote/urna/internal/roll"
	"github.com/urna-vote/urna/internal/testonly"
)

// caElection is testElection with a bilingual title; it returns the
// node's address and the credential authority's --dir.
func caElection(t *testing.T) (node, caDir string) {
	t.Helper()
	dir := t.TempDir()
	nodeFlag, _ := testElection(t, dir, `{"election_id":"roll-1","title":"Council 2027 理事会","threshold":2,
	 "questions":[{"text":"Q1","options":["A","B"],"min":1,"max":1}]}`, mustRun(t))
	return strings.TrimPrefix(nodeFlag, "--node="), filepath.Join(dir, "ca")
}

var credRE = regexp.MustCompile(`[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}`)

// TestCredentialsIssueRoll is `urna credentials issue --roll` as a
// credential authority runs it: letters mailed through postfix (STARTTLS),
// one refused by the server and one without an address written as PDFs,
// every credential on the board's list, and the CA's copy destroyed.
func TestCredentialsIssueRoll(t *testing.T) {
	smtp := testonly.SMTPServer(t)
	if _, err := exec.LookPath("pdftotext"); err != nil {
		testonly.Require(t, false, "pdftotext is not installed", "apt-get install poppler-utils")
	}
	node, ca := caElection(t)
	mark := strconv.FormatInt(time.Now().UnixNano(), 36)
	rollFile := filepath.Join(t.TempDir(), "roll.csv")
	os.WriteFile(rollFile, []byte("voter_id,name,contact,weight\n"+
		"a-"+mark+",Alice,alice@urna.test,1\n"+
		"n-"+mark+",Nobody,nobody@urna.test,1\n"+
		"c-"+mark+",张伟,,2\n"+
		"b-"+mark+",Bob,bob@urna.test,1\n"), 0o600)
	lettersDir := filepath.Join(t.TempDir(), "letters")
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"credentials", "issue", "--dir", ca, "--node=" + node, "--roll", rollFile,
		"--letters", lettersDir, "--booth", "https://vote.example.org/booth.html",
		"--smtp", smtp.Addr, "--smtp-ca", smtp.CAFile, "--from", "ca@urna.test"}, &out, &errOut)
	if err != nil {
		t.Fatalf("%v\n%s%s", err, out.String(), errOut.String())
	}
	t.Logf("stdout:\n%sstderr:\n%s", out.String(), errOut.String())
	for _, want := range []string{"posted 4 public credentials", "roll fingerprint ", "letters: 2 mailed, 2 written to " + lettersDir + " (1 of them after the mail server refused them)",
		"destroyed the credential authority's copy: 4 credentials in " + filepath.Join(ca, roles.CredentialsFile) + " overwritten and removed"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("stdout lacks %q", want)
		}
	}
	if credRE.MatchString(out.String() + errOut.String()) {
		t.Errorf("the command printed a credential:\n%s%s", out.String(), errOut.String())
	}
	if !strings.Contains(errOut.String(), "voter n-"+mark+" (line 3): mailer: voter n-"+mark+": the server refused the letter to nobody@urna.test") {
		t.Errorf("the refused recipient is not reported: %s", errOut.String())
	}
	if _, err := os.Stat(filepath.Join(ca, roles.CredentialsFile)); !os.IsNotExist(err) {
		t.Errorf("credentials.txt is still there: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(ca, RollPublicFile)); err != nil || string(b) != "voter_id,weight\na-"+mark+",1\nb-"+mark+",1\nc-"+mark+",2\nn-"+mark+",1\n" {
		t.Errorf("public roll: %q %v", b, err)
	}

	// Every voter's credential, from the mail or the PDF.
	creds := map[string]string{}
	for _, who := range []string{"alice", "bob"} {
		msg := smtp.Delivered(t, who, mark)
		creds[who] = credRE.FindString(msg)
	}
	for _, id := range []string{"n-" + mark, "c-" + mark} {
		pdf := filepath.Join(lettersDir, id+".pdf")
		if fi, err := os.Stat(pdf); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("letter %s: %v", pdf, err)
		}
		txt, err := exec.Command("pdftotext", pdf, "-").Output()
		if err != nil {
			t.Fatal(err)
		}
		creds[id] = credRE.FindString(string(txt))
	}
	if ents, _ := os.ReadDir(lettersDir); len(ents) != 2 {
		t.Errorf("%d files in the letters directory, want the 2 letters not mailed", len(ents))
	}
	cl, err := apiclient.New(node, apiclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ent, err := cl.Entry(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	e, err := bulletin.ParseEntry(ent.Entry)
	if err != nil {
		t.Fatal(err)
	}
	list, err := ballot.ParseCredentialList(e.Body)
	if err != nil {
		t.Fatal(err)
	}
	// The board's list is weighted (SPEC.md §5.3 version 2): it carries the
	// public roll's fingerprint (§5.4) and each voter's weight.
	rb, err := os.ReadFile(rollFile)
	if err != nil {
		t.Fatal(err)
	}
	voters, err := roll.Parse(bytes.NewReader(rb))
	if err != nil {
		t.Fatal(err)
	}
	if list.Version() != 2 || list.Roll != roll.Fingerprint(voters) || list.TotalWeight() != 5 {
		t.Errorf("board's list: version %d, roll %x (want %x), total weight %d (want 5)", list.Version(), list.Roll, roll.Fingerprint(voters), list.TotalWeight())
	}
	weightOf := map[string]uint32{"alice": 1, "bob": 1, "n-" + mark: 1, "c-" + mark: 2}
	seen := map[string]bool{}
	for who, s := range creds {
		c, err := ballot.ParseCredential(s)
		if err != nil {
			t.Fatalf("%s's letter: credential %q: %v", who, s, err)
		}
		k, err := c.Key("roll-1")
		if err != nil {
			t.Fatal(err)
		}
		if !list.Contains(k.Public()) || seen[s] {
			t.Errorf("%s's credential is not on the board's list, or repeated", who)
		}
		for i, pk := range list.Credentials {
			if pk.Equal(k.Public()) && list.Weight(i) != weightOf[who] {
				t.Errorf("%s's credential weighs %d on the board, want %d", who, list.Weight(i), weightOf[who])
			}
		}
		seen[s] = true
	}
}

// TestCredentialsIssueRollChecksFirst: a bad roll, a mail server without
// a trusted certificate or a name the font cannot print stop the command
// before anything is posted.
func TestCredentialsIssueRollChecksFirst(t *testing.T) {
	node, ca := caElection(t)
	dir := t.TempDir()
	issue := func(roll string, extra ...string) (string, error) {
		f := filepath.Join(dir, "roll.csv")
		os.WriteFile(f, []byte(roll), 0o600)
		var out bytes.Buffer
		err := run(context.Background(), append([]string{"credentials", "issue", "--dir", ca, "--node=" + node, "--roll", f, "--lang", "en",
			"--letters", filepath.Join(dir, "letters")}, extra...), &out, &out)
		if err != nil {
			reportError(&out, err)
		}
		return out.String(), err
	}
	out, err := issue("voter_id,name,contact,weight\nv1,A,,0\nv1,B,bad,1\n")
	if err == nil || !strings.Contains(out, "line 2: weight 0") || !strings.Contains(out, `line 3: voter id "v1" repeats the voter id of line 2`) ||
		!strings.Contains(out, `line 3: contact "bad"`) || !strings.Contains(out, "nothing was issued") {
		t.Errorf("bad roll: %v\n%s", err, out)
	}
	out, err = issue("voter_id,name,contact\nv1,王堃,\n", "--cjk-font", filepath.Join(dir, "missing.ttf"))
	if err == nil || !strings.Contains(out, "the letters' CJK font") {
		t.Errorf("missing font: %v\n%s", err, out)
	}
	out, err = issue("voter_id,name,contact\nv1,A,a@urna.test\n", "--smtp", "127.0.0.1:1", "--from", "ca@urna.test")
	if err == nil || !strings.Contains(out, "nothing was issued") {
		t.Errorf("no mail server: %v\n%s", err, out)
	}
	out, err = issue("voter_id,name,contact\nv1,A,\n", "--smtp", "127.0.0.1:1")
	if err == nil || !strings.Contains(out, "--smtp needs --from") {
		t.Errorf("no --from: %v\n%s", err, out)
	}
	// A wrong SMTP password, on the port that requires a login.
	auth := testonly.SMTPAuthServer(t)
	wrong := filepath.Join(dir, "smtp-password")
	os.WriteFile(wrong, []byte(auth.Password+"-wrong\n"), 0o600)
	out, err = issue("voter_id,name,contact\nv1,A,a@urna.test\n", "--smtp", auth.Addr, "--smtp-ca", auth.CAFile, "--from", "ca@urna.test",
		"--smtp-user", auth.User, "--smtp-password-file", wrong)
	if err == nil || !strings.Contains(out, "the server refused the login") || !strings.Contains(out, "--smtp-password-file; nothing was issued") {
		t.Errorf("a wrong SMTP password: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(ca, roles.CredentialsFile)); !os.IsNotExist(err) {
		t.Fatalf("credentials were issued: %v", err)
	}
	// Then a good roll goes through, English only, to paper.
	out, err = issue("voter_id,name,contact\nv1,Zoë,\nv2,,\n")
	if err != nil || !strings.Contains(out, "letters: 0 mailed, 2 written") || !strings.Contains(out, "destroyed the credential authority's copy: 2 credentials") {
		t.Fatalf("%v\n%s", err, out)
	}
}

// TestHandOutServerDown: when the mail server cannot be reached (twice in
// a row), that voter's letter and every later one are written as PDFs,
// and each is counted once.
func TestHandOutServerDown(t *testing.T) {
	mk, err := letters.New(letters.Election{ID: "e1", BoothURL: "https://vote.example.org/booth.html"}, letters.Config{Languages: []string{"en"}})
	if err != nil {
		t.Fatal(err)
	}
	c := mailer.DefaultConfig()
	c.Addr, c.From = testonly.FreeAddr(t), "ca@example.org" // nothing listens there
	ml, err := mailer.New(c)
	if err != nil {
		t.Fatal(err)
	}
	var errOut bytes.Buffer
	h := handOut{e: &env{stdout: &errOut, stderr: &errOut}, mk: mk, ml: ml, dir: t.TempDir()}
	for i, v := range []roll.Voter{{ID: "a", Contact: "a@example.org", Weight: 1}, {ID: "b", Weight: 1}, {ID: "c", Contact: "c@example.org", Weight: 1}} {
		cred, err := ballot.GenerateCredential(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		v.Line = i + 2
		h.voter(context.Background(), v, cred)
	}
	if h.mailed != 0 || h.written != 3 || h.refused != 1 || h.failed != 0 || h.ml != nil {
		t.Fatalf("mailed %d written %d refused %d failed %d", h.mailed, h.written, h.refused, h.failed)
	}
	if !strings.Contains(errOut.String(), "voter a (line 2): mailer: ") || !strings.Contains(errOut.String(), "the remaining letters are written to") {
		t.Errorf("stderr: %s", errOut.String())
	}
	for _, id := range []string{"a", "b", "c"} {
		if _, err := os.Stat(filepath.Join(h.dir, id+".pdf")); err != nil {
			t.Error(err)
		}
	}
}
