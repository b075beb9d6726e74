package roles

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/urna-vote/urna/bulletin"
	"github.com/urna-vote/urna/client"
	"github.com/urna-vote/urna/internal/trustee"
)

// MemoryFile is the name of a party's memory of the board, kept beside its
// keys (a voter's beside its receipts): SPEC.md §10.7.
const MemoryFile = "board-memory.json"

const kindMemory = trustee.KindBoardMemory

type memoryFile struct{ trustee.BoardMemory }

func (f *memoryFile) fileKind() string { return f.Kind }

// Memory is a party's memory of the board (SPEC.md §10.7), like the
// latest tree Go's checksum-database client keeps: the newest checkpoint
// seen per election, so that every later contact proves the board still
// extends it, and the place where evidence of a fork is written.
type Memory struct {
	dir string
	f   memoryFile
	// also are checkpoints remembered elsewhere (a trustee's key file),
	// hex fingerprint → note: proved extended too, never written here.
	also map[string]string
}

// OpenMemory reads the memory in dir, or starts an empty one.
func OpenMemory(dir string) (*Memory, error) {
	m := &Memory{dir: dir, f: memoryFile{trustee.BoardMemory{Kind: kindMemory, Elections: map[string]string{}}}}
	err := readFile(m.path(), kindMemory, true, &m.f)
	if errors.Is(err, fs.ErrNotExist) {
		return m, nil
	}
	if err != nil {
		return nil, err
	}
	if m.f.Elections == nil {
		m.f.Elections = map[string]string{}
	}
	return m, nil
}

func (m *Memory) path() string { return filepath.Join(m.dir, MemoryFile) }

// Also adds checkpoints remembered elsewhere (hex fingerprint → note, a
// trustee's key file): Known returns them too.
func (m *Memory) Also(notes map[string]string) { m.also = notes }

// Known returns the checkpoint notes remembered for the election fp.
func (m *Memory) Known(fp [32]byte) [][]byte {
	out := trustee.Known(m.f.Elections, fp)
	if n := trustee.Known(m.also, fp); n != nil && (out == nil || string(n[0]) != string(out[0])) {
		out = append(out, n...)
	}
	return out
}

// Remember keeps note as the newest checkpoint of the election fp when it
// is larger than the one remembered (the caller proved them consistent),
// and writes the memory (0600, replaced atomically).
func (m *Memory) Remember(board *bulletin.Board, fp [32]byte, note []byte) error {
	c, err := board.Open(note)
	if err != nil {
		return fmt.Errorf("roles: remembering a checkpoint: %w", err)
	}
	key := hex.EncodeToString(fp[:])
	if old, ok := m.f.Elections[key]; ok {
		if oc, err := board.Open([]byte(old)); err == nil && oc.Size >= c.Size {
			return nil
		}
	}
	m.f.Elections[key] = string(note)
	return replaceFile(m.path(), marshalFile(&m.f))
}

// LoadCheckpoints reads signed checkpoint notes a party saw (SPEC.md
// V3.8): a party's memory (MemoryFile), every note it remembers, or a file
// holding one signed note. They are not verified here.
func LoadCheckpoints(path string) ([][]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("roles: %w", err)
	}
	if !bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) {
		return [][]byte{data}, nil
	}
	var f memoryFile
	if err := readFile(path, kindMemory, false, &f); err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(f.Elections))
	for k := range f.Elections {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var out [][]byte
	for _, k := range keys {
		out = append(out, []byte(f.Elections[k]))
	}
	return out, nil
}

// KeepEvidence writes the evidence of a fork beside the memory, as
// evidence-<time>.json (0600), and returns its path.
func (m *Memory) KeepEvidence(ev *client.Evidence) (string, error) {
	path := filepath.Join(m.dir, "evidence-"+time.Now().UTC().Format("20060102T150405.000000000Z")+".json")
	if err := writeSecret(path, ev.Marshal()); err != nil {
		return "", err
	}
	return path, nil
}

// replaceFile writes data to path (0600) through a temporary file and a rename.
func replaceFile(path string, data []byte) error {
	return replaceFileWith(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// replaceFileWith is replaceFile with the contents written by write, buffered;
// on an error of write the file is left as it was.
func replaceFileWith(path string, write func(io.Writer) error) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("roles: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	if err != nil {
		return fmt.Errorf("roles: %w", err)
	}
	bw := bufio.NewWriterSize(tmp, 1<<16)
	werr := write(bw)
	if werr == nil {
		werr = bw.Flush()
	}
	cerr := tmp.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), path)
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("roles: writing %s: %w", path, werr)
	}
	return nil
}

// EvidenceError is the error of a party that caught the board forking: the
// evidence is kept at Path.
type EvidenceError struct {
	Path string
	Err  *client.ForkError
}

func (e *EvidenceError) Error() string {
	return fmt.Sprintf("roles: %v; evidence kept in %s (check it with 'urna verify --evidence %s')", e.Err, e.Path, e.Path)
}

func (e *EvidenceError) Unwrap() error { return e.Err }
