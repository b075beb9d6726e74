// Package methods counts decrypted ballots of ranked and score questions:
// instant-runoff voting (IRV), single transferable vote (STV, by the
// Weighted Inclusive Gregory Method with exact rational arithmetic), Schulze,
// majority judgment and score sums.
//
// Every function is pure and deterministic: the same ballots (in any order)
// give the same result, byte for byte, with no randomness, no clock and no
// map iteration. Each result carries its intermediate rounds (IRV and STV
// tallies per round, the Schulze pairwise and strongest-path matrices, the
// majority-judgment grade counts) so that they can be published and checked
// by anyone who recounts the decrypted ballots.
//
// Options are numbered 0..n−1 in the order the manifest lists them. A Ranking
// lists option indices, most preferred first; it may be partial (options not
// listed are ranked below every listed option and equal among themselves)
// and may be empty (a blank ballot). A Grades ballot gives every option one
// integer grade in the question's declared range, higher is better.
//
// Ties. Where a method must pick one option among equals and its own rules
// do not decide, it looks back through the earlier rounds, latest first,
// for a round in which the tied options' tallies differ ("backwards
// tie-breaking"), and failing that favours the option listed first in the
// manifest: the lower index is elected, or kept when one must be excluded.
// Schulze, majority judgment and score sums do not break a tie for first
// place: their Winners list every tied option, and Order groups tied options
// into one tier.
package methods
