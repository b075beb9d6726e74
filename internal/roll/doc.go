// Package roll reads a voter roll and computes its public fingerprint
// (SPEC.md §5.4).
//
// A roll is a CSV file (RFC 4180, UTF-8, an optional byte-order mark) whose
// first line is the header
//
//	voter_id,name,contact[,weight]
//
// and whose every other line is one voter: an identifier (VoterIDSyntax),
// a name (any text, may be empty), a contact (an e-mail address or empty)
// and, when the header has the column, a weight in 1..MaxWeight (an empty
// cell means 1). Parse checks every line and reports every bad one, each
// error naming its line, so an official fixes the whole file in one pass.
//
// The voter ids and weights are the public part of the roll; names and
// contacts are private and never enter the fingerprint. Package roll is
// pure: it reads an io.Reader and does no other I/O.
package roll
