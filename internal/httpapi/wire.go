package httpapi

import (
	"encoding/json"
	"fmt"

	"github.com/urna-vote/urna/internal/wire"
)

// The JSON shapes of docs/API.md. Backend types that hold canonical bytes
// ([]byte) have a *JSON twin here whose binary fields are unpadded base64url
// strings (SPEC.md §2.4); encoding/json would otherwise write padded std
// base64. internal/apiclient decodes into the same types, so the server and
// the client cannot drift apart.

// ErrorBody is the error object of every error answer.
type ErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Step    string `json:"step,omitempty"`
}

// ErrorResponse is the body of every error answer: {"error": {...}}.
type ErrorResponse struct {
	Error ErrorBody `json:"error"`
}

// SubmitRequest is the body of POST /api/v1/entries.
type SubmitRequest struct {
	Entries []string `json:"entries"` // base64url canonical entries
}

// SubmitItem is the outcome of one submitted entry: either the position it
// was committed at, or an error.
type SubmitItem struct {
	Seq     uint64     `json:"seq"`
	ID      string     `json:"id,omitempty"`
	Tracker string     `json:"tracker,omitempty"`
	Block   uint64     `json:"block"`
	Error   *ErrorBody `json:"error,omitempty"`
}

// MarshalJSON writes a rejected item as {"error": {...}} alone, without the
// zero seq and block that would read as a position.
func (it SubmitItem) MarshalJSON() ([]byte, error) {
	if it.Error != nil {
		return json.Marshal(struct {
			Error *ErrorBody `json:"error"`
		}{it.Error})
	}
	type plain SubmitItem
	return json.Marshal(plain(it))
}

// SubmitResponse is the answer to POST /api/v1/entries, in request order.
type SubmitResponse struct {
	Results []SubmitItem `json:"results"`
}

// EntryJSON is one board entry.
type EntryJSON struct {
	Seq    uint64          `json:"seq"`
	ID     string          `json:"id"`
	Type   string          `json:"type"`
	Author string          `json:"author"`
	Block  uint64          `json:"block"`
	Entry  string          `json:"entry"` // base64url canonical entry
	View   json.RawMessage `json:"view"`
}

// EntryToJSON encodes e for the wire.
func EntryToJSON(e EntryInfo) EntryJSON {
	return EntryJSON{Seq: e.Seq, ID: e.ID, Type: e.Type, Author: e.Author, Block: e.Block,
		Entry: wire.EncodeB64(e.Entry), View: rawOrNull(e.View)}
}

// Info decodes the wire form, strictly.
func (j EntryJSON) Info() (EntryInfo, error) {
	b, err := wire.DecodeB64(j.Entry)
	if err != nil {
		return EntryInfo{}, fmt.Errorf("httpapi: entry %d: %w", j.Seq, err)
	}
	return EntryInfo{Seq: j.Seq, ID: j.ID, Type: j.Type, Author: j.Author, Block: j.Block, Entry: b, View: j.View}, nil
}

// EntriesResponse is the answer to GET /api/v1/entries. Next is the seq to
// ask for next.
type EntriesResponse struct {
	Entries []EntryJSON `json:"entries"`
	Next    uint64      `json:"next"`
}

// BlockJSON is one block.
type BlockJSON struct {
	Height   uint64 `json:"height"`
	Hash     string `json:"hash"`
	Prev     string `json:"prev"`
	Time     int64  `json:"time"`
	FirstSeq uint64 `json:"first_seq"`
	Count    uint32 `json:"count"`
	LogSize  uint64 `json:"log_size"`
	LogRoot  string `json:"log_root"`
	Header   string `json:"header"` // base64url canonical block header
}

// BlockToJSON encodes b for the wire.
func BlockToJSON(b BlockInfo) BlockJSON {
	return BlockJSON{Height: b.Height, Hash: b.Hash, Prev: b.Prev, Time: b.Time, FirstSeq: b.FirstSeq,
		Count: b.Count, LogSize: b.LogSize, LogRoot: b.LogRoot, Header: wire.EncodeB64(b.Header)}
}

// Info decodes the wire form, strictly.
func (j BlockJSON) Info() (BlockInfo, error) {
	h, err := wire.DecodeB64(j.Header)
	if err != nil {
		return BlockInfo{}, fmt.Errorf("httpapi: block %d: %w", j.Height, err)
	}
	return BlockInfo{Height: j.Height, Hash: j.Hash, Prev: j.Prev, Time: j.Time, FirstSeq: j.FirstSeq,
		Count: j.Count, LogSize: j.LogSize, LogRoot: j.LogRoot, Header: h}, nil
}

// BlocksResponse is the answer to GET /api/v1/blocks.
type BlocksResponse struct {
	Blocks []BlockJSON `json:"blocks"`
}

// ElectionJSON is the answer to GET /api/v1/election.
type ElectionJSON struct {
	ElectionID  string          `json:"election_id"`
	Title       string          `json:"title"`
	Fingerprint string          `json:"fingerprint"`
	Phase       string          `json:"phase"`
	Manifest    string          `json:"manifest"` // base64url canonical manifest
	Counts      Counts          `json:"counts"`
	JointKey    string          `json:"joint_key,omitempty"`
	Trustees    []TrusteeStatus `json:"trustees"`
	Nodes       []string        `json:"nodes"`
	View        json.RawMessage `json:"view"`
}

// ElectionToJSON encodes s for the wire.
func ElectionToJSON(s *ElectionStatus) ElectionJSON {
	return ElectionJSON{ElectionID: s.ElectionID, Title: s.Title, Fingerprint: s.Fingerprint, Phase: s.Phase,
		Manifest: wire.EncodeB64(s.Manifest), Counts: s.Counts, JointKey: s.JointKey,
		Trustees: nonNil(s.Trustees), Nodes: nonNil(s.Nodes), View: rawOrNull(s.View)}
}

// Info decodes the wire form, strictly.
func (j ElectionJSON) Info() (*ElectionStatus, error) {
	m, err := wire.DecodeB64(j.Manifest)
	if err != nil {
		return nil, fmt.Errorf("httpapi: manifest: %w", err)
	}
	return &ElectionStatus{ElectionID: j.ElectionID, Title: j.Title, Fingerprint: j.Fingerprint, Phase: j.Phase,
		Manifest: m, Counts: j.Counts, JointKey: j.JointKey, Trustees: j.Trustees, Nodes: j.Nodes, View: j.View}, nil
}

// ReceiptJSON is the answer to GET /api/v1/receipts/{seq}.
type ReceiptJSON struct {
	Receipt    string `json:"receipt"` // base64url canonical receipt
	Tracker    string `json:"tracker"`
	Checkpoint string `json:"checkpoint"`
}

// ReceiptToJSON encodes r for the wire.
func ReceiptToJSON(r *ReceiptInfo) ReceiptJSON {
	return ReceiptJSON{Receipt: wire.EncodeB64(r.Receipt), Tracker: r.Tracker, Checkpoint: r.Checkpoint}
}

// Info decodes the wire form, strictly.
func (j ReceiptJSON) Info() (*ReceiptInfo, error) {
	b, err := wire.DecodeB64(j.Receipt)
	if err != nil {
		return nil, fmt.Errorf("httpapi: receipt: %w", err)
	}
	return &ReceiptInfo{Receipt: b, Tracker: j.Tracker, Checkpoint: j.Checkpoint}, nil
}

// JoinRequest is the body of POST /api/v1/cluster/join.
type JoinRequest struct {
	ID       string `json:"id"`
	RaftAddr string `json:"raft_addr"`
	APIAddr  string `json:"api_addr"`
}

// RemoveRequest is the body of POST /api/v1/cluster/remove.
type RemoveRequest struct {
	ID string `json:"id"`
}

// StatusResponse answers a successful cluster change.
type StatusResponse struct {
	Status string `json:"status"`
}

func rawOrNull(r json.RawMessage) json.RawMessage {
	if len(r) == 0 {
		return json.RawMessage("null")
	}
	return r
}

// nonNil makes an empty list encode as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
