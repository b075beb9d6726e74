package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/urna-vote/urna/internal/api"
	"github.com/urna-vote/urna/internal/board"
	"github.com/urna-vote/urna/internal/httpapi"
	"github.com/urna-vote/urna/internal/replica"
	"github.com/urna-vote/urna/internal/store"
	"github.com/urna-vote/urna/internal/witness"
)

// Node is a running board node.
type Node struct {
	ID       string
	APIAddr  string // API base URL, e.g. http://127.0.0.1:8080
	PeerAddr string // base URL peers use (the peer listener's, else APIAddr)
	RaftAddr string
	Board    *board.Board
	Replica  *replica.Node

	cfg    Config // as started (tests restart a node with it)
	probe  *prober
	probed chan struct{} // closed when the probe loop ended
	tls    *tlsSetup
	// peerServed gets the peer listener's end (nil at once without one).
	peerServed chan error
	st         store.Store
	log        *slog.Logger
	cancel     context.CancelFunc
	served     chan error
	once       sync.Once
	err        error
}

// Run starts a node and serves until ctx is cancelled, then shuts down.
func Run(ctx context.Context, cfg Config) error {
	n, err := Start(ctx, cfg)
	if err != nil {
		return err
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return n.Stop()
		case err := <-n.served:
			// the HTTP server died: stop everything and report it
			n.served <- err
			return n.Stop()
		case <-hup:
			if err := n.ReloadTLS(); err != nil {
				n.log.Error("server: SIGHUP: the TLS certificate was not reloaded; the previous one stays in use", "err", err)
			}
		}
	}
}

// Start opens the store, starts the replica, the board and the HTTP API,
// and joins the cluster if cfg.Join is set. It returns once the node
// serves. Stop (or cancelling ctx) shuts it down.
func Start(ctx context.Context, cfg Config) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	key, err := cfg.signingKey()
	if err != nil {
		return nil, err
	}
	// A start that fails leaves a new data directory as it found it (none),
	// not a 16 MB bolt file that makes the next attempt look like a restart.
	fresh := freshDir(cfg.DataDir)
	removeFresh := func() {
		if fresh {
			_ = os.RemoveAll(cfg.DataDir)
		}
	}
	st, err := openStore(ctx, &cfg)
	if err != nil {
		removeFresh()
		return nil, err
	}
	cleanup := []func(){removeFresh, func() { _ = st.Close() }} // run in reverse order
	fail := func(err error) (*Node, error) {
		for i := len(cleanup) - 1; i >= 0; i-- {
			cleanup[i]()
		}
		return nil, err
	}

	ts, err := loadTLS(&cfg, logger)
	if err != nil {
		return fail(err)
	}
	ln, apiAddr, err := listen(cfg.HTTPListen, cfg.HTTPAdvertise, ts, false)
	if err != nil {
		return fail(fmt.Errorf("server: HTTP listen: %w", err))
	}
	cleanup = append(cleanup, func() { _ = ln.Close() })
	// Peers reach this node at peerAddr: the peer listener when there is
	// one, else the public API. It is what the membership records.
	peerLn, peerAddr := net.Listener(nil), apiAddr
	if cfg.PeerListen != "" {
		if peerLn, peerAddr, err = listen(cfg.PeerListen, cfg.PeerAdvertise, ts, true); err != nil {
			return fail(fmt.Errorf("server: peer HTTP listen: %w", err))
		}
		cleanup = append(cleanup, func() { _ = peerLn.Close() })
	}

	// repRef lets the peer TLS check ask the replica, which starts later.
	var repRef atomic.Pointer[replica.Node]
	allowMember := func(id string) error {
		r := repRef.Load()
		var servers []replica.Server
		if r != nil {
			servers, _ = r.Servers()
		}
		if len(servers) == 0 {
			return nil // not a member yet: any node of the cluster CA (the join target)
		}
		for _, sv := range servers {
			if sv.ID == id {
				return nil
			}
		}
		return fmt.Errorf("%w: %q is not a member of this cluster", replica.ErrPeerIdentity, id)
	}
	peerRT := ts.peerTransport(allowMember, httpapi.DefaultOptions().LongCheckTimeout+5*time.Second) // a forwarded request's context bounds it
	hc := &http.Client{Timeout: 10 * time.Second, Transport: peerRT}
	b, err := board.Open(board.Config{
		NodeID: cfg.ID, Store: st, Key: key, Logger: logger.With("component", "board"),
		CosignInterval: cfg.CosignInterval, SkipChecks: cfg.SkipChecks, Witnesses: witnessClients(cfg.Witnesses), Creators: cfg.Creators,
		ElectionRate: cfg.ElectionRate,
		ForwardCosign: func(ctx context.Context, leaderAPI string, cmd []byte) error {
			return forwardCosign(ctx, hc, leaderAPI, cfg.ClusterToken, cmd)
		},
	})
	if err != nil {
		return fail(err)
	}
	cleanup = append(cleanup, func() { _ = b.Close() })

	rc := replica.DefaultConfig()
	rc.ID, rc.DataDir = cfg.ID, filepath.Join(cfg.DataDir, "raft")
	rc.RaftBind, rc.RaftAdvertise = cfg.RaftBind, cfg.RaftAdvertise
	rc.APIAddr, rc.Bootstrap = peerAddr, cfg.Bootstrap
	rc.PeerTLS = ts.peer
	rc.Logger = logger.With("component", "replica")
	if cfg.Replica != nil {
		cfg.Replica(&rc)
	}
	rep, err := replica.New(rc, b.FSM)
	if err != nil {
		return fail(err)
	}
	cleanup = append(cleanup, func() { _ = rep.Shutdown() })
	repRef.Store(rep)
	b.Attach(rep)
	b.Start()

	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	n := &Node{
		ID: cfg.ID, APIAddr: apiAddr, PeerAddr: peerAddr, RaftAddr: rep.RaftAddr(), Board: b, Replica: rep,
		cfg: cfg, st: st, log: logger, cancel: cancel, served: make(chan error, 1),
		probe: &prober{dir: cfg.DataDir, st: st, interval: cfg.ProbeInterval}, probed: make(chan struct{}),
	}
	go func() { defer close(n.probed); n.probe.run(sctx) }()

	opts := httpapi.DefaultOptions()
	opts.Logger = logger.With("component", "http")
	opts.Static = cfg.Static
	opts.Version = cfg.Version
	opts.ClusterToken = cfg.ClusterToken
	opts.Ready = n.Readiness
	opts.Metrics = httpapi.NewMetrics()
	opts.Gather = n.gather
	opts.TransferLeadership = rep.TransferLeadership
	opts.ForwardTransport = peerRT
	if ts.peer != nil {
		opts.PeerAllowed = allowMember
	}
	e := httpapi.New(httpapi.NewNode(b), opts)

	grace := cfg.ShutdownGrace
	if grace <= 0 {
		grace = 5 * time.Second
	}
	go func() { n.served <- httpapi.Serve(sctx, e, ln, grace) }()
	n.peerServed = make(chan error, 1)
	if peerLn != nil {
		// The same API on its own listener (and its own echo, so that the
		// two shut down independently); with a cluster CA only nodes of
		// that CA get through its handshake.
		ep := httpapi.New(httpapi.NewNode(b), opts)
		go func() { n.peerServed <- httpapi.Serve(sctx, ep, peerLn, grace) }()
	} else {
		n.peerServed <- nil
	}
	go func() {
		select {
		case <-ctx.Done():
			_ = n.Stop()
		case <-sctx.Done():
		}
	}()
	n.tls = ts
	logger.Info("server: node started", "id", cfg.ID, "api", apiAddr, "peer_api", peerAddr, "raft", n.RaftAddr,
		"tls", ts.certs != nil, "mutual_tls", ts.peer != nil)

	switch {
	case cfg.Join != "" && rep.HadState():
		// Restarting a member: Raft reaches its peers on its own. Asking
		// cfg.Join again would make the start depend on that one node
		// being up, and two nodes down would then cost the quorum.
		logger.Info("server: Raft state exists, not asking to join again", "join", cfg.Join)
	case cfg.Join != "":
		if err := joinCluster(ctx, hc, cfg.Join, cfg.ClusterToken, cfg.ID, n.RaftAddr, peerAddr, logger); err != nil {
			_ = n.Stop()
			removeFresh()
			return nil, err
		}
	}
	return n, nil
}

// Stop shuts the node down: a leader first hands leadership to another
// voter (so that writes pause for a hand-over, not for an election after
// the followers' timeouts), then HTTP, the board's background work, the
// replica and the store. It is safe to call more than once.
func (n *Node) Stop() error {
	n.once.Do(func() {
		n.handOver()
		n.cancel()
		var errs []error
		for _, ch := range []chan error{n.served, n.peerServed} {
			if err := <-ch; err != nil && !errors.Is(err, http.ErrServerClosed) {
				errs = append(errs, err)
			}
		}
		close(n.served)
		<-n.probed
		_ = n.Board.Close()
		if err := n.Replica.Shutdown(); err != nil {
			errs = append(errs, err)
		}
		if err := n.st.Close(); err != nil {
			errs = append(errs, err)
		}
		n.err = errors.Join(errs...)
		n.log.Info("server: node stopped", "id", n.ID)
	})
	return n.err
}

// handOver transfers leadership before a shutdown, if this node leads a
// cluster with other voters; a failure is logged and the shutdown goes on
// (the others then elect a leader after their timeouts, as after a crash).
func (n *Node) handOver() {
	if !n.Replica.IsLeader() || n.Replica.Voters() < 2 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), n.cfg.HandOverTimeout)
	defer cancel()
	start := time.Now()
	if err := n.Replica.TransferLeadership(ctx, ""); err != nil {
		n.log.Warn("server: leadership hand-over before shutdown failed; the others will elect a leader", "err", err)
		return
	}
	id, _ := n.Replica.Leader()
	n.log.Info("server: handed leadership over before shutdown", "to", id, "took", time.Since(start).Round(time.Millisecond))
}

// ReloadTLS loads the node's certificate and key files again (SIGHUP). A
// pair that cannot be used is refused with the reason; the previous one
// stays in use.
func (n *Node) ReloadTLS() error {
	if n.tls == nil || n.tls.certs == nil {
		return nil
	}
	return n.tls.certs.Reload()
}

// listen opens a listener on addr, with TLS when ts has a certificate
// (mutual TLS for peers when peer and ts has a CA), and returns it with
// its base URL (advertise, else the scheme and the actual address).
func listen(addr, advertise string, ts *tlsSetup, peer bool) (net.Listener, string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", err
	}
	scheme := "http://"
	switch {
	case peer && ts.peer != nil:
		ln = tls.NewListener(ln, ts.peer.ServerConfig(nil))
		scheme = "https://"
	case ts.certs != nil:
		ln = tls.NewListener(ln, ts.publicConfig())
		scheme = "https://"
	}
	base := advertise
	if base == "" {
		base = scheme + ln.Addr().String()
	}
	return ln, strings.TrimSuffix(base, "/"), nil
}

// freshDir reports whether dir does not exist or is empty: a node that has
// never run there.
func freshDir(dir string) bool {
	ents, err := os.ReadDir(dir)
	return errors.Is(err, os.ErrNotExist) || (err == nil && len(ents) == 0)
}

func openStore(ctx context.Context, cfg *Config) (store.Store, error) {
	if cfg.usePostgres() {
		st, err := store.OpenPostgres(ctx, cfg.Store, store.PostgresOptions{Schema: cfg.PostgresSchema})
		if err != nil {
			return nil, fmt.Errorf("server: open PostgreSQL store: %w", err)
		}
		return st, nil
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("server: data directory: %w", err)
	}
	st, err := store.OpenBolt(filepath.Join(cfg.DataDir, "state.db"), store.BoltOptions{})
	if err != nil {
		return nil, fmt.Errorf("server: open store: %w", err)
	}
	return st, nil
}

// joinCluster asks a member to add this node, retrying while the cluster
// elects a leader or the member is starting.
func joinCluster(ctx context.Context, hc *http.Client, base, token, id, raftAddr, apiAddr string, log *slog.Logger) error {
	body, _ := json.Marshal(api.JoinRequest{ID: id, RaftAddr: raftAddr, APIAddr: apiAddr})
	deadline := time.Now().Add(60 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(base, "/")+api.Prefix+"/cluster/join", bytes.NewReader(body))
		if err != nil {
			return fmt.Errorf("server: join: %w", err)
		}
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := hc.Do(req)
		if err == nil {
			msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			if resp.StatusCode/100 == 2 {
				log.Info("server: joined the cluster", "via", base)
				return nil
			}
			err = fmt.Errorf("status %d: %s", resp.StatusCode, bytes.TrimSpace(msg))
			if resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusBadRequest {
				return fmt.Errorf("server: join via %s: %w", base, err)
			}
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("server: join via %s: %w", base, ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
	return fmt.Errorf("server: join via %s: %w", base, last)
}

func forwardCosign(ctx context.Context, hc *http.Client, leaderAPI, token string, cmd []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(leaderAPI, "/")+api.CosignPath, bytes.NewReader(cmd))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("server: forward cosignature: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("server: forward cosignature: status %d", resp.StatusCode)
	}
	return nil
}

// witnessClients reaches each named witness at its configured URL.
func witnessClients(urls map[string]string) map[string]board.WitnessClient {
	if len(urls) == 0 {
		return nil
	}
	out := make(map[string]board.WitnessClient, len(urls))
	for name, u := range urls {
		out[name] = &witness.Client{URL: u}
	}
	return out
}
