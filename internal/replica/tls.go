package replica

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"

	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
)

// PeerTLS is mutual TLS between the nodes of a cluster. Every node holds a
// certificate from the cluster's own CA whose subject common name and a DNS
// name are its node ID; a peer is admitted when its chain verifies against
// Roots for the right usage AND the ID it names is the one expected (the
// Raft server at the dialled address, or a member of the configuration).
// There is no fallback to plaintext: a failed handshake closes the
// connection and is logged with the reason (expired, unknown CA, wrong ID).
type PeerTLS struct {
	// Certificate returns this node's certificate (reloaded by the caller
	// when its files change).
	Certificate func() (*tls.Certificate, error)
	// Roots is the cluster CA.
	Roots *x509.CertPool
}

// Sentinels of peer verification.
var (
	// ErrPeerIdentity: the peer's certificate is valid but names a node
	// that is not the one expected (or not a member).
	ErrPeerIdentity = errors.New("replica: peer certificate names the wrong node")
)

// PeerID returns the node ID a peer certificate names: its subject common
// name, which MUST also be one of its DNS names (urna certs makes both).
func PeerID(c *x509.Certificate) (string, error) {
	id := c.Subject.CommonName
	if id == "" {
		return "", fmt.Errorf("%w: the certificate has no common name", ErrPeerIdentity)
	}
	for _, d := range c.DNSNames {
		if d == id {
			return id, nil
		}
	}
	return "", fmt.Errorf("%w: common name %q is not among its DNS names", ErrPeerIdentity, id)
}

// Verify checks a peer's chain against Roots for usage and returns the node
// ID it names. Errors say why (expired, unknown authority, ...).
func (p *PeerTLS) Verify(certs []*x509.Certificate, usage x509.ExtKeyUsage) (string, error) {
	if len(certs) == 0 {
		return "", errors.New("replica: the peer sent no certificate")
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	leaf := certs[0]
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: p.Roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
		return "", fmt.Errorf("replica: peer certificate %q (valid %s to %s): %w", leaf.Subject.CommonName,
			leaf.NotBefore.UTC().Format(time.RFC3339), leaf.NotAfter.UTC().Format(time.RFC3339), err)
	}
	return PeerID(leaf)
}

// ServerConfig is the TLS config of a listener for peers: a client
// certificate is required, verified against Roots and its ID passed to
// allow (nil: any node of the CA). The verified chain is in the
// connection state for the handlers.
func (p *PeerTLS) ServerConfig(allow func(id string) error) *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS13,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return p.Certificate() },
		ClientAuth:     tls.RequireAndVerifyClientCert,
		ClientCAs:      p.Roots,
		VerifyConnection: func(cs tls.ConnectionState) error {
			id, err := p.Verify(cs.PeerCertificates, x509.ExtKeyUsageClientAuth)
			if err == nil && allow != nil {
				err = allow(id)
			}
			return err
		},
	}
}

// ClientConfig is the TLS config for dialling a peer: this node's
// certificate, and the server's chain verified against Roots with its ID
// passed to allow (nil: any node of the CA). Go's host name check is
// replaced by the ID check (peers are dialled by address).
func (p *PeerTLS) ClientConfig(allow func(id string) error) *tls.Config {
	return &tls.Config{
		MinVersion:           tls.VersionTLS13,
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return p.Certificate() },
		// Why: the chain and the node ID are verified in VerifyConnection
		// below, against the cluster CA only; nothing is skipped.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			id, err := p.Verify(cs.PeerCertificates, x509.ExtKeyUsageServerAuth)
			if err == nil && allow != nil {
				err = allow(id)
			}
			return err
		},
	}
}

// tlsStream is a raft.StreamLayer over mutual TLS. Handshakes run in their
// own goroutines so a slow or hostile peer cannot hold up Accept.
type tlsStream struct {
	*acceptor
	peer *PeerTLS
	node atomic.Pointer[Node]
}

func newTLSStream(bind string, adv net.Addr, peer *PeerTLS, log *slog.Logger) (*tlsStream, error) {
	a, err := listenRaft(bind, adv, log)
	if err != nil {
		return nil, err
	}
	s := &tlsStream{acceptor: a, peer: peer}
	go a.serve(true, s.handshake(peer.ServerConfig(s.allowMember)))
	return s, nil
}

// allowMember admits a peer that is in this node's Raft configuration, or
// any node of the CA while this node has none yet (it is waiting to be
// added: the leader's first connection brings the configuration).
func (s *tlsStream) allowMember(id string) error {
	n := s.node.Load()
	if n == nil {
		return fmt.Errorf("%w: %q: the node is starting", ErrPeerIdentity, id)
	}
	servers := n.raft.GetConfiguration().Configuration().Servers
	if len(servers) == 0 {
		return nil
	}
	for _, sv := range servers {
		if string(sv.ID) == id {
			return nil
		}
	}
	return fmt.Errorf("%w: %q is not a member of this cluster", ErrPeerIdentity, id)
}

// handshake returns the TLS server side of a peer connection, or nil after
// closing it and logging why the handshake failed.
func (s *tlsStream) handshake(cfg *tls.Config) func(net.Conn) net.Conn {
	return func(c net.Conn) net.Conn {
		tc := tls.Server(c, cfg)
		_ = tc.SetDeadline(time.Now().Add(10 * time.Second))
		if err := tc.Handshake(); err != nil {
			s.log.Warn("replica: refused a Raft connection: TLS handshake failed", "remote", c.RemoteAddr().String(), "err", err)
			_ = c.Close()
			return nil
		}
		_ = tc.SetDeadline(time.Time{})
		return tc
	}
}

// Dial connects to the Raft server at address, which MUST present the
// certificate of the node the configuration lists there.
func (s *tlsStream) Dial(address raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	n := s.node.Load()
	if n == nil {
		return nil, errors.New("replica: raft dial before start")
	}
	want := ""
	for _, sv := range n.raft.GetConfiguration().Configuration().Servers {
		if sv.Address == address {
			want = string(sv.ID)
		}
	}
	if want == "" {
		return nil, fmt.Errorf("replica: raft dial %s: no member of the configuration has this address", address)
	}
	cfg := s.peer.ClientConfig(func(id string) error {
		if id != want {
			return fmt.Errorf("%w: %s presented %q, the configuration lists %q there", ErrPeerIdentity, address, id, want)
		}
		return nil
	})
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: timeout}, "tcp", string(address), cfg)
	if err != nil {
		s.log.Warn("replica: Raft connection refused: TLS handshake failed", "peer", want, "address", string(address), "err", err)
		return nil, fmt.Errorf("replica: raft dial %s (%s): %w", address, want, err)
	}
	return c, nil
}
