package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/urna-vote/urna/ballot"
	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/internal/keyfile"
	"github.com/urna-vote/urna/internal/server"
	"github.com/urna-vote/urna/internal/witness"
)

func init() {
	register(&command{
		name:    "witness",
		summary: "run a checkpoint witness (C2SP tlog-witness) for one or more elections",
		usage:   "--name NAME --key-file FILE --data DIR --manifest FILE... [--http ADDR]",
		help: `Runs a witness until interrupted: an independent process that cosigns the
board's checkpoints of the elections whose manifests it is given, after
checking that a quorum of the board nodes signed each one and that it
extends the last checkpoint it cosigned for that election (SPEC.md §3.13).
It keeps that checkpoint per election in --data, and keeps every refused
checkpoint that the nodes signed as evidence in --data/evidence.

The board nodes post checkpoints to POST <URL>/add-checkpoint. The witness
name and public key are listed in the manifest (version 2, "witnesses");
create the key with 'urna node-key -o witness.key', which prints the public
key.

Example:
  urna witness --name witness.example.org/urna --key-file witness.key \
    --data witness-state --manifest election.json --http 127.0.0.1:9001`,
		flags: witnessFlags,
	})
}

type witnessOpts struct {
	name      string
	keyFile   string
	dir       string
	listen    string
	manifests stringList
}

func witnessFlags(fs *flag.FlagSet) action {
	o := &witnessOpts{}
	fs.StringVar(&o.name, "name", "", "witness `name` as the manifests list it (e.g. witness.example.org/urna)")
	fs.StringVar(&o.keyFile, "key-file", "", "Ed25519 cosigning key `file` (owner-only permissions; 'urna node-key' makes one)")
	fs.StringVar(&o.dir, "data", "", "state `directory`: the last cosigned checkpoint per election, and evidence")
	fs.StringVar(&o.listen, "http", "127.0.0.1:9001", "HTTP listen `address`")
	fs.Var(&o.manifests, "manifest", "manifest `file` of an election to witness (authoring JSON or canonical bytes); repeat")
	return func(ctx context.Context, e *env, _ []string) error { return runWitness(ctx, e, o) }
}

func runWitness(ctx context.Context, e *env, o *witnessOpts) error {
	switch {
	case o.name == "":
		return usagef("--name is required")
	case o.keyFile == "":
		return withHint(errors.New("urna witness: no cosigning key: give --key-file"), "create a key with 'urna node-key -o witness.key'")
	case o.dir == "":
		return usagef("--data is required")
	case len(o.manifests) == 0:
		return usagef("give at least one --manifest")
	}
	text, err := keyfile.Read(o.keyFile)
	if err != nil {
		return fmt.Errorf("urna witness: cosigning key: %w", err)
	}
	seed, err := server.ParseSeed(string(text))
	if err != nil {
		return withHint(fmt.Errorf("urna witness: cosigning key %s: %w", o.keyFile, err), "create a key with 'urna node-key -o FILE'")
	}
	key := ed25519.NewKeyFromSeed(seed)
	var ms []*ballot.Manifest
	for _, path := range o.manifests {
		m, err := readManifestFile(path)
		if err != nil {
			return fmt.Errorf("urna witness: %w", err)
		}
		if !listsWitness(m, o.name, key.Public().(ed25519.PublicKey)) {
			fmt.Fprintf(e.stderr, "urna witness: warning: election %q does not list witness %q with this key; its parties will ignore our cosignatures\n", m.ElectionID, o.name)
		}
		ms = append(ms, m)
	}
	w, err := witness.New(witness.Config{Name: o.name, Key: key, Dir: o.dir, Elections: ms})
	if err != nil {
		return fmt.Errorf("urna witness: %w", err)
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return fmt.Errorf("urna witness: %w", err)
	}
	fmt.Fprintf(e.stdout, "witness %s (key %s) listening on http://%s%s\n", o.name, hex.EncodeToString(key.Public().(ed25519.PublicKey)), ln.Addr(), witness.AddCheckpointPath)
	for _, m := range ms {
		fp := m.Fingerprint()
		fmt.Fprintf(e.stdout, "  election %s: origin %s\n", m.ElectionID, bulletin.Origin(m.ElectionID, fp))
	}
	srv := &http.Server{Handler: w.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("urna witness: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

// readManifestFile reads a manifest in its authoring JSON or canonical form.
func readManifestFile(path string) (*ballot.Manifest, error) {
	raw, err := keyfile.ReadPublic(path)
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	var m *ballot.Manifest
	if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] == '{' {
		m, err = ballot.ParseManifestJSON(raw)
	} else {
		m, err = ballot.ParseManifest(raw)
	}
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", path, err)
	}
	return m, nil
}

func listsWitness(m *ballot.Manifest, name string, pub ed25519.PublicKey) bool {
	for _, w := range m.Witnesses {
		if w.Name == name && bytes.Equal(w.Key, pub) {
			return true
		}
	}
	return false
}
