package partition

import (
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/urna-vote/urna/internal/apiclient"
	"github.com/urna-vote/urna/internal/keyfile"
	"github.com/urna-vote/urna/internal/server"
	"github.com/urna-vote/urna/internal/testonly"
)

// urnaBin is the binary under test, built once by TestMain.
var urnaBin string

func TestMain(m *testing.M) { testonly.RunWithUrna(m, "partition", "../../cmd/urna", &urnaBin) }

// Ports every node listens on, at its own address.
const (
	raftPort = "7000"
	peerPort = "7443"
	apiPort  = "8443"
)

// cluster is the board's nodes, one per host of nw, with mutual TLS.
type cluster struct {
	t     *testing.T
	nw    *network
	dir   string
	pool  *x509.CertPool
	nodes []*node
}

type node struct {
	i      int
	id     string
	api    string // https://ADDR:8443
	client *apiclient.Client
	strict *apiclient.Client // the same, with consistent reads
	cmd    *exec.Cmd
	log    string
}

// startCluster writes a CA, node certificates naming each node's address,
// and the node keys the election's manifest lists, then starts n1 with
// --bootstrap and the others with --join through n1's peer listener, and
// waits until every node lists all of them.
func startCluster(t *testing.T, nw *network, keys map[string]ed25519.PrivateKey) *cluster {
	t.Helper()
	c := &cluster{t: t, nw: nw, dir: t.TempDir(), pool: x509.NewCertPool()}
	ca, err := server.NewCA("partition test CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c.pool.AddCert(ca.Cert)
	c.write("ca.pem", ca.CertPEM)
	hc := &http.Client{Transport: &http.Transport{
		TLSClientConfig:       &tls.Config{RootCAs: c.pool},
		ResponseHeaderTimeout: time.Minute,
		MaxIdleConnsPerHost:   16,
	}}
	for i := 1; i <= nw.n; i++ {
		n := &node{i: i, id: fmt.Sprintf("n%d", i), api: "https://" + nw.addr(i) + ":" + apiPort}
		cert, err := server.NewNodeCert(ca, n.id, []string{nw.addr(i)}, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		c.write(n.id+".pem", cert.CertPEM)
		c.write(n.id+".tlskey", cert.KeyPEM)
		key, ok := keys[n.id]
		if !ok {
			t.Fatalf("the election lists no key for node %s", n.id)
		}
		if err := keyfile.Write(filepath.Join(c.dir, n.id+".key"), []byte(server.FormatSeed(key.Seed()))); err != nil {
			t.Fatal(err)
		}
		// Each attempt is one recorded operation: the client never retries
		// on its own.
		n.client, err = apiclient.New(n.api, apiclient.Options{HTTPClient: hc, MaxRetries: -1, Timeout: 15 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		n.strict = n.client.Consistent()
		c.nodes = append(c.nodes, n)
	}
	for _, n := range c.nodes {
		c.start(n)
	}
	c.waitUntil("every node lists 3 servers and one leader", time.Minute, func(ctx context.Context) error {
		for _, n := range c.nodes {
			cl, err := n.client.Cluster(ctx)
			if err != nil {
				return err
			}
			if len(cl.Servers) != len(c.nodes) || cl.Leader == "" {
				return fmt.Errorf("%s lists %d servers, leader %q", n.id, len(cl.Servers), cl.Leader)
			}
		}
		return nil
	})
	return c
}

func (c *cluster) write(name string, data []byte) {
	c.t.Helper()
	if err := os.WriteFile(filepath.Join(c.dir, name), data, 0o600); err != nil {
		c.t.Fatal(err)
	}
}

// start runs `urna node` for n in its namespace. Cleanup stops it (and
// prints its log's tail when the test failed); Pdeathsig kills it should
// the test process die first.
func (c *cluster) start(n *node) {
	c.t.Helper()
	addr, f := c.nw.addr(n.i), func(name string) string { return filepath.Join(c.dir, name) }
	args := []string{"node", "--id", n.id, "--data", f(n.id), "--key-file", f(n.id + ".key"),
		"--tls-cert", f(n.id + ".pem"), "--tls-key", f(n.id + ".tlskey"), "--tls-ca", f("ca.pem"),
		"--raft", addr + ":" + raftPort, "--peer-http", addr + ":" + peerPort,
		"--http", addr + ":" + apiPort, "--http-advertise", n.api,
		"--no-web", "--log-level", "info"}
	if n.i == 1 {
		args = append(args, "--bootstrap")
	} else {
		args = append(args, "--join", "https://"+c.nw.addr(1)+":"+peerPort)
	}
	n.log = f(n.id + ".log")
	lf, err := os.Create(n.log)
	if err != nil {
		c.t.Fatal(err)
	}
	defer lf.Close()
	n.cmd = c.nw.command(n.i, urnaBin, args...)
	n.cmd.Stdout, n.cmd.Stderr = lf, lf
	n.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := n.cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() {
		_ = n.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = n.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = n.cmd.Process.Kill()
			<-done
		}
		if c.t.Failed() {
			b, _ := os.ReadFile(n.log)
			s := string(b)
			if len(s) > 6000 {
				s = "…" + s[len(s)-6000:]
			}
			c.t.Logf("log of node %s:\n%s", n.id, s)
		}
	})
}

// waitUntil polls cond until it returns nil, failing the test after limit.
func (c *cluster) waitUntil(what string, limit time.Duration, cond func(context.Context) error) {
	c.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := cond(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("waited %v for %s: %v", limit, what, err)
		}
		time.Sleep(100 * time.Millisecond) // polling interval, not a synchronisation
	}
}

// leader returns the node that says it is the leader and that the other
// nodes it can reach agree on, or nil.
func (c *cluster) leader(ctx context.Context) *node {
	votes := map[string]int{}
	self := map[string]bool{}
	for _, n := range c.nodes {
		h, err := n.client.Health(ctx)
		if err != nil {
			continue
		}
		if h.Leader != "" {
			votes[h.Leader]++
		}
		if h.Role == "leader" {
			self[h.Node] = true
		}
	}
	for _, n := range c.nodes {
		if self[n.id] && votes[n.id] >= len(c.nodes)/2+1 {
			return n
		}
	}
	return nil
}
