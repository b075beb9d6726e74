package replica

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// sniffTimeout bounds how long a new connection may take to send its first
// bytes before it is passed on to raft undecided.
const sniffTimeout = 5 * time.Second

// httpPrefixes are the first four bytes of the HTTP/1 requests a browser or
// urna's CLI sends, and of HTTP/2's connection preface ("PRI ").
var httpPrefixes = [][]byte{
	[]byte("GET "), []byte("POST"), []byte("HEAD"), []byte("PUT "), []byte("DELE"),
	[]byte("OPTI"), []byte("PATC"), []byte("CONN"), []byte("TRAC"), []byte("PRI "),
}

// misdirected names what a connection's first bytes say it is when it is
// not a Raft peer: an HTTP request, or a TLS ClientHello on a plaintext
// Raft port (tlsPort false; on a TLS port a ClientHello is the normal
// start). It returns "" for anything else: Raft's first byte is its RPC
// type, a small integer, which neither form starts with.
func misdirected(first []byte, tlsPort bool) string {
	for _, p := range httpPrefixes {
		if bytes.HasPrefix(first, p) {
			return "an HTTP client"
		}
	}
	// A TLS record: content type 22 (handshake), major version 3.
	if !tlsPort && len(first) >= 2 && first[0] == 0x16 && first[1] == 0x03 {
		return "a TLS (https) client"
	}
	return ""
}

// peekedConn is a connection whose first bytes were read into r to be
// looked at; reads come from r first, so the peer's bytes pass through
// unchanged and in order.
type peekedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *peekedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// sniff peeks at the first four bytes of c without consuming them. It
// returns the connection to hand on, or nil after closing c and logging one
// line when c is an HTTP or TLS client that dialled the Raft port by
// mistake (e.g. `--node` given a Raft address): raft would otherwise log a
// bare "unknown rpc type 71".
func sniff(c net.Conn, tlsPort bool, log *slog.Logger) net.Conn {
	r := bufio.NewReaderSize(c, 16)
	_ = c.SetReadDeadline(time.Now().Add(sniffTimeout))
	first, err := r.Peek(4)
	_ = c.SetReadDeadline(time.Time{})
	var ne net.Error
	if err != nil && !(errors.As(err, &ne) && ne.Timeout()) && len(first) == 0 {
		// Closed before sending anything (a port probe): nothing for raft.
		_ = c.Close()
		return nil
	}
	if what := misdirected(first, tlsPort); what != "" {
		log.Warn(fmt.Sprintf("replica: %s connected to the Raft port %s; the API is at --http, not the Raft address", what, c.LocalAddr()),
			"remote", c.RemoteAddr().String())
		_ = c.Close()
		return nil
	}
	return &peekedConn{Conn: c, r: r}
}

// acceptor is the listening half of Urna's raft.StreamLayers: each
// accepted connection is sniffed, then passed to handle (the TLS handshake,
// or nothing) in its own goroutine, so a slow or silent client cannot hold
// up Accept.
type acceptor struct {
	ln     net.Listener
	adv    net.Addr
	log    *slog.Logger
	conns  chan net.Conn
	done   chan struct{}
	closed sync.Once
}

// namedAddr is a Raft address given by host name. The cluster's
// configuration keeps the name and peers resolve it each time they dial
// (the stream layers dial the address string), so a node whose IP changes
// (a container restarted with a new address) stays reachable under its
// name.
type namedAddr string

func (a namedAddr) Network() string { return "tcp" }
func (a namedAddr) String() string  { return string(a) }

func isNamed(a net.Addr) bool { _, ok := a.(namedAddr); return ok }

// advertiseAddr is the Raft address to advertise for s (host:port): an IP
// address as it is, a host name kept as a name once it resolves here (a
// name that does not resolve now is a configuration error, said at start).
func advertiseAddr(s string) (net.Addr, error) {
	host, _, err := net.SplitHostPort(s)
	if err != nil {
		return nil, fmt.Errorf("replica: raft advertise address: %w", err)
	}
	a, err := net.ResolveTCPAddr("tcp", s)
	if err != nil {
		return nil, fmt.Errorf("replica: raft advertise address: %w", err)
	}
	if net.ParseIP(host) != nil {
		return a, nil
	}
	if a.IP == nil || a.IP.IsUnspecified() {
		return nil, fmt.Errorf("replica: raft advertise address: %s resolves to %s, which peers cannot dial", s, a.IP)
	}
	return namedAddr(s), nil
}

// listenRaft listens on bind and advertises adv (nil: the address it
// listens on).
func listenRaft(bind string, adv net.Addr, log *slog.Logger) (*acceptor, error) {
	ln, err := net.Listen("tcp", bind)
	if err != nil {
		return nil, fmt.Errorf("replica: raft listen: %w", err)
	}
	if adv == nil {
		adv = ln.Addr()
	}
	// Why: raft's NewTCPTransport refuses the same; peers could not dial it.
	if a, ok := adv.(*net.TCPAddr); !ok && !isNamed(adv) || ok && (a.IP == nil || a.IP.IsUnspecified()) {
		_ = ln.Close()
		return nil, fmt.Errorf("replica: raft transport: the address %s is not one peers can dial; set the advertise address", adv)
	}
	return &acceptor{ln: ln, adv: adv, log: log, conns: make(chan net.Conn), done: make(chan struct{})}, nil
}

// serve accepts until Close. tlsPort is whether peers speak TLS here;
// handle returns the connection for raft, or nil after closing it.
func (s *acceptor) serve(tlsPort bool, handle func(net.Conn) net.Conn) {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			select {
			case <-s.done:
				return
			default:
			}
			s.log.Warn("replica: raft accept", "err", err)
			time.Sleep(50 * time.Millisecond)
			continue
		}
		go func() {
			pc := sniff(c, tlsPort, s.log)
			if pc == nil {
				return
			}
			if pc = handle(pc); pc == nil {
				return
			}
			select {
			case s.conns <- pc:
			case <-s.done:
				_ = pc.Close()
			}
		}()
	}
}

func (s *acceptor) Accept() (net.Conn, error) {
	select {
	case c := <-s.conns:
		return c, nil
	case <-s.done:
		return nil, errors.New("replica: raft stream layer closed")
	}
}

func (s *acceptor) Close() error {
	s.closed.Do(func() { close(s.done) })
	return s.ln.Close()
}

func (s *acceptor) Addr() net.Addr { return s.adv }

// plainStream is the plaintext raft.StreamLayer (no PeerTLS): raft's TCP
// stream layer with misdirected clients turned away.
type plainStream struct{ *acceptor }

func newPlainStream(bind string, adv net.Addr, log *slog.Logger) (*plainStream, error) {
	a, err := listenRaft(bind, adv, log)
	if err != nil {
		return nil, err
	}
	go a.serve(false, func(c net.Conn) net.Conn { return c })
	return &plainStream{a}, nil
}

func (s *plainStream) Dial(address raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	return (&net.Dialer{Timeout: timeout}).Dial("tcp", string(address))
}
