package main

import (
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"

	"github.com/urna-vote/urna/internal/durable"
	"github.com/urna-vote/urna/internal/replica"
	"github.com/urna-vote/urna/internal/server"
	"github.com/urna-vote/urna/internal/store"
	"github.com/urna-vote/urna/internal/textreport"
)

// A node's data directory, as internal/server lays it out (server.go, Start
// and openStore): the replica's directory and, with the bolt store, the
// state file.
const (
	nodeRaftDir   = "raft"
	nodeBoltState = "state.db"
)

// nodeActions are `urna node backup` and `urna node restore`.
func nodeActions() []*command {
	return []*command{{
		name:    "node backup",
		summary: "write a stopped node's state to a backup file",
		usage:   "--data DIR [--store URL --pg-schema NAME] -o FILE",
		help: `Writes the state of a STOPPED node (its bolt file or its PostgreSQL schema)
to FILE as one consistent snapshot, in the format nodes exchange as Raft
snapshots (checksummed). The file is written next to FILE and renamed into
place once complete and read back; an existing FILE is never replaced.

A running node holds its state locked: stop it first. In a cluster of three,
stop one follower whose /api/v1/health shows the leader's applied index,
back it up, and start it again; the other two keep the board running.

The signing key and the cluster token are not in the backup: keep them
separately.`,
		flags: backupFlags,
	}, {
		name:    "node restore",
		summary: "make a new node's data directory from a backup file",
		usage:   "--id ID --data DIR --raft ADDR [--store URL --pg-schema NAME] FILE",
		help: `Checks FILE completely, then builds a new node from it: the state in a new
bolt file under DIR (or in an empty PostgreSQL schema), and Raft state that
makes the node the only member of a NEW cluster, continuing the log after
the backup. Start it with the same --id, --data, --raft (or --raft-advertise)
and store flags plus --bootstrap; other nodes join it with empty
directories and receive the state.

DIR must not exist or be empty, the schema must be empty. A damaged or
truncated FILE is refused before anything is written; if any later step
fails, DIR is not created.

Do not use it to bring a member back into its running cluster: remove the
member, and let it join again with an empty directory.`,
		flags: restoreFlags,
		args:  true,
	}}
}

// stateOpts locates a node's state: the data directory and the store.
type stateOpts struct {
	dataDir  string
	store    string
	pgSchema string
}

// addFlags declares the state flags on fs.
func (o *stateOpts) addFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.dataDir, "data", "", "the node's data `directory`")
	fs.StringVar(&o.store, "store", "bolt", "state store: \"bolt\" or a PostgreSQL `URL` (postgres://…), as given to 'urna node'")
	fs.StringVar(&o.pgSchema, "pg-schema", "", "PostgreSQL `schema` of the node's tables, as given to 'urna node'")
}

func (o *stateOpts) postgres() bool {
	return server.IsPostgresURL(o.store)
}

// check checks the state flags and that exactly nargs positional
// arguments were given.
func (o *stateOpts) check(args []string, nargs int) error {
	switch {
	case len(args) > nargs:
		return usagef("unexpected argument %q", args[nargs])
	case len(args) < nargs:
		return usagef("give the backup file")
	case o.dataDir == "":
		return usagef("--data is required")
	case !o.postgres() && o.store != "bolt":
		return usagef("--store %q is neither \"bolt\" nor a postgres:// URL", o.store)
	case o.pgSchema != "" && !o.postgres():
		return usagef("--pg-schema needs a PostgreSQL --store URL")
	}
	return nil
}

// where names the state for messages, without the URL (it may carry a
// password).
func (o *stateOpts) where(dir string) string {
	if o.postgres() {
		if o.pgSchema == "" {
			return "the PostgreSQL store's default schema"
		}
		return fmt.Sprintf("PostgreSQL schema %s", o.pgSchema)
	}
	return filepath.Join(dir, nodeBoltState)
}

// open opens the state with the node's data directory at dir.
func (o *stateOpts) open(ctx context.Context, dir string) (store.Store, error) {
	if o.postgres() {
		return store.OpenPostgres(ctx, o.store, store.PostgresOptions{Schema: o.pgSchema})
	}
	return store.OpenBolt(filepath.Join(dir, nodeBoltState), store.BoltOptions{})
}

type backupOpts struct {
	state stateOpts
	out   string
}

func backupFlags(fs *flag.FlagSet) action {
	o := &backupOpts{}
	o.state.addFlags(fs)
	fs.StringVar(&o.out, "o", "", "write the backup to `file` (must not exist)")
	return func(ctx context.Context, e *env, args []string) error { return runNodeBackup(ctx, e, o, args) }
}

func runNodeBackup(ctx context.Context, e *env, o *backupOpts, args []string) error {
	if err := o.state.check(args, 0); err != nil {
		return err
	}
	if o.out == "" {
		return usagef("give the backup file with -o FILE")
	}
	if _, err := os.Lstat(o.out); err == nil {
		return fmt.Errorf("urna node backup: %s exists; a backup never replaces a file", o.out)
	}
	where := o.state.where(o.state.dataDir)
	if !o.state.postgres() {
		// OpenBolt would create an empty file: check first.
		if _, err := os.Stat(where); err != nil {
			return withHint(fmt.Errorf("urna node backup: no node state at %s: %w", where, err),
				"--data is the directory given to 'urna node --data'")
		}
	}
	st, err := o.state.open(ctx, o.state.dataDir)
	if errors.Is(err, store.ErrLocked) {
		return withHint(fmt.Errorf("urna node backup: %w", err),
			"stop the node first (its state is locked while it runs); the rest of the cluster keeps running")
	}
	if err != nil {
		return fmt.Errorf("urna node backup: %w", err)
	}
	defer st.Close()
	if empty, err := store.IsEmpty(ctx, st); err != nil {
		return fmt.Errorf("urna node backup: %w", err)
	} else if empty {
		return withHint(fmt.Errorf("urna node backup: %s holds no state", where),
			"check --data, --store and --pg-schema against the node's own flags")
	}
	info, err := writeBackup(ctx, st, o.out)
	if err != nil {
		return fmt.Errorf("urna node backup: %w", err)
	}
	fmt.Fprintf(e.stdout, "backed up %s to %s\n", where, o.out)
	printBackupInfo(e.stdout, info)
	return nil
}

// writeBackup streams a snapshot of st into a temporary file beside path,
// syncs it, reads it back with store.VerifySnapshot and links it to path
// (which fails if path appeared meanwhile).
func writeBackup(ctx context.Context, st store.Store, path string) (info store.SnapshotInfo, err error) {
	snap, err := st.Snapshot(ctx)
	if err != nil {
		return info, err
	}
	defer snap.Release()
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return info, err
	}
	tmp := f.Name()
	defer func() {
		f.Close()
		os.Remove(tmp)
	}()
	if err := f.Chmod(0o600); err != nil {
		return info, err
	}
	if _, err := snap.WriteTo(f); err != nil {
		return info, err
	}
	if err := f.Sync(); err != nil {
		return info, fmt.Errorf("writing %s: %w", tmp, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return info, err
	}
	if info, err = store.VerifySnapshot(f); err != nil {
		return info, fmt.Errorf("reading the backup back: %w", err)
	}
	if err := os.Link(tmp, path); err != nil {
		return info, err
	}
	return info, durable.SyncDir(filepath.Dir(path))
}

func printBackupInfo(w io.Writer, info store.SnapshotInfo) {
	fmt.Fprintf(w, "applied index %d: %s, %s, %s, %s\n", info.AppliedIndex,
		textreport.Plural(int(info.Entries), "entry", "entries"), textreport.Plural(int(info.Blocks), "block", "blocks"),
		textreport.Plural(int(info.Hashes), "tree hash", "tree hashes"), textreport.Plural(int(info.Keys), "index key", "index keys"))
	fmt.Fprintf(w, "%d bytes, sha256 %s\n", info.Bytes, hex.EncodeToString(info.SHA256[:]))
}

type restoreOpts struct {
	state         stateOpts
	id            string
	raft          string
	raftAdvertise string
}

func restoreFlags(fs *flag.FlagSet) action {
	o := &restoreOpts{}
	o.state.addFlags(fs)
	fs.StringVar(&o.id, "id", "", "`ID` the new node will run with")
	fs.StringVar(&o.raft, "raft", server.DefaultConfig().RaftBind, "Raft `address` the new node will listen on, as given to 'urna node --raft'")
	fs.StringVar(&o.raftAdvertise, "raft-advertise", "", "Raft `address` peers will dial (default: --raft), as given to 'urna node'")
	return func(ctx context.Context, e *env, args []string) error { return runNodeRestore(ctx, e, o, args) }
}

func runNodeRestore(ctx context.Context, e *env, o *restoreOpts, args []string) error {
	if err := o.state.check(args, 1); err != nil {
		return err
	}
	file := args[0]
	if o.id == "" {
		return usagef("--id is required")
	}
	addr := o.raft
	if o.raftAdvertise != "" {
		addr = o.raftAdvertise
	}
	host, _, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err != nil || host == "" || (ip != nil && ip.IsUnspecified()) {
		return usagef("Raft address %q: give the host:port peers dial (--raft-advertise when --raft listens on all interfaces)", addr)
	}

	// Check the whole file before anything is created.
	info, err := verifyBackupFile(file)
	if err != nil {
		return err
	}
	dir := filepath.Clean(o.state.dataDir)
	if ents, err := os.ReadDir(dir); err == nil && len(ents) > 0 {
		return withHint(fmt.Errorf("urna node restore: %s is not empty", dir),
			"restore into a new directory; move the old one aside if it is to be replaced")
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("urna node restore: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return fmt.Errorf("urna node restore: %w", err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+".restore-*")
	if err != nil {
		return fmt.Errorf("urna node restore: %w", err)
	}
	defer os.RemoveAll(tmp) // empty once renamed into place
	if err := restoreInto(ctx, o, file, info, tmp); err != nil {
		return fmt.Errorf("urna node restore: %w", err)
	}
	_ = os.Remove(dir) // an empty directory given as --data
	if err := os.Rename(tmp, dir); err != nil {
		err = fmt.Errorf("urna node restore: %w", err)
		if o.state.postgres() {
			return withHint(err, fmt.Sprintf("%s now holds the restored state: drop it before restoring again", o.state.where(dir)))
		}
		return err
	}
	if err := durable.SyncDir(filepath.Dir(dir)); err != nil {
		return fmt.Errorf("urna node restore: %w", err)
	}
	fmt.Fprintf(e.stdout, "restored %s into %s (node %s, Raft address %s, a new one-node cluster)\n", file, o.state.where(dir), o.id, addr)
	printBackupInfo(e.stdout, info)
	fmt.Fprintf(e.stdout, "start it with: urna node --id %s --data %s --raft %s --bootstrap [the same store flags] ...\n", o.id, dir, o.raft)
	return nil
}

func verifyBackupFile(file string) (store.SnapshotInfo, error) {
	f, err := os.Open(file)
	if err != nil {
		return store.SnapshotInfo{}, fmt.Errorf("urna node restore: %w", err)
	}
	defer f.Close()
	info, err := store.VerifySnapshot(f)
	if errors.Is(err, store.ErrBadSnapshot) {
		return info, withHint(fmt.Errorf("urna node restore: %s is not a valid backup (nothing was written): %w", file, err),
			"the file is damaged or truncated: use another copy of the backup")
	}
	if err != nil {
		return info, fmt.Errorf("urna node restore: %s: %w", file, err)
	}
	if info.AppliedIndex == 0 {
		return info, fmt.Errorf("urna node restore: %s holds a state that applied nothing", file)
	}
	return info, nil
}

// restoreInto builds the node in tmp: first the Raft state (it only needs
// the file), then the store, so that with PostgreSQL the schema is written
// last, in the store's one transaction.
func restoreInto(ctx context.Context, o *restoreOpts, file string, info store.SnapshotInfo, tmp string) error {
	addr := o.raft
	if o.raftAdvertise != "" {
		addr = o.raftAdvertise
	}
	err := replica.SeedCluster(replica.Seed{
		DataDir: filepath.Join(tmp, nodeRaftDir), ID: o.id, RaftAddr: addr, AppliedIndex: info.AppliedIndex,
		WriteState: func(w io.Writer) error { return copyVerified(w, file, info) },
	})
	if err != nil {
		return err
	}
	st, err := o.state.open(ctx, tmp)
	if err != nil {
		return err
	}
	closed := false
	defer func() {
		if !closed {
			st.Close()
		}
	}()
	if empty, err := store.IsEmpty(ctx, st); err != nil {
		return err
	} else if !empty {
		return fmt.Errorf("%s already holds state: restore needs an empty schema (drop it or name a new --pg-schema)", o.state.where(tmp))
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := st.Restore(ctx, f); err != nil {
		return err
	}
	var applied uint64
	if err := st.View(ctx, func(tx store.ReadTx) (err error) { applied, err = tx.AppliedIndex(); return err }); err != nil {
		return err
	}
	if applied != info.AppliedIndex {
		return fmt.Errorf("%s changed while restoring: applied index %d, checked %d", file, applied, info.AppliedIndex)
	}
	closed = true
	return st.Close()
}

// copyVerified copies file to w, checking on the way that it is still the
// stream verified before.
func copyVerified(w io.Writer, file string, want store.SnapshotInfo) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	got, err := store.VerifySnapshot(io.TeeReader(f, w))
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("%s changed while restoring", file)
	}
	return nil
}
