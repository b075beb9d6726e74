package roles

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/apiclient"
	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/keyfile"
)

// MaxIssue bounds one IssueCredentials call.
const MaxIssue = 1 << 20

// Issued is the outcome of IssueCredentials.
type Issued struct {
	Path  string // the private credentials file
	Count int
	Seq   uint64 // board position of the public list
	// Credentials are the secret credentials in voter-number order (the
	// lines of Path), for a caller that makes the voters' letters.
	Credentials []ballot.Credential
	Fingerprint [32]byte // of the election on the verified board
}

// IssueCredentials draws n voter credentials (SPEC.md §5), writes them to
// dir/credentials.txt (0600; one line per voter: "<number> <credential>")
// for the credential authority to hand out, derives the public credentials
// for the board's election and posts the list, signed with the credential
// authority's key in dir. The file is written before anything is posted,
// so a failed post loses nothing; it is never overwritten. The board is
// read only through followBoard (the verified record of c, consistent with
// others' checkpoints and the one remembered in dir: SPEC.md §10.7).
func IssueCredentials(ctx context.Context, rand io.Reader, c *apiclient.Client, dir string, n int, others ...*apiclient.Client) (*Issued, error) {
	return issueCredentials(ctx, rand, append([]*apiclient.Client{c}, others...), dir, n, nil, [32]byte{})
}

// IssueWeightedCredentials is IssueCredentials for a weighted election
// (SPEC.md §5.3 version 2): one credential per weight, voter i+1 weighing
// weights[i] (1..ballot.MaxWeight), and the public roll fingerprint roll
// (computed from the voter roll outside the protocol; carried as is).
func IssueWeightedCredentials(ctx context.Context, rand io.Reader, c *apiclient.Client, dir string, weights []uint32, roll [32]byte, others ...*apiclient.Client) (*Issued, error) {
	if weights == nil {
		weights = []uint32{}
	}
	return issueCredentials(ctx, rand, append([]*apiclient.Client{c}, others...), dir, len(weights), weights, roll)
}

// issueCredentials is IssueCredentials, and IssueWeightedCredentials when
// weights is not nil (one weight per voter, n = len(weights)).
func issueCredentials(ctx context.Context, rand io.Reader, nodes []*apiclient.Client, dir string, n int, weights []uint32, roll [32]byte) (*Issued, error) {
	if n < 1 || n > MaxIssue {
		return nil, fmt.Errorf("roles: credential count %d, want 1..%d", n, MaxIssue)
	}
	sk, b, err := signerAndBoard(ctx, rand, nodes, dir, "issue credentials", false, LoadCredentialAuthority)
	if err != nil {
		return nil, err
	}
	if !b.Manifest.CredentialAuthority.Equal(sk.Public()) {
		return nil, fmt.Errorf("roles: the manifest names another credential authority than %s", CAKeyFile)
	}
	if b.Has(bulletin.TypeCredentials) {
		return nil, fmt.Errorf("%w: the credential list is already on the board", ErrExists)
	}
	creds, list, err := drawCredentials(rand, b.Manifest.ElectionID, n, weights, roll)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, CredentialsFile)
	if err := writeSecret(path, FormatCredentials(b.Manifest.ElectionID, b.Fingerprint, creds)); err != nil {
		return nil, err
	}
	res, err := post(ctx, rand, nodes[0], b.Fingerprint, bulletin.TypeCredentials, bulletin.RoleCredentialAuthority, sk, list.Bytes())
	if err != nil {
		return nil, err
	}
	return &Issued{Path: path, Count: n, Seq: res.Seq, Credentials: creds, Fingerprint: b.Fingerprint}, nil
}

// drawCredentials draws n credentials and derives their public list:
// unweighted (SPEC.md §5.3 version 1) when weights is nil, else weighted
// (version 2) with weights[i] for voter i+1 and the roll fingerprint.
func drawCredentials(rand io.Reader, electionID string, n int, weights []uint32, roll [32]byte) ([]ballot.Credential, *ballot.CredentialList, error) {
	if weights != nil && len(weights) != n {
		return nil, nil, fmt.Errorf("roles: %d weights for %d voters", len(weights), n)
	}
	creds := make([]ballot.Credential, n)
	for i := range creds {
		var err error
		if creds[i], err = ballot.GenerateCredential(rand); err != nil {
			return nil, nil, fmt.Errorf("roles: %w", err)
		}
	}
	var list *ballot.CredentialList
	var err error
	if weights == nil {
		list, err = PublicCredentials(electionID, creds)
	} else {
		list, err = WeightedPublicCredentials(electionID, roll, creds, weights)
	}
	if err != nil {
		return nil, nil, err
	}
	return creds, list, nil
}

// PublicCredentials derives the public credential list of an election (SPEC.md §5.2–§5.3).
func PublicCredentials(electionID string, creds []ballot.Credential) (*ballot.CredentialList, error) {
	pub, err := publicKeys(electionID, creds)
	if err != nil {
		return nil, err
	}
	l, err := ballot.NewCredentialList(pub)
	if err != nil {
		return nil, fmt.Errorf("roles: %w", err)
	}
	return l, nil
}

// WeightedPublicCredentials derives the weighted public credential list
// (SPEC.md §5.3 version 2): weights[i] is the weight of creds[i], roll the
// public roll fingerprint.
func WeightedPublicCredentials(electionID string, roll [32]byte, creds []ballot.Credential, weights []uint32) (*ballot.CredentialList, error) {
	pub, err := publicKeys(electionID, creds)
	if err != nil {
		return nil, err
	}
	l, err := ballot.NewWeightedCredentialList(roll, pub, weights)
	if err != nil {
		return nil, fmt.Errorf("roles: %w", err)
	}
	return l, nil
}

func publicKeys(electionID string, creds []ballot.Credential) ([]*group.Element, error) {
	pub := make([]*group.Element, len(creds))
	for i, cr := range creds {
		k, err := cr.Key(electionID)
		if err != nil {
			return nil, fmt.Errorf("roles: credential %d: %w", i+1, err)
		}
		pub[i] = k.Public()
	}
	return pub, nil
}

// FormatCredentials is the credentials file: comment lines (the election
// and its fingerprint, which each voter's letter should carry so the voter
// can compare it with the one the booth shows, SPEC.md §10.6), then one
// "<voter number> <credential>" line per voter, numbered from 1.
func FormatCredentials(electionID string, fingerprint [32]byte, creds []ballot.Credential) []byte {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# Urna voter credentials for election %s: SECRET, hand one line to each voter.\n", electionID)
	fmt.Fprintf(&buf, "%s%x\n", credentialFingerprintPrefix, fingerprint)
	for i, cr := range creds {
		fmt.Fprintf(&buf, "%d %s\n", i+1, cr.Text())
	}
	return buf.Bytes()
}

// ParseCredentials reads a credentials file: blank lines and lines
// starting with '#' are ignored, a line is "<number> <credential>" or just
// the credential (numbered by position).
func ParseCredentials(data []byte) (map[int]ballot.Credential, []int, error) {
	out := map[int]ballot.Credential{}
	var order []int
	sc := bufio.NewScanner(bytes.NewReader(data))
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		num := len(order) + 1
		if f := strings.Fields(s); len(f) == 2 {
			v, err := strconv.Atoi(f[0])
			if err != nil || v < 1 {
				return nil, nil, fmt.Errorf("roles: credentials line %d: bad voter number", line)
			}
			num, s = v, f[1]
		}
		cr, err := ballot.ParseCredential(s)
		if err != nil {
			// The error never contains the credential itself.
			return nil, nil, fmt.Errorf("roles: credentials line %d: %w", line, err)
		}
		if _, dup := out[num]; dup {
			return nil, nil, fmt.Errorf("roles: credentials line %d: voter number %d repeated", line, num)
		}
		out[num] = cr
		order = append(order, num)
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("roles: credentials file: %w", err)
	}
	if len(order) == 0 {
		return nil, nil, fmt.Errorf("roles: credentials file holds no credential")
	}
	return out, order, nil
}

// LoadCredential reads the credential of voter number voter from a
// credentials file (0 when the file holds exactly one credential).
func LoadCredential(path string, voter int) (ballot.Credential, error) {
	data, err := keyfile.Read(path)
	if err != nil {
		return ballot.Credential{}, err
	}
	creds, order, err := ParseCredentials(data)
	if err != nil {
		return ballot.Credential{}, fmt.Errorf("%w (file %s)", err, path)
	}
	if voter == 0 {
		if len(order) != 1 {
			return ballot.Credential{}, fmt.Errorf("roles: %s holds %d credentials: say which voter number", path, len(order))
		}
		return creds[order[0]], nil
	}
	cr, ok := creds[voter]
	if !ok {
		return ballot.Credential{}, fmt.Errorf("roles: %s has no voter number %d", path, voter)
	}
	return cr, nil
}

// credentialFingerprintPrefix starts the comment line of a credentials
// file that carries the election fingerprint (FormatCredentials).
const credentialFingerprintPrefix = "# Election fingerprint (print it on every voter's letter): "

// CredentialFingerprint returns the election fingerprint a credentials
// file carries (FormatCredentials writes it), and false when it carries none.
// The voter's device pins it (SPEC.md V4.6).
func CredentialFingerprint(path string) ([32]byte, bool, error) {
	data, err := keyfile.Read(path)
	if err != nil {
		return [32]byte{}, false, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), credentialFingerprintPrefix)
		if !ok {
			continue
		}
		raw, err := hex.DecodeString(strings.TrimSpace(rest))
		if err != nil || len(raw) != 32 {
			return [32]byte{}, false, fmt.Errorf("roles: %s: the election fingerprint line is not 64 hex digits", path)
		}
		return [32]byte(raw), true, nil
	}
	return [32]byte{}, false, nil
}

// LateCredentialsFile is the name of the k-th file of late voters'
// credentials (k = 1, 2, ...) that AddLateCredentials writes in the
// credential authority's directory.
func LateCredentialsFile(k int) string { return fmt.Sprintf("late-credentials-%d.txt", k) }

// AddLateCredentials registers late voters (SPEC.md §3.2, §3.9): it draws
// one credential per weight, writes them to the first free
// dir/late-credentials-K.txt (0600, numbered from 1 as in
// FormatCredentials; never overwritten), and posts a late-credentials
// entry signed by the credential authority with their public credentials,
// weights and roll, the public roll fingerprint of the roll with the late
// voters. The board takes it only after the credential list and before
// the close; the election's verifiers see it (V6.4).
func AddLateCredentials(ctx context.Context, rand io.Reader, c *apiclient.Client, dir string, weights []uint32, roll [32]byte, others ...*apiclient.Client) (*Issued, error) {
	if len(weights) < 1 || len(weights) > MaxIssue {
		return nil, fmt.Errorf("roles: %d late voters, want 1..%d", len(weights), MaxIssue)
	}
	sk, b, err := signerAndBoard(ctx, rand, append([]*apiclient.Client{c}, others...), dir, "add late voters", false, LoadCredentialAuthority)
	if err != nil {
		return nil, err
	}
	if !b.Manifest.CredentialAuthority.Equal(sk.Public()) {
		return nil, fmt.Errorf("roles: the manifest names another credential authority than %s", CAKeyFile)
	}
	switch {
	case !b.Has(bulletin.TypeCredentials):
		return nil, fmt.Errorf("%w: the credential list is not on the board yet: issue the credentials first", ErrNotReady)
	case b.Has(bulletin.TypeClose):
		return nil, fmt.Errorf("%w: the election is closed: no voter can be added after the close", ErrNotReady)
	}
	creds, list, err := drawCredentials(rand, b.Manifest.ElectionID, len(weights), weights, roll)
	if err != nil {
		return nil, err
	}
	var path string
	for k := 1; ; k++ {
		path = filepath.Join(dir, LateCredentialsFile(k))
		if _, err := os.Lstat(path); os.IsNotExist(err) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("roles: %w", err)
		}
	}
	if err := writeSecret(path, FormatCredentials(b.Manifest.ElectionID, b.Fingerprint, creds)); err != nil {
		return nil, err
	}
	res, err := post(ctx, rand, c, b.Fingerprint, bulletin.TypeLateCredentials, bulletin.RoleCredentialAuthority, sk, list.Bytes())
	if err != nil {
		return nil, err
	}
	return &Issued{Path: path, Count: len(weights), Seq: res.Seq}, nil
}

// ParseWeights reads a weights file: one weight (a decimal integer in
// 1..ballot.MaxWeight) per line, line k giving the weight of the k-th voter
// issued; blank lines and lines starting with '#' are ignored. A bad line
// is named.
func ParseWeights(data []byte) ([]uint32, error) {
	var out []uint32
	for i, line := range strings.Split(string(data), "\n") {
		s := strings.TrimSpace(line)
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		w, err := strconv.ParseUint(s, 10, 32)
		if err != nil || !ballot.ValidWeight(uint32(w)) {
			return nil, fmt.Errorf("roles: weights line %d: %q is not a weight (an integer from 1 to %d)", i+1, s, ballot.MaxWeight)
		}
		out = append(out, uint32(w))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("roles: the weights file holds no weight")
	}
	if len(out) > MaxIssue {
		return nil, fmt.Errorf("roles: the weights file holds %d weights, at most %d", len(out), MaxIssue)
	}
	return out, nil
}

// ParseRollFingerprint reads a public roll fingerprint written as 64 hex
// digits (SPEC.md §5.3).
func ParseRollFingerprint(s string) ([32]byte, error) {
	b, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil || len(b) != 32 {
		return [32]byte{}, fmt.Errorf("roles: the roll fingerprint must be 64 hex digits")
	}
	return [32]byte(b), nil
}
