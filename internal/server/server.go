package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
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
	RaftAddr string
	Board    *board.Board
	Replica  *replica.Node

	st     store.Store
	log    *slog.Logger
	cancel context.CancelFunc
	served chan error
	once   sync.Once
	err    error
}

// Run starts a node and serves until ctx is cancelled, then shuts down.
func Run(ctx context.Context, cfg Config) error {
	n, err := Start(ctx, cfg)
	if err != nil {
		return err
	}
	select {
	case <-ctx.Done():
	case err := <-n.served:
		// the HTTP server died: stop everything and report it
		n.served <- err
	}
	return n.Stop()
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
	st, err := openStore(ctx, &cfg)
	if err != nil {
		return nil, err
	}
	cleanup := []func(){func() { _ = st.Close() }}
	fail := func(err error) (*Node, error) {
		for i := len(cleanup) - 1; i >= 0; i-- {
			cleanup[i]()
		}
		return nil, err
	}

	ln, err := net.Listen("tcp", cfg.HTTPListen)
	if err != nil {
		return fail(fmt.Errorf("server: HTTP listen: %w", err))
	}
	cleanup = append(cleanup, func() { _ = ln.Close() })
	apiAddr := cfg.HTTPAdvertise
	if apiAddr == "" {
		apiAddr = "http://" + ln.Addr().String()
	}
	apiAddr = strings.TrimSuffix(apiAddr, "/")

	hc := &http.Client{Timeout: 10 * time.Second}
	b, err := board.Open(board.Config{
		NodeID: cfg.ID, Store: st, Key: key, Logger: logger.With("component", "board"),
		CosignInterval: cfg.CosignInterval, SkipChecks: cfg.SkipChecks, Witnesses: witnessClients(cfg.Witnesses),
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
	rc.APIAddr, rc.Bootstrap = apiAddr, cfg.Bootstrap
	rc.Logger = logger.With("component", "replica")
	if cfg.Replica != nil {
		cfg.Replica(&rc)
	}
	rep, err := replica.New(rc, b.FSM)
	if err != nil {
		return fail(err)
	}
	cleanup = append(cleanup, func() { _ = rep.Shutdown() })
	b.Attach(rep)
	b.Start()

	opts := httpapi.DefaultOptions()
	opts.Logger = logger.With("component", "http")
	opts.Static = cfg.Static
	opts.ClusterToken = cfg.ClusterToken
	e := httpapi.New(httpapi.NewNode(b), opts)

	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	n := &Node{
		ID: cfg.ID, APIAddr: apiAddr, RaftAddr: rep.RaftAddr(), Board: b, Replica: rep,
		st: st, log: logger, cancel: cancel, served: make(chan error, 1),
	}
	grace := cfg.ShutdownGrace
	if grace <= 0 {
		grace = 5 * time.Second
	}
	go func() { n.served <- httpapi.Serve(sctx, e, ln, grace) }()
	go func() {
		select {
		case <-ctx.Done():
			_ = n.Stop()
		case <-sctx.Done():
		}
	}()
	logger.Info("server: node started", "id", cfg.ID, "api", apiAddr, "raft", n.RaftAddr)

	if cfg.Join != "" {
		if err := joinCluster(ctx, hc, cfg.Join, cfg.ClusterToken, cfg.ID, n.RaftAddr, apiAddr, logger); err != nil {
			_ = n.Stop()
			return nil, err
		}
	}
	return n, nil
}

// Stop shuts the node down: HTTP first, then the board's background work,
// the replica and the store. It is safe to call more than once.
func (n *Node) Stop() error {
	n.once.Do(func() {
		n.cancel()
		var errs []error
		if err := <-n.served; err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
		close(n.served)
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
