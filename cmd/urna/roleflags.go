package main

import (
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/internal/api"
	"github.com/urna-vote/urna/internal/apiclient"
	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/keyfile"
	"github.com/urna-vote/urna/internal/roles"
	"github.com/urna-vote/urna/internal/server"
)

// defaultNode is the --node default of the role commands.
const defaultNode = "http://127.0.0.1:8080"

// newClient returns an API client for the --node flag value of the
// command what ("export", "trustee deal"), addressing the --election
// value ("" for the board's default election).
// streamIdle is how long a record or event stream may stall (0:
// apiclient's default; a seam for tests).
var streamIdle time.Duration

func newClient(what, node, caFile, election string) (*apiclient.Client, error) {
	opts := apiclient.Options{MaxRetries: 3, Election: election, StreamIdle: streamIdle}
	if caFile != "" {
		t, err := tlsTransport(what, caFile, "", "")
		if err != nil {
			return nil, err
		}
		t.ResponseHeaderTimeout = apiclient.SubmitHeaderTimeout
		opts.HTTPClient = &http.Client{Transport: t}
	}
	if election != "" && !ballot.ValidElectionID(election) {
		return nil, withHint(fmt.Errorf("urna %s: --election %q is not an election id", what, election),
			"an election id is 1 to 64 of a-z, 0-9 and -; list a board's elections with 'curl "+node+api.ElectionsPath+"'")
	}
	cl, err := apiclient.New(node, opts)
	if err != nil {
		return nil, withHint(fmt.Errorf("urna %s: %w", what, err), "give the node's API base URL, e.g. --node http://127.0.0.1:8080")
	}
	return cl, nil
}

// electionFlag adds --election, the id of the election on a board that
// holds several (SPEC.md §3.14).
func electionFlag(fs *flag.FlagSet) *string {
	return fs.String("election", "", "`id` of the election on a board that runs several (default: the board's first election)")
}

// tlsTransport returns an HTTP transport for the command what ("export",
// "cluster") that trusts the CA in caFile (none: the system's CAs) and
// presents the client certificate in certFile with its owner-only key in
// keyFile (none: no certificate).
func tlsTransport(what, caFile, certFile, keyFile string) (*http.Transport, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		// A node whose certificate a private CA signed (urna certs): trust
		// that CA, and only it, for this command's HTTPS connections.
		pool, err := server.ReadCertPool(caFile)
		if err != nil {
			return nil, fmt.Errorf("urna %s: --ca: %w", what, err)
		}
		cfg.RootCAs = pool
	}
	if (certFile == "") != (keyFile == "") {
		return nil, usagef("give both --cert and --key, or neither")
	}
	if certFile != "" {
		pair, err := readCertKey(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("urna %s: %w", what, err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = cfg
	return t, nil
}

// readCertKey reads a client certificate and its key, a secret that only
// its owner may read.
func readCertKey(certFile, keyFile string) (tls.Certificate, error) {
	keyPEM, err := keyfile.Read(keyFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("--key: %w", err)
	}
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("--cert: %w", err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("--cert and --key: %w", err)
	}
	return pair, nil
}

// caFlag adds --ca, the private CA that signed the nodes' certificates.
func caFlag(fs *flag.FlagSet) *string {
	return fs.String("ca", "", "PEM `file` of the private CA that signed the nodes' HTTPS certificates (urna certs); default: the system's CAs")
}

// nodeError adds a hint to errors that mean the node could not be reached.
func nodeError(node string, err error) error {
	if err == nil {
		return nil
	}
	var ae *apiclient.Error
	if errors.As(err, &ae) {
		return err
	}
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
		return err
	}
	if strings.Contains(err.Error(), "connection refused") || strings.Contains(err.Error(), "no such host") {
		return withHint(err, fmt.Sprintf("is a node running at %s? start one with 'urna node' or check --node", node))
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) {
		// What a node's Raft port does with an HTTP request.
		return withHint(err, fmt.Sprintf("%s closed the connection without an HTTP answer: is it a node's Raft address? give its HTTP API address (urna node --http)", node))
	}
	return err
}

// nodeFlag adds --node.
func nodeFlag(fs *flag.FlagSet) *string {
	return fs.String("node", defaultNode, "API base `URL` of a board node")
}

// dirFlag adds --dir, where the party of role command keeps its files;
// the default is the role's name.
func dirFlag(fs *flag.FlagSet, role string) *string {
	what := map[string]string{
		"authority":   "the authority's key",
		"credentials": "the credential authority's files",
		"trustee":     "the trustee's keys",
	}[role]
	return fs.String("dir", role, "`directory` of "+what+" (created with owner-only permissions)")
}

// onNodes runs a role's step f with an API client for every --node (the
// first reads the board, the others' checkpoints are compared with it:
// SPEC.md §10.7); f's errors get the hints of roleError for the step what
// ("authority open").
func onNodes[T any](what string, nodes *nodeList, f func(c *apiclient.Client, others []*apiclient.Client) (T, error)) (T, error) {
	cl, others, err := nodes.clients(what)
	if err != nil {
		var zero T
		return zero, err
	}
	res, err := f(cl, others)
	return res, roleError(what, nodes.primary(), err)
}

// roleError adds hints to the errors of internal/roles and the API.
func roleError(what, node string, err error) error {
	if err == nil {
		return nil
	}
	err = fmt.Errorf("urna %s: %w", what, err)
	var ae *apiclient.Error
	switch {
	case errors.As(err, &ae) && ae.Code == "wrong_phase":
		return withHint(err, "the board is not in the phase this step needs; check it with 'curl "+node+"/api/v1/election'")
	case errors.As(err, &ae) && (ae.Code == api.CodeWrongElection || ae.Code == api.CodeUnknownElection):
		return withHint(err, "the board runs several elections, or not this one: address yours with --election ID (its manifest's election id); list them with 'curl "+node+api.ElectionsPath+"'")
	case errors.As(err, &ae) && ae.Code == "not_authorized":
		return withHint(err, "the key in --dir is not the one the manifest names for this role")
	case what == "trustee decrypt" && errors.Is(err, roles.ErrNotReady):
		return withHint(err, "the authority closes voting with 'urna authority close --dir DIR --node "+node+"'; run 'urna trustee decrypt' again after that")
	case what == "tally" && errors.Is(err, roles.ErrNotReady):
		return withHint(err, "each trustee runs 'urna trustee decrypt --dir DIR --node "+node+"' after the close; run 'urna tally' again once enough have")
	case what == "vote" && apiclient.IsCode(err, api.CodeClosed):
		return withHint(err, "voting has closed: the last ballot you cast before the close is the one that counts; check it with 'urna check-receipt RECEIPT --node "+node+"', and once the result is posted verify the election with 'urna verify "+node+"'")
	case errors.Is(err, roles.ErrNotReady):
		return withHint(err, "wait for the other parties, then run this again")
	case errors.Is(err, roles.ErrExists):
		return withHint(err, "nothing to do: this step was already done")
	case errors.Is(err, fs.ErrNotExist) && strings.Contains(err.Error(), ".key"):
		role, _, _ := strings.Cut(what, " ")
		if role == "tally" {
			role = "authority"
		}
		return withHint(err, fmt.Sprintf("create the keys first with 'urna %s init --dir DIR', or point --dir at them", role))
	case errors.Is(err, keyfile.ErrExists), errors.Is(err, keyfile.ErrPermissions):
		return err // keyfile's own hint
	case errors.Is(err, ballot.ErrInvalidCredential), errors.Is(err, ballot.ErrCredentialChecksum):
		return withHint(err, "check the credential for typing mistakes (letters I, L, O and U never occur)")
	}
	return nodeError(node, err)
}

// boardNodes is the repeatable --board-node ID=KEY flag.
type boardNodes []ballot.BoardNode

func (b *boardNodes) String() string { return fmt.Sprint(len(*b)) + " board nodes" }

func (b *boardNodes) Set(s string) error {
	id, key, ok := strings.Cut(s, "=")
	if !ok || id == "" {
		return errors.New("want ID=PUBLIC-KEY (the hex key 'urna node-key' printed)")
	}
	raw, err := hex.DecodeString(key)
	if err != nil {
		raw, err = base64.RawURLEncoding.Strict().DecodeString(key)
	}
	if err != nil || len(raw) != ballot.NodeKeySize {
		return fmt.Errorf("node %s: key is not a 32-byte Ed25519 public key in hex", id)
	}
	*b = append(*b, ballot.BoardNode{ID: id, Key: raw})
	return nil
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(s string) error { *l = append(*l, s); return nil }

// randReader is the randomness of every role command.
var randReader = rand.Reader

// nodeList is the repeatable --node flag of the commands that compare
// several nodes (SPEC.md §10.7): the first reads the record, every one's
// checkpoint is compared with it.
type nodeList struct {
	urls     []string
	ca       *string // --ca
	election *string // --election
}

func (l *nodeList) String() string { return strings.Join(l.urls, ",") }
func (l *nodeList) Set(s string) error {
	l.urls = append(l.urls, s)
	return nil
}

// primary is the first node, or the default.
func (l *nodeList) primary() string {
	if len(l.urls) == 0 {
		return defaultNode
	}
	return l.urls[0]
}

// clients returns an API client for every node, the primary first. The
// primary's reads are consistent ones (apiclient.Options.Consistent): a
// role acts on what it read, and a node that had not yet applied the last
// committed post (a trustee's partial decryption, say) made 'urna tally'
// answer "not ready" although the post was on the board. The others only
// have their checkpoints compared, which any node's own view serves.
func (l *nodeList) clients(what string) (*apiclient.Client, []*apiclient.Client, error) {
	urls := l.urls
	if len(urls) == 0 {
		urls = []string{defaultNode}
	}
	var out []*apiclient.Client
	for _, u := range urls {
		c, err := newClient(what, u, *l.ca, *l.election)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, c)
	}
	return out[0].Consistent(), out[1:], nil
}

// nodesFlag adds the repeatable --node.
func nodesFlag(fs *flag.FlagSet) *nodeList {
	l := &nodeList{}
	fs.Var(l, "node", "API base `URL` of a board node (repeat to compare several nodes; default "+defaultNode+")")
	l.ca = caFlag(fs)
	l.election = electionFlag(fs)
	return l
}

// fingerprintFlag adds --fingerprint.
// langFlag is --lang: the language of the election's texts to show.
func langFlag(fs *flag.FlagSet) *string {
	return fs.String("lang", "", "show the election's texts in this `language` (one the manifest lists, e.g. zh; default: its primary language)")
}

// localized returns the title and questions of m in lang ("" is the
// primary language), or an error naming m's languages.
func localized(m *ballot.Manifest, lang string) (string, []ballot.Question, error) {
	title, qs, err := m.Localized(lang)
	if err != nil {
		return "", nil, withHint(fmt.Errorf("--lang: %w", err), "omit --lang to show the election's primary texts")
	}
	return title, qs, nil
}

// scheduleLine describes m's voting window for people, or "" when m has none.
func scheduleLine(m *ballot.Manifest) string {
	w := m.Window()
	if !w.Scheduled() {
		return ""
	}
	var parts []string
	if w.OpensAt != 0 {
		parts = append(parts, "opens "+ballot.FormatTime(w.OpensAt))
	}
	if w.ClosesAt != 0 {
		parts = append(parts, "closes "+ballot.FormatTime(w.ClosesAt))
	}
	if w.Manual {
		parts = append(parts, "the authority may close it earlier")
	} else {
		parts = append(parts, "by time alone")
	}
	return "voting " + strings.Join(parts, ", ")
}

func fingerprintFlag(fs *flag.FlagSet) *string {
	return fs.String("fingerprint", "", "the election `fingerprint` (hex) the election authority published; the board MUST have it")
}

// parseFingerprint decodes a --fingerprint value ("" is none).
func parseFingerprint(s string) ([32]byte, error) {
	var fp [32]byte
	if s == "" {
		return fp, nil
	}
	raw, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil || len(raw) != 32 {
		return fp, withHint(errors.New("--fingerprint is not 64 hex digits"), "copy the fingerprint from your credential letter or the election authority's publication")
	}
	return [32]byte(raw), nil
}

// creatorKeys is the repeatable --creator KEY flag of urna node: election
// authority keys allowed to create elections (SPEC.md §3.14.2).
type creatorKeys [][32]byte

func (c *creatorKeys) String() string { return fmt.Sprint(len(*c)) + " creators" }

func (c *creatorKeys) Set(s string) error {
	s = strings.TrimSpace(s)
	raw, err := hex.DecodeString(s)
	if err != nil {
		raw, err = base64.RawURLEncoding.Strict().DecodeString(s)
	}
	if err != nil || len(raw) != 32 {
		return errors.New(`want the election authority's public key: 64 hex digits, or the "public" value of its authority.pub`)
	}
	if _, err := group.DecodeNonIdentity(raw); err != nil {
		return fmt.Errorf("not an election authority key: %w", err)
	}
	*c = append(*c, [32]byte(raw))
	return nil
}

// witnessURLs is the repeatable --witness NAME=URL flag of urna node.
type witnessURLs map[string]string

func (w witnessURLs) String() string { return fmt.Sprint(len(w)) + " witnesses" }

func (w witnessURLs) Set(s string) error {
	name, u, ok := strings.Cut(s, "=")
	if !ok || name == "" || !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		return errors.New("want NAME=URL (the witness's name as the manifest lists it, and its http:// or https:// base URL)")
	}
	if _, dup := w[name]; dup {
		return fmt.Errorf("witness %s given twice", name)
	}
	w[name] = u
	return nil
}

// reportStateUnused tells a party why its saved board state was not used
// (why, when not empty): it verified the whole record instead, which takes
// longer on a large board.
func reportStateUnused(w io.Writer, why string) {
	if why != "" {
		fmt.Fprintf(w, "the saved board state was not used, the whole record was verified: %s\n", why)
	}
}
