package client

// Resume is the incremental path of Follow alone, without its fallback to
// the whole record, so that tests compare it with a full verification.
var Resume = resume

// Frontier is the verifier's Merkle log right edge, for its test.
type Frontier = frontier
