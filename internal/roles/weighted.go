package roles

import (
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
)

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
