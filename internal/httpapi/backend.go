package httpapi

import (
	"context"
	"encoding/json"
	"io"
)

// Backend is what a board node offers the HTTP layer. internal/board (through
// internal/server) implements it; handlers only translate HTTP to these calls
// and back (docs/API.md). Errors are mapped to status codes in one place
// (errors.go) from the sentinels of bulletin, replica and store.
//
// This interface is the contract between the node and the API: change it
// only together with both sides.
type Backend interface {
	// Submit pre-checks the canonical entries (signatures and proofs, batched),
	// proposes the valid ones and waits until they are committed. It returns
	// one result per entry, in order. On a follower it returns an error
	// wrapping replica.ErrNotLeader and the handler forwards the request to
	// LeaderAPI().
	Submit(ctx context.Context, entries [][]byte) ([]SubmitResult, error)
	// LeaderAPI is the HTTP base URL of the current leader ("" when unknown).
	LeaderAPI() string

	Health(ctx context.Context) (*Health, error)
	Election(ctx context.Context) (*ElectionStatus, error) // store.ErrNotFound before the manifest
	Entries(ctx context.Context, from uint64, limit int) ([]EntryInfo, error)
	Blocks(ctx context.Context, from uint64, limit int) ([]BlockInfo, error)
	// Tracker looks a ballot up by its short form or full hex tracker.
	Tracker(ctx context.Context, tracker string) (*TrackerInfo, error)
	Checkpoint(ctx context.Context) (*CheckpointInfo, error)
	InclusionProof(ctx context.Context, seq, size uint64) (*InclusionInfo, error)
	ConsistencyProof(ctx context.Context, from, to uint64) (*ConsistencyInfo, error)
	Receipt(ctx context.Context, seq uint64) (*ReceiptInfo, error)
	Results(ctx context.Context) (*ResultsInfo, error)
	// WriteRecord streams the complete election record (bulletin record format).
	WriteRecord(ctx context.Context, w io.Writer) error
	// Subscribe delivers blocks as they are committed until cancel is called.
	Subscribe(ctx context.Context) (blocks <-chan BlockInfo, cancel func())

	Cluster(ctx context.Context) (*ClusterInfo, error)
	Join(ctx context.Context, id, raftAddr, apiAddr string) error
	Remove(ctx context.Context, id string) error
}

// SubmitResult is the outcome of one submitted entry.
type SubmitResult struct {
	Seq     uint64 `json:"seq"`
	ID      string `json:"id"` // hex entry id
	Tracker string `json:"tracker,omitempty"`
	Block   uint64 `json:"block"`
	Err     error  `json:"-"` // a domain rejection (bulletin sentinel, wrapped)
}

type Health struct {
	Status  string `json:"status"`
	Node    string `json:"node"`
	Leader  string `json:"leader"`
	Role    string `json:"role"`
	Applied uint64 `json:"applied"`
}

type Counts struct {
	Entries     uint64 `json:"entries"`
	Ballots     uint64 `json:"ballots"`
	Audited     uint64 `json:"audited"`
	Credentials uint64 `json:"credentials"`
	VotersVoted uint64 `json:"voters_voted"`
}

type ElectionStatus struct {
	ElectionID  string          `json:"election_id"`
	Title       string          `json:"title"`
	Fingerprint string          `json:"fingerprint"`
	Phase       string          `json:"phase"`
	Manifest    []byte          `json:"manifest"` // canonical bytes; JSON base64url via the handler
	Counts      Counts          `json:"counts"`
	JointKey    string          `json:"joint_key,omitempty"` // hex
	Trustees    []TrusteeStatus `json:"trustees"`
	Nodes       []string        `json:"nodes"`
	// View is a human-readable JSON view of the manifest (questions, options).
	View json.RawMessage `json:"view"`
}

type TrusteeStatus struct {
	Index     int    `json:"index"`
	Name      string `json:"name"`
	Dealt     bool   `json:"dealt"`
	Qualified bool   `json:"qualified"`
	Decrypted bool   `json:"decrypted"`
}

type EntryInfo struct {
	Seq    uint64          `json:"seq"`
	ID     string          `json:"id"`
	Type   string          `json:"type"`
	Author string          `json:"author"` // hex key
	Block  uint64          `json:"block"`
	Entry  []byte          `json:"entry"` // canonical bytes
	View   json.RawMessage `json:"view"`
}

type BlockInfo struct {
	Height   uint64 `json:"height"`
	Hash     string `json:"hash"`
	Prev     string `json:"prev"`
	Time     int64  `json:"time"` // unix milliseconds
	FirstSeq uint64 `json:"first_seq"`
	Count    uint32 `json:"count"`
	LogSize  uint64 `json:"log_size"`
	LogRoot  string `json:"log_root"`
	Header   []byte `json:"header"`
}

type TrackerInfo struct {
	Seq          uint64  `json:"seq"`
	ID           string  `json:"id"`
	Type         string  `json:"type"`
	Tracker      string  `json:"tracker"`
	Counts       bool    `json:"counts"`
	SupersededBy *uint64 `json:"superseded_by"`
	Audited      bool    `json:"audited"`
}

type CheckpointInfo struct {
	Size    uint64   `json:"size"`
	Root    string   `json:"root"`
	Note    string   `json:"note"`
	Signers []string `json:"signers"`
}

type InclusionInfo struct {
	Seq      uint64   `json:"seq"`
	Size     uint64   `json:"size"`
	LeafHash string   `json:"leaf_hash"`
	Proof    []string `json:"proof"`
}

type ConsistencyInfo struct {
	From  uint64   `json:"from"`
	To    uint64   `json:"to"`
	Proof []string `json:"proof"`
}

type ReceiptInfo struct {
	Receipt    []byte `json:"receipt"` // canonical bulletin receipt
	Tracker    string `json:"tracker"`
	Checkpoint string `json:"checkpoint"`
}

type ResultsInfo struct {
	Questions []QuestionResult `json:"questions"`
	Trustees  []int            `json:"trustees"`
	ResultSeq uint64           `json:"result_seq"`
}

type QuestionResult struct {
	Text    string         `json:"text"`
	Options []OptionResult `json:"options"`
}

type OptionResult struct {
	Text  string `json:"text"`
	Count uint64 `json:"count"`
}

type ClusterInfo struct {
	Leader  string       `json:"leader"`
	Servers []ServerInfo `json:"servers"`
}

type ServerInfo struct {
	ID       string `json:"id"`
	RaftAddr string `json:"raft_addr"`
	APIAddr  string `json:"api_addr"`
	Suffrage string `json:"suffrage"`
	Leader   bool   `json:"leader"`
}
