package ballot

import (
	"fmt"

	"github.com/urna-vote/urna/internal/group"
)

// Electorate is the set of an election's registered public credentials
// with their weights: the credential list (SPEC.md §5.3) and every
// late-credentials entry accepted after it (§3.2, §3.9). A verifier builds
// it with Add in board order (V6); the counting rule and the aggregate
// (V10, V11) read each counted credential's weight from it. The zero value
// is not usable; call NewElectorate.
type Electorate struct {
	weight map[[32]byte]uint32
	total  uint64
}

// NewElectorate returns an empty electorate.
func NewElectorate() *Electorate { return &Electorate{weight: map[[32]byte]uint32{}} }

// Add registers every credential of l with its weight (SPEC.md V6.4). It
// refuses, and leaves e unchanged, a list with a credential already
// registered or one that would take the electorate above MaxCredentials.
func (e *Electorate) Add(l *CredentialList) error {
	if len(e.weight)+l.Len() > MaxCredentials {
		return fmt.Errorf("%w: %d credentials registered and %d more, at most %d in all", ErrInvalidCredentialList, len(e.weight), l.Len(), MaxCredentials)
	}
	for i, c := range l.Credentials {
		if _, dup := e.weight[[32]byte(l.encoding(i, c))]; dup {
			return fmt.Errorf("%w: credential %x… is already registered", ErrInvalidCredentialList, l.encoding(i, c)[:6])
		}
	}
	for i, c := range l.Credentials {
		w := l.Weight(i)
		e.weight[[32]byte(l.encoding(i, c))] = w
		e.total += uint64(w)
	}
	return nil
}

// Weight returns the weight of the registered credential cred, and false
// when cred is not registered.
func (e *Electorate) Weight(cred [32]byte) (uint32, bool) {
	w, ok := e.weight[cred]
	return w, ok
}

// Contains reports whether pk is a registered credential (SPEC.md V8.4).
func (e *Electorate) Contains(pk *group.Element) bool {
	_, ok := e.weight[[32]byte(pk.Bytes())]
	return ok
}

// Len returns the number of registered credentials (V6.3).
func (e *Electorate) Len() int { return len(e.weight) }

// TotalWeight returns the sum of the registered credentials' weights (V6.3).
func (e *Electorate) TotalWeight() uint64 { return e.total }
