package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urna-vote/urna/internal/api"
	"github.com/urna-vote/urna/internal/apiclient"
	"github.com/urna-vote/urna/internal/keyfile"
	"github.com/urna-vote/urna/internal/server"
)

func init() {
	roleCommand("cluster", "list and change the members of a board's Raft cluster", `
Talks to any member (--node); changes are forwarded to the leader. From the
node's own machine (loopback) no credentials are needed; from elsewhere give
the cluster token (--token-file), or a node certificate (--cert, --key) on a
peer listener with mutual TLS. --ca names the CA of an https:// --node that
is not in the system's trust store.`, []*command{{
		name:    "list",
		summary: "show the members, their addresses and the leader",
		usage:   "--node URL [flags]",
		flags: func(fs *flag.FlagSet) action {
			c := clusterFlags(fs)
			return func(ctx context.Context, e *env, _ []string) error { return c.list(ctx, e) }
		},
	}, {
		name:    "add",
		summary: "add a node (as POST /cluster/join does for a node started with --join)",
		usage:   "--node URL --id ID --raft HOST:PORT --api URL [flags]",
		flags: func(fs *flag.FlagSet) action {
			c := clusterFlags(fs)
			id := fs.String("id", "", "the new node's `ID`")
			raft := fs.String("raft", "", "the new node's Raft `address` (its --raft-advertise)")
			apiURL := fs.String("api", "", "the `URL` peers call the new node at (its peer or API URL)")
			return func(ctx context.Context, e *env, _ []string) error {
				if *id == "" || *raft == "" || *apiURL == "" {
					return usagef("--id, --raft and --api are required")
				}
				return c.change(ctx, e, "added "+*id, func(cl *apiclient.Client) error { return cl.Join(ctx, *id, *raft, *apiURL) })
			}
		},
	}, {
		name:    "remove",
		summary: "remove a node from the cluster",
		usage:   "--node URL --id ID [flags]",
		flags: func(fs *flag.FlagSet) action {
			c := clusterFlags(fs)
			id := fs.String("id", "", "`ID` of the node to remove")
			return func(ctx context.Context, e *env, _ []string) error {
				if *id == "" {
					return usagef("--id is required")
				}
				return c.change(ctx, e, "removed "+*id, func(cl *apiclient.Client) error { return cl.Remove(ctx, *id) })
			}
		},
	}, {
		name:    "transfer-leadership",
		summary: "hand leadership to another voter (before maintenance of the leader)",
		usage:   "--node URL [--to ID] [flags]",
		flags: func(fs *flag.FlagSet) action {
			c := clusterFlags(fs)
			to := fs.String("to", "", "`ID` of the voter to hand over to (default: the most up-to-date one)")
			return func(ctx context.Context, e *env, _ []string) error { return c.transfer(ctx, e, *to) }
		},
	}})
}

type clusterOpts struct {
	node, tokenFile, ca, cert, key string
}

func clusterFlags(fs *flag.FlagSet) *clusterOpts {
	c := &clusterOpts{}
	fs.StringVar(&c.node, "node", defaultNode, "API base `URL` of a member")
	fs.StringVar(&c.tokenFile, "token-file", "", "`file` holding the cluster token (owner-only permissions)")
	fs.StringVar(&c.ca, "ca", "", "PEM `file` of the CA that signed the node's certificate (private CAs)")
	fs.StringVar(&c.cert, "cert", "", "client certificate `file` for a peer listener with mutual TLS")
	fs.StringVar(&c.key, "key", "", "key `file` of --cert")
	return c
}

// httpClient returns a client trusting --ca and presenting --cert.
func (c *clusterOpts) httpClient() (*http.Client, error) {
	t := http.DefaultTransport.(*http.Transport).Clone()
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.ca != "" {
		pool, err := server.ReadCertPool(c.ca)
		if err != nil {
			return nil, fmt.Errorf("urna cluster: --ca: %w", err)
		}
		cfg.RootCAs = pool
	}
	if (c.cert == "") != (c.key == "") {
		return nil, usagef("give both --cert and --key, or neither")
	}
	if c.cert != "" {
		keyPEM, err := keyfile.Read(c.key)
		if err != nil {
			return nil, fmt.Errorf("urna cluster: --key: %w", err)
		}
		certPEM, err := os.ReadFile(c.cert)
		if err != nil {
			return nil, fmt.Errorf("urna cluster: --cert: %w", err)
		}
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, fmt.Errorf("urna cluster: --cert and --key: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	t.TLSClientConfig = cfg
	return &http.Client{Transport: t, Timeout: 60 * time.Second}, nil
}

func (c *clusterOpts) token() (string, error) {
	if c.tokenFile == "" {
		return "", nil
	}
	b, err := keyfile.Read(c.tokenFile)
	if err != nil {
		return "", fmt.Errorf("urna cluster: cluster token: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

func (c *clusterOpts) client() (*apiclient.Client, error) {
	hc, err := c.httpClient()
	if err != nil {
		return nil, err
	}
	tok, err := c.token()
	if err != nil {
		return nil, err
	}
	cl, err := apiclient.New(c.node, apiclient.Options{HTTPClient: hc, ClusterToken: tok, MaxRetries: 3})
	if err != nil {
		return nil, withHint(err, "give a member's API base URL, e.g. --node https://n1.board.example.org")
	}
	return cl, nil
}

func (c *clusterOpts) list(ctx context.Context, e *env) error {
	cl, err := c.client()
	if err != nil {
		return err
	}
	info, err := cl.Cluster(ctx)
	if err != nil {
		return nodeError(c.node, err)
	}
	w := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tSUFFRAGE\tLEADER\tRAFT\tAPI")
	for _, s := range info.Servers {
		lead := ""
		if s.Leader {
			lead = "yes"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", s.ID, s.Suffrage, lead, s.RaftAddr, s.APIAddr)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if info.Leader == "" {
		fmt.Fprintln(e.stderr, "warning: the cluster has no leader right now (no writes are possible)")
	}
	return nil
}

func (c *clusterOpts) change(ctx context.Context, e *env, done string, do func(*apiclient.Client) error) error {
	cl, err := c.client()
	if err != nil {
		return err
	}
	if err := do(cl); err != nil {
		return clusterError(c.node, err)
	}
	fmt.Fprintln(e.stdout, done)
	return nil
}

func clusterError(node string, err error) error {
	var ae *apiclient.Error
	if errors.As(err, &ae) && ae.Code == api.CodeNotAuthorized {
		return withHint(err, "run it on a member's machine (loopback), or give --token-file, or a member's --cert/--key on the peer listener")
	}
	return nodeError(node, err)
}

func (c *clusterOpts) transfer(ctx context.Context, e *env, to string) error {
	cl, err := c.client()
	if err != nil {
		return err
	}
	if err := cl.TransferLeadership(ctx, to); err != nil {
		return clusterError(c.node, err)
	}
	// The old leader has stepped down; the new one is elected within a
	// round trip or two. Name it once this node knows it.
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if info, err := cl.Cluster(ctx); err == nil && info.Leader != "" {
			fmt.Fprintf(e.stdout, "leadership handed over; the leader is now %s\n", info.Leader)
			return nil
		}
	}
	fmt.Fprintln(e.stdout, "leadership handed over (no new leader known yet)")
	return nil
}
