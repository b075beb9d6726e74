package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/internal/apiclient"
	"github.com/urna-vote/urna/internal/keyfile"
	"github.com/urna-vote/urna/internal/letters"
	"github.com/urna-vote/urna/internal/mailer"
	"github.com/urna-vote/urna/internal/roles"
	"github.com/urna-vote/urna/internal/roll"
	"github.com/urna-vote/urna/internal/server"
	"github.com/urna-vote/urna/internal/textreport"
)

// RollPublicFile is the public roll (voter_id,weight, SPEC.md §5.4) that
// `credentials issue --roll` writes beside the credentials.
const RollPublicFile = "roll-public.csv"

// letterOpts are the flags of `credentials issue --roll`.
type letterOpts struct {
	roll, letters, booth, lang, cjkFont        *string
	cjkFace                                    *int
	smtp, smtpUser, smtpPassFile, smtpCA, from *string
}

func letterFlags(fs *flag.FlagSet) *letterOpts {
	return &letterOpts{
		roll:         fs.String("roll", "", "voter roll: a CSV `file` with the header voter_id,name,contact[,weight]"),
		letters:      fs.String("letters", "", "`directory` for the PDF letters of the voters not reached by e-mail (default: --dir/letters)"),
		booth:        fs.String("booth", "", "the booth's `URL` printed on the letters (default: the first --node + /booth.html)"),
		lang:         fs.String("lang", strings.Join(letters.Languages, ","), "the letters' `languages`, comma-separated"),
		cjkFont:      fs.String("cjk-font", letters.DebianCJKFont, "TrueType `file` (.ttf, or a .ttc collection) with Chinese glyphs for the letters (Debian: fonts-arphic-gbsn00lp)"),
		cjkFace:      fs.Int("cjk-face", 0, "which `face` of a --cjk-font collection (.ttc) to use, from 0"),
		smtp:         fs.String("smtp", "", "mail the letters through this SMTP server `host:port` (STARTTLS required)"),
		smtpUser:     fs.String("smtp-user", "", "SMTP AUTH `user`"),
		smtpPassFile: fs.String("smtp-password-file", "", "owner-only `file` holding the SMTP AUTH password"),
		smtpCA:       fs.String("smtp-ca", "", "PEM `file` of the CA that signed the SMTP server's certificate (default: the system's CAs)"),
		from:         fs.String("from", "", "the letters' sender `address`"),
	}
}

// any reports whether a flag other than --roll was given.
func (o *letterOpts) any() bool {
	return *o.letters != "" || *o.booth != "" || *o.smtp != "" || *o.smtpUser != "" || *o.smtpPassFile != "" || *o.smtpCA != "" || *o.from != ""
}

// mailConfig builds the mailer's configuration from the flags (nil without --smtp).
func (o *letterOpts) mailConfig() (*mailer.Config, error) {
	if *o.smtp == "" {
		if *o.smtpUser != "" || *o.smtpPassFile != "" || *o.smtpCA != "" || *o.from != "" {
			return nil, usagef("--smtp-user, --smtp-password-file, --smtp-ca and --from need --smtp")
		}
		return nil, nil
	}
	c := mailer.DefaultConfig()
	c.Addr, c.From, c.User = *o.smtp, *o.from, *o.smtpUser
	if c.From == "" {
		return nil, withHint(errors.New("urna credentials issue: --smtp needs --from"), "give the sender's address, e.g. --from elections@example.org")
	}
	if *o.smtpPassFile != "" {
		pw, err := keyfile.Read(*o.smtpPassFile)
		if err != nil {
			return nil, fmt.Errorf("urna credentials issue: --smtp-password-file: %w", err)
		}
		c.Password = strings.TrimRight(string(pw), "\r\n")
	}
	if *o.smtpCA != "" {
		pool, err := server.ReadCertPool(*o.smtpCA)
		if err != nil {
			return nil, fmt.Errorf("urna credentials issue: --smtp-ca: %w", err)
		}
		c.RootCAs = pool
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("urna credentials issue: %w", err)
	}
	return &c, nil
}

// issueFromRoll is `credentials issue --roll`: everything that can fail
// is checked before the credentials are posted (the roll, the fonts and
// every name, the mail server's STARTTLS and login, the letters
// directory); then it issues, hands each letter out (e-mail, else a PDF
// file), and destroys credentials.txt once every voter's letter is
// delivered or written.
func issueFromRoll(ctx context.Context, e *env, dir string, nodes *nodeList, o *letterOpts) error {
	f, err := os.Open(*o.roll)
	if err != nil {
		return fmt.Errorf("urna credentials issue: --roll: %w", err)
	}
	voters, err := roll.Parse(f)
	f.Close()
	if err != nil {
		return withHint(fmt.Errorf("urna credentials issue: %s: %w", *o.roll, err), "correct every line listed and run the command again: nothing was issued")
	}
	mc, err := o.mailConfig()
	if err != nil {
		return err
	}
	booth := *o.booth
	if booth == "" {
		booth = strings.TrimRight(nodes.primary(), "/") + "/booth.html"
	}
	lettersDir := *o.letters
	if lettersDir == "" {
		lettersDir = filepath.Join(dir, "letters")
	}

	// The election as the node states it, to check the letters before
	// anything is posted; its fingerprint is compared with the verified
	// board's below.
	cl, _, err := nodes.clients("credentials issue")
	if err != nil {
		return err
	}
	st, err := cl.Election(ctx)
	if err != nil {
		return roleError("credentials issue", nodes.primary(), err)
	}
	man, err := ballot.ParseManifest(st.Manifest)
	if err != nil {
		return fmt.Errorf("urna credentials issue: the node's manifest: %w", err)
	}
	langs := strings.Split(*o.lang, ",")
	cfg := letters.Config{Languages: langs, CJKFontName: *o.cjkFont, CJKFontIndex: *o.cjkFace}
	if needsCJK(langs, man.Title, voters) {
		if cfg.CJKFont, err = os.ReadFile(*o.cjkFont); err != nil {
			return withHint(fmt.Errorf("urna credentials issue: the letters' CJK font: %w", err),
				"install Debian's fonts-arphic-gbsn00lp, give another TrueType font with --cjk-font, or write English-only letters with --lang en")
		}
	}
	// Without --election the board's default election: its booth URL
	// needs no election=.
	mk, err := letters.New(letters.Election{ID: man.ElectionID, Title: man.Title, Fingerprint: man.Fingerprint(), BoothURL: booth,
		Default: *nodes.election == ""}, cfg)
	if err != nil {
		return withHint(fmt.Errorf("urna credentials issue: %w", err), "nothing was issued")
	}
	var bad []string
	for _, v := range voters {
		if err := mk.Check(v); err != nil {
			bad = append(bad, fmt.Sprintf("line %d: %v", v.Line, err))
		}
	}
	if len(bad) > 0 {
		return withHint(fmt.Errorf("urna credentials issue: %s: %d letters cannot be printed:\n  %s", *o.roll, len(bad), strings.Join(bad, "\n  ")),
			"give a font that has these characters with --cjk-font, or correct the names: nothing was issued")
	}
	var ml *mailer.Mailer
	if mc != nil {
		if ml, err = mailer.New(*mc); err == nil {
			// STARTTLS and the login work, before anything is posted; the
			// letters go over a new connection (issuing may outlast the
			// server's idle timeout).
			err = ml.Dial(ctx)
			ml.Close()
		}
		if errors.Is(err, mailer.ErrLoginRefused) {
			return withHint(fmt.Errorf("urna credentials issue: %w", err), "check --smtp-user and the password in --smtp-password-file; nothing was issued")
		}
		if err != nil {
			return withHint(fmt.Errorf("urna credentials issue: %w", err), "check --smtp, --smtp-ca and the login; nothing was issued")
		}
		defer ml.Close()
	}
	if err := os.MkdirAll(lettersDir, 0o700); err != nil {
		return fmt.Errorf("urna credentials issue: --letters: %w", err)
	}
	for _, v := range voters {
		if _, err := os.Lstat(letterPath(lettersDir, v)); err == nil {
			return withHint(fmt.Errorf("urna credentials issue: %s already exists", letterPath(lettersDir, v)), "give an empty --letters directory: nothing was issued")
		}
	}

	// The weighted list (SPEC.md §5.3 version 2) carries each voter's
	// weight, in roll order, and the public roll's fingerprint (§5.4).
	rfp := roll.Fingerprint(voters)
	weights := make([]uint32, len(voters))
	for i, v := range voters {
		weights[i] = v.Weight
	}
	iss, err := onNodes("credentials issue", nodes, func(cl *apiclient.Client, others []*apiclient.Client) (*roles.Issued, error) {
		return roles.IssueWeightedCredentials(ctx, randReader, cl, dir, weights, rfp, others...)
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "posted %s (entry %d)\n", textreport.Plural(iss.Count, "public credential", "public credentials"), iss.Seq)
	if iss.Fingerprint != man.Fingerprint() {
		return fmt.Errorf("urna credentials issue: the node stated another election (fingerprint %x) than the verified board's (%x): no letter made; the credentials are in %s (voter N is line N of the roll)",
			man.Fingerprint(), iss.Fingerprint, iss.Path)
	}
	if err := os.WriteFile(filepath.Join(dir, RollPublicFile), roll.FormatPublic(voters), 0o644); err != nil {
		return fmt.Errorf("urna credentials issue: %w (the credentials are in %s)", err, iss.Path)
	}
	fmt.Fprintf(e.stdout, "roll fingerprint %x (SPEC.md §5.4); the public roll is in %s\n", rfp, filepath.Join(dir, RollPublicFile))

	h := handOut{e: e, mk: mk, ml: ml, dir: lettersDir}
	for i, v := range voters {
		h.voter(ctx, v, iss.Credentials[i])
	}
	fmt.Fprintf(e.stdout, "letters: %d mailed, %d written to %s", h.mailed, h.written, lettersDir)
	if h.refused > 0 {
		fmt.Fprintf(e.stdout, " (%d of them after the mail server refused them)", h.refused)
	}
	fmt.Fprintln(e.stdout)
	if h.failed > 0 {
		return fmt.Errorf("urna credentials issue: %d letters could neither be mailed nor written: the credentials are kept in %s (voter N is line N of the roll's voters)", h.failed, iss.Path)
	}
	if err := shred(iss.Path); err != nil {
		return fmt.Errorf("urna credentials issue: destroying %s: %w", iss.Path, err)
	}
	fmt.Fprintf(e.stdout, "destroyed the credential authority's copy: %s in %s overwritten and removed\n",
		textreport.Plural(len(iss.Credentials), "credential", "credentials"), iss.Path)
	if h.written > 0 {
		if h.written == 1 {
			fmt.Fprintf(e.stdout, "the letter in %s holds a secret credential: print it, hand it out, then destroy it\n", lettersDir)
		} else {
			fmt.Fprintf(e.stdout, "the %d letters in %s hold secret credentials: print them, hand them out, then destroy them\n", h.written, lettersDir)
		}
	}
	return nil
}

// needsCJK reports whether the letters need the CJK font.
// (Chinese, or a title or name beyond Latin-1; letters.New and
// Maker.Check have the exact rule and say what is missing).
func needsCJK(langs []string, title string, voters []roll.Voter) bool {
	wide := func(s string) bool { return strings.IndexFunc(s, func(r rune) bool { return r > 0xff }) >= 0 }
	if slices.Contains(langs, "zh") || wide(title) {
		return true
	}
	return slices.ContainsFunc(voters, func(v roll.Voter) bool { return wide(v.Name) })
}

func letterPath(dir string, v roll.Voter) string { return filepath.Join(dir, v.ID+".pdf") }

// handOut delivers each voter's letter: by e-mail where there is a mail
// server and an address, else (or when the server refuses it) as a PDF
// file.
type handOut struct {
	e                                *env
	mk                               *letters.Maker
	ml                               *mailer.Mailer // nil: no e-mail
	dir                              string
	mailed, written, refused, failed int
}

func (h *handOut) voter(ctx context.Context, v roll.Voter, cred ballot.Credential) {
	pdf, err := h.mk.PDF(v, cred)
	if err != nil {
		h.failed++
		fmt.Fprintf(h.e.stderr, "voter %s (line %d): %v\n", v.ID, v.Line, err)
		return
	}
	if h.ml != nil && v.Contact != "" {
		l := mailer.Letter{VoterID: v.ID, To: v.Contact, Subject: h.mk.Subject(), Text: h.mk.Text(v, cred), PDF: pdf}
		err := h.ml.Send(ctx, l)
		var r *mailer.RefusedError
		if err != nil && !errors.As(err, &r) {
			err = h.ml.Send(ctx, l) // the connection broke: Send dials again, once
		}
		if err == nil {
			h.mailed++
			return
		}
		if !errors.As(err, &r) {
			// The server cannot be reached twice in a row: the rest go to paper.
			fmt.Fprintf(h.e.stderr, "voter %s (line %d): %v; the remaining letters are written to %s\n", v.ID, v.Line, err, h.dir)
			h.ml = nil
		} else {
			fmt.Fprintf(h.e.stderr, "voter %s (line %d): %v\n", v.ID, v.Line, err)
		}
		h.refused++
	}
	if err := keyfile.Write(letterPath(h.dir, v), pdf); err != nil {
		h.failed++
		fmt.Fprintf(h.e.stderr, "voter %s (line %d): writing the letter: %v\n", v.ID, v.Line, err)
		return
	}
	h.written++
}
