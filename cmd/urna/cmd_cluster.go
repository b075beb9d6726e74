package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"text/tabwriter"
	"time"

	"github.com/urna-vote/urna/internal/api"
	"github.com/urna-vote/urna/internal/apiclient"
)

func init() {
	roleCommand("cluster", "list and change the members of a board's Raft cluster", `
Talks to any member (--node); changes are forwarded to the leader. From the
node's own machine (loopback) no credentials are needed; from elsewhere give
the cluster token (--token-file), or a node certificate (--cert, --key) on a
peer listener with mutual TLS. --ca names the CA of an https:// --node that
is not in the system's trust store.`, []*command{
		clusterCmd("list", "show the members, their addresses and the leader", "--node URL [flags]",
			func(_ *flag.FlagSet, c *clusterOpts) action {
				return func(ctx context.Context, e *env, _ []string) error { return c.list(ctx, e) }
			}),
		clusterCmd("add", "add a node (as POST /cluster/join does for a node started with --join)", "--node URL --id ID --raft HOST:PORT --api URL [flags]",
			func(fs *flag.FlagSet, c *clusterOpts) action {
				id := fs.String("id", "", "the new node's `ID`")
				raft := fs.String("raft", "", "the new node's Raft `address` (its --raft-advertise)")
				apiURL := fs.String("api", "", "the `URL` peers call the new node at (its peer or API URL)")
				return func(ctx context.Context, e *env, _ []string) error {
					if *id == "" || *raft == "" || *apiURL == "" {
						return usagef("--id, --raft and --api are required")
					}
					return c.change(ctx, e, "added "+*id, func(cl *apiclient.Client) error { return cl.Join(ctx, *id, *raft, *apiURL) })
				}
			}),
		clusterCmd("remove", "remove a node from the cluster", "--node URL --id ID [flags]",
			func(fs *flag.FlagSet, c *clusterOpts) action {
				id := fs.String("id", "", "`ID` of the node to remove")
				return func(ctx context.Context, e *env, _ []string) error {
					if *id == "" {
						return usagef("--id is required")
					}
					return c.change(ctx, e, "removed "+*id, func(cl *apiclient.Client) error { return cl.Remove(ctx, *id) })
				}
			}),
		clusterCmd("transfer-leadership", "hand leadership to another voter (before maintenance of the leader)", "--node URL [--to ID] [flags]",
			func(fs *flag.FlagSet, c *clusterOpts) action {
				to := fs.String("to", "", "`ID` of the voter to hand over to (default: the most up-to-date one)")
				return func(ctx context.Context, e *env, _ []string) error { return c.transfer(ctx, e, *to) }
			}),
	})
}

// clusterCmd is a cluster subcommand: flags declares its own flags after
// the common ones in c.
func clusterCmd(name, summary, usage string, flags func(fs *flag.FlagSet, c *clusterOpts) action) *command {
	return &command{name: name, summary: summary, usage: usage, flags: func(fs *flag.FlagSet) action {
		return flags(fs, clusterFlags(fs))
	}}
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
	t, err := tlsTransport("cluster", c.ca, c.cert, c.key)
	if err != nil {
		return nil, err
	}
	return &http.Client{Transport: t, Timeout: 60 * time.Second}, nil
}

func (c *clusterOpts) token() (string, error) {
	if c.tokenFile == "" {
		return "", nil
	}
	tok, err := readClusterToken(c.tokenFile)
	if err != nil {
		return "", fmt.Errorf("urna cluster: %w", err)
	}
	return tok, nil
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
