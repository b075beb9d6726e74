// Package demo runs a whole Urna election on one machine: `urna demo`.
//
// It starts a 3-node board cluster on loopback in this process
// (internal/server, bbolt stores), then plays every party through the HTTP
// API exactly as the separate `urna` commands do (internal/roles): the
// election authority posts a manifest with two questions (1 of 4, 2 of 5),
// the credential authority issues credentials, three trustees run the key
// ceremony with threshold 2, simulated voters cast ballots (some vote
// again, some challenge a ballot first), the authority closes, only two of
// the three trustees decrypt, the authority posts the result, and the
// complete election record is verified with package client.
//
// A manifest template of version 3 (ranked, score and write-in questions;
// RunRanked's or Config.Manifest) is held by mixed.go: voters answer at
// random, every trustee shuffles the mixed questions after the close,
// threshold of them decrypt, and the decrypted answers must be exactly the
// ones cast.
//
// Run succeeds only if the published result equals the count of the
// simulated plaintext choices and every verification step passes. Progress
// goes to Config.Progress; the result tables and the verdict to Config.Out.
// Voters' credentials are secrets: the demo keeps them in files under the
// data directory (owner-only) and prints a few only with Serve, for a
// person to try by hand.
package demo
