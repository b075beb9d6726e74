package api

import "encoding/json"

// ErrorBody is the error object of every error answer.
type ErrorBody struct {
	Code    string `json:"code"` // one of the Code constants
	Message string `json:"message"`
	Step    string `json:"step,omitempty"` // the SPEC.md verification step, e.g. "V8"
}

// ErrorResponse is the body of every error answer: {"error": {...}}.
type ErrorResponse struct {
	Error ErrorBody `json:"error"`
}

// SubmitRequest is the body of POST /api/v1/entries. Each entry is the
// unpadded base64url of a canonical entry; the server decodes them one by
// one (DecodeBytes) so that it can name the entry that is not.
type SubmitRequest struct {
	Entries []string `json:"entries"`
}

// SubmitItem is the outcome of one submitted entry: either the position it
// was committed at, or an error.
type SubmitItem struct {
	Seq     uint64     `json:"seq"`
	ID      string     `json:"id,omitempty"`      // hex entry id
	Tracker string     `json:"tracker,omitempty"` // hex tracker of a ballot
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

// Health is the answer to GET /api/v1/health.
type Health struct {
	Status  string `json:"status"`
	Node    string `json:"node"`
	Leader  string `json:"leader"`
	Role    string `json:"role"`
	Applied uint64 `json:"applied"`
	Version string `json:"version,omitempty"` // the node's build (urna --version)
}

// Counts are the election's counters in Election.
type Counts struct {
	Entries     uint64 `json:"entries"`
	Ballots     uint64 `json:"ballots"`
	Audited     uint64 `json:"audited"`
	Credentials uint64 `json:"credentials"`
	VotersVoted uint64 `json:"voters_voted"`
	// Blocks is the number of the election's blocks: the newest is
	// Blocks-1 (GET /blocks?from=).
	Blocks uint64 `json:"blocks"`
}

// TypeSpan is one entry type's place in the election's log in Election:
// the sequence number of its first entry and how many entries have it.
type TypeSpan struct {
	First uint64 `json:"first"`
	Count uint64 `json:"count"`
}

// Election is the answer to GET /api/v1/election.
type Election struct {
	ElectionID  string          `json:"election_id"`
	Title       string          `json:"title"`
	Fingerprint string          `json:"fingerprint"` // hex
	Phase       string          `json:"phase"`
	Manifest    Bytes           `json:"manifest"` // canonical manifest
	Counts      Counts          `json:"counts"`
	JointKey    string          `json:"joint_key,omitempty"` // hex
	Trustees    []TrusteeStatus `json:"trustees"`
	Nodes       []string        `json:"nodes"`
	// View is the manifest's authoring JSON (ballot.ManifestJSON).
	View json.RawMessage `json:"view"`
	// Types holds, for each entry type on the log (named as in
	// Entry.Type), its first entry and count among the Counts.Entries
	// entries: the election's timeline without reading its log.
	Types map[string]TypeSpan `json:"types"`
}

// ElectionSummary is one election of the board's list (GET
// /api/v1/elections, SPEC.md §3.14.6), in creation order.
type ElectionSummary struct {
	ElectionID  string `json:"election_id"`
	Fingerprint string `json:"fingerprint"` // hex
	Origin      string `json:"origin"`      // the checkpoint origin (SPEC.md §3.8)
	Phase       string `json:"phase"`
	Entries     uint64 `json:"entries"`
	// Attested is the size of the newest checkpoint parties accept.
	Attested uint64 `json:"attested"`
	// Default marks the default election, which the un-prefixed routes
	// show (the board's first).
	Default bool `json:"default"`
	// Archived: the board operator archived the election when its log
	// held ArchivedAt entries; it accepts no more.
	Archived   bool   `json:"archived"`
	ArchivedAt uint64 `json:"archived_at,omitempty"`
}

// Elections is the answer to GET /api/v1/elections.
type Elections struct {
	Elections []ElectionSummary `json:"elections"`
}

// TrusteeStatus is one trustee's progress in Election.
type TrusteeStatus struct {
	Index     int    `json:"index"`
	Name      string `json:"name"`
	Dealt     bool   `json:"dealt"`
	Qualified bool   `json:"qualified"`
	Decrypted bool   `json:"decrypted"`
}

// Entry is one board entry (GET /api/v1/entries, /entries/{seq}).
type Entry struct {
	Seq    uint64 `json:"seq"`
	ID     string `json:"id"`     // hex entry id
	Type   string `json:"type"`   // entry type name
	Author string `json:"author"` // hex author key
	Block  uint64 `json:"block"`
	Entry  Bytes  `json:"entry"` // canonical entry
	// View is the entry's JSON view (bulletin.EntryView), its author in hex.
	View json.RawMessage `json:"view"`
}

// EntriesResponse is the answer to GET /api/v1/entries. Next is the seq to
// ask for next.
type EntriesResponse struct {
	Entries []Entry `json:"entries"`
	Next    uint64  `json:"next"`
}

// Block is one block (GET /api/v1/blocks, /blocks/{height}, and the data of
// an "event: block" on /events).
type Block struct {
	Height   uint64 `json:"height"`
	Hash     string `json:"hash"` // hex
	Prev     string `json:"prev"` // hex
	Time     int64  `json:"time"` // unix milliseconds
	FirstSeq uint64 `json:"first_seq"`
	Count    uint32 `json:"count"`
	LogSize  uint64 `json:"log_size"`
	LogRoot  string `json:"log_root"` // hex
	Header   Bytes  `json:"header"`   // canonical block header
}

// BlocksResponse is the answer to GET /api/v1/blocks.
type BlocksResponse struct {
	Blocks []Block `json:"blocks"`
}

// Tracker is the answer to GET /api/v1/trackers/{tracker}.
type Tracker struct {
	Seq          uint64  `json:"seq"`
	ID           string  `json:"id"` // hex entry id
	Type         string  `json:"type"`
	Tracker      string  `json:"tracker"` // hex
	Counts       bool    `json:"counts"`
	SupersededBy *uint64 `json:"superseded_by"`
	Audited      bool    `json:"audited"`
}

// Checkpoint is the answer to GET /api/v1/checkpoint.
type Checkpoint struct {
	Size    uint64   `json:"size"`
	Root    string   `json:"root"` // hex
	Note    string   `json:"note"` // the signed note (C2SP signed-note text)
	Signers []string `json:"signers"`
}

// InclusionProof is the answer to GET /api/v1/proofs/inclusion.
type InclusionProof struct {
	Seq      uint64   `json:"seq"`
	Size     uint64   `json:"size"`
	LeafHash string   `json:"leaf_hash"` // hex
	Proof    []string `json:"proof"`     // hex hashes
}

// ConsistencyProof is the answer to GET /api/v1/proofs/consistency.
type ConsistencyProof struct {
	From  uint64   `json:"from"`
	To    uint64   `json:"to"`
	Proof []string `json:"proof"` // hex hashes
}

// Receipt is the answer to GET /api/v1/receipts/{seq}.
type Receipt struct {
	Receipt    Bytes  `json:"receipt"` // canonical bulletin receipt (SPEC.md §3.10)
	Tracker    string `json:"tracker"` // hex; empty for an entry that is no ballot
	Checkpoint string `json:"checkpoint"`
}

// Results is the answer to GET /api/v1/results.
type Results struct {
	Questions []QuestionResult `json:"questions"`
	Trustees  []int            `json:"trustees"`
	ResultSeq uint64           `json:"result_seq"`
}

// QuestionResult is one question's count in Results.
type QuestionResult struct {
	Text    string         `json:"text"`
	Options []OptionResult `json:"options"`
}

// OptionResult is one option's count.
type OptionResult struct {
	Text  string `json:"text"`
	Count uint64 `json:"count"`
}

// Cluster is the answer to GET /api/v1/cluster.
type Cluster struct {
	Leader  string   `json:"leader"`
	Servers []Server `json:"servers"`
}

// Server is one Raft server in Cluster.
type Server struct {
	ID       string `json:"id"`
	RaftAddr string `json:"raft_addr"`
	APIAddr  string `json:"api_addr"`
	Suffrage string `json:"suffrage"`
	Leader   bool   `json:"leader"`
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

// TransferRequest is the body of POST /api/v1/cluster/transfer-leadership:
// the voter to hand leadership to, or "" for whichever raft finds most up to
// date.
type TransferRequest struct {
	ID string `json:"id"`
}

// ReadIndexResponse is the leader's answer on ReadIndexPath: a Raft index
// such that a node whose applied index reaches it holds every write
// acknowledged before the leader answered.
type ReadIndexResponse struct {
	Index uint64 `json:"index"`
}

// StatusResponse answers a successful cluster change.
type StatusResponse struct {
	Status string `json:"status"`
}
