package api

import "time"

// Prefix is the path prefix of API version 1.
const Prefix = "/api/v1"

// ElectionsPath lists the board's elections; ElectionsPath + "/{id}" is
// the prefix of every per-election route (SPEC.md §3.14.6).
// The un-prefixed per-election routes are aliases of the default election.
const ElectionsPath = Prefix + "/elections"

// ElectionPrefix is the path prefix of election id's routes.
func ElectionPrefix(id string) string { return ElectionsPath + "/" + id }

// CosignPath is the node-internal route on which a follower forwards its
// checkpoint signature (a cosign command, self-authenticating by its
// Ed25519 signature) to the leader. It is guarded like the cluster routes.
const CosignPath = Prefix + "/cluster/cosign"

// ReadIndexPath is the node-internal route on which a follower asks the
// leader for the read index of a consistent read (ReadIndexResponse). It
// is guarded like the cluster routes and never forwarded.
const ReadIndexPath = Prefix + "/cluster/read-index"

// ConsistentParam is the query parameter that asks a read for a
// linearizable answer: ?consistent=1 (docs/API.md, "Consistent reads").
const ConsistentParam = "consistent"

// RecordFromParam and RecordSizeParam select a suffix of GET /record
// (SPEC.md §3.11, "Record suffix"): ?from=HEIGHT&size=LOGSIZE streams the
// blocks from height HEIGHT up to the one ending at log size LOGSIZE (the
// newest quorum checkpoint's when absent), then the node's signed
// checkpoint of that size, in the record format.
const (
	RecordFromParam = "from"
	RecordSizeParam = "size"
)

// EntryContentType is the Content-Type of a binary POST /entries: the
// body is one entry's canonical bytes (SPEC.md §3.1), up to its type's
// body limit (§3.2), and the answer is the JSON of a one-entry post.
const EntryContentType = "application/octet-stream"

// LongCheckTimeout is how long a post of an entry the node checks against
// the whole election (bulletin.EntryType.CheckedAgainstElection) is given
// to be answered, and how long a client waits for it (SPEC.md §3.14.6,
// item 5; docs/API.md, "Writing"): other posts get 60 s.
const LongCheckTimeout = 20 * time.Minute

// Limits of docs/API.md.
const (
	// MaxEntriesPerPost bounds the entries of one POST /entries.
	MaxEntriesPerPost = 256
	// DefaultPageLimit and MaxPageLimit are the default and the largest
	// page of GET /entries and /blocks; a larger limit is clamped.
	DefaultPageLimit = 100
	MaxPageLimit     = 1000
	// MaxPageBytes ends a page of GET /entries after the entry that brings
	// its entries' canonical bytes to this many or more: a short page is not
	// the end of the board; an empty one is.
	MaxPageBytes = 8 << 20
	// MaxEntriesBody bounds the body of POST /entries; MaxBody every other
	// JSON body.
	MaxEntriesBody = 16 << 20
	MaxBody        = 64 << 10
	// MaxCosignBody bounds a cosign command (node ID ≤ 64 bytes, signature
	// ≤ 128 bytes, framing).
	MaxCosignBody = 1024
	// MaxTrackerQuery bounds the {tracker} of GET /trackers/{tracker}.
	MaxTrackerQuery = 128
)
