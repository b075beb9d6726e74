package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urna-vote/urna/internal/keyfile"
	"github.com/urna-vote/urna/internal/server"
)

func init() {
	register(&command{
		name:    "certs",
		summary: "make a CA and node certificates for a board's mutual TLS",
		usage:   "--dir DIR --node ID=HOST[,HOST...] [--node ...] [--days N]",
		help: `Makes the TLS material of a board's nodes in DIR: a private CA (ca.pem and
ca.key, made on first use, reused afterwards) and for each --node a
certificate ID.pem with its key ID.key (ECDSA P-256). A node certificate
names the node ID as its common name and a DNS name (the identity peers
check against the cluster membership) and the host names and IP addresses
it is reached at. Keys are written owner-only; no existing file is replaced.

Give every node its ID.pem, ID.key and ca.pem, and run it with
  urna node --tls-cert ID.pem --tls-key ID.key --tls-ca ca.pem --peer-http ADDR ...
Keep ca.key offline: it makes new members. For a production board an
institution's own PKI can issue the certificates instead (same rules).

Example:
  urna certs --dir pki --node n1=10.0.0.1,n1.board.example.org --node n2=10.0.0.2 --node n3=10.0.0.3`,
		flags: certsFlags,
	})
}

// certNodes collects repeated --node ID=HOST,... flags.
type certNodes []string

func (l *certNodes) String() string     { return strings.Join(*l, " ") }
func (l *certNodes) Set(v string) error { *l = append(*l, v); return nil }

func certsFlags(fs *flag.FlagSet) action {
	dir := fs.String("dir", "", "`directory` of the CA and the certificates")
	var nodes certNodes
	fs.Var(&nodes, "node", "a node to certify: `ID=HOST[,HOST...]` (repeatable)")
	days := fs.Int("days", 397, "validity of the node certificates in `days`")
	caDays := fs.Int("ca-days", 3650, "validity of a new CA in `days`")
	return func(_ context.Context, e *env, _ []string) error {
		return runCerts(e, *dir, nodes, *days, *caDays)
	}
}

func runCerts(e *env, dir string, nodes []string, days, caDays int) error {
	switch {
	case dir == "":
		return usagef("--dir is required")
	case len(nodes) == 0:
		return usagef("give at least one --node ID=HOST")
	case days < 1 || caDays < days:
		return usagef("--days must be at least 1 and at most --ca-days")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("urna certs: %w", err)
	}
	ca, err := loadOrMakeCA(e, dir, time.Duration(caDays)*24*time.Hour)
	if err != nil {
		return err
	}
	for _, n := range nodes {
		id, hosts, ok := strings.Cut(n, "=")
		if !ok || id == "" || hosts == "" || strings.ContainsAny(id, " +/\t") {
			return usagef("--node %q: want ID=HOST[,HOST...]", n)
		}
		c, err := server.NewNodeCert(ca, id, strings.Split(hosts, ","), time.Duration(days)*24*time.Hour)
		if err != nil {
			return fmt.Errorf("urna certs: %w", err)
		}
		if err := keyfile.Write(filepath.Join(dir, id+".key"), c.KeyPEM); err != nil {
			return fmt.Errorf("urna certs: %w", err)
		}
		if err := writeNew(filepath.Join(dir, id+".pem"), c.CertPEM); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%s: %s.pem and %s.key (names %s; valid until %s)\n", id,
			filepath.Join(dir, id), filepath.Join(dir, id), strings.Join(append([]string{id}, strings.Split(hosts, ",")...), ", "),
			c.Cert.NotAfter.UTC().Format(time.DateOnly))
	}
	return nil
}

func loadOrMakeCA(e *env, dir string, valid time.Duration) (*server.CertPair, error) {
	certPath, keyPath := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca.key")
	certPEM, err := os.ReadFile(certPath)
	if err == nil {
		keyPEM, err := keyfile.Read(keyPath)
		if err != nil {
			return nil, fmt.Errorf("urna certs: the CA key beside %s: %w", certPath, err)
		}
		ca, err := server.ParseCA(certPEM, keyPEM)
		if err != nil {
			return nil, fmt.Errorf("urna certs: %s: %w", certPath, err)
		}
		fmt.Fprintf(e.stdout, "using the CA in %s\n", certPath)
		return ca, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("urna certs: %w", err)
	}
	ca, err := server.NewCA("urna board CA "+filepath.Base(filepath.Clean(dir)), valid)
	if err != nil {
		return nil, fmt.Errorf("urna certs: %w", err)
	}
	if err := keyfile.Write(keyPath, ca.KeyPEM); err != nil {
		return nil, fmt.Errorf("urna certs: %w", err)
	}
	if err := writeNew(certPath, ca.CertPEM); err != nil {
		return nil, err
	}
	fmt.Fprintf(e.stdout, "made a new CA: %s (give it to every node) and %s (keep it offline)\n", certPath, keyPath)
	return ca, nil
}

// writeNew writes a public file that must not exist yet.
func writeNew(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return withHint(fmt.Errorf("urna certs: %w", err), "remove the old file first, or choose another --dir")
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("urna certs: %s: %w", path, err)
	}
	return nil
}
