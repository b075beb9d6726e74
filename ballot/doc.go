// Package ballot implements what voters and the election authority post
// about ballots, and how anyone checks it (SPEC.md §4–§7, V4, V6, V8–V10):
//
//   - the election manifest, its canonical encoding and fingerprint (§4);
//   - voter credentials: short typable secrets, the Schnorr signing key
//     derived from them per election, and the public credential list (§5);
//   - encrypted ballots: per option an exponential-ElGamal ciphertext
//     (elgamal.go, §2.7) with a disjunctive Chaum–Pedersen proof that it
//     encrypts 0 or 1, per question a disjunctive proof that the number of
//     selections lies in min..max (§6);
//   - single and batch verification of ballots (V8), trackers and Benaloh
//     audits (§7, V9), and the counting rule (V10).
//   - question kinds that are mixed rather than added up
//     (docs/spec/kinds.md): ranked (an n×k matrix of 0/1 ciphertexts with
//     proofs that it is a ranking), score (a range proof per option) and
//     write-in (text encoded into group elements by try-and-increment,
//     ElGamal-encrypted, with a proof of knowledge of the randomness) in
//     manifest version 3 and ballot version 2; the rows each ballot gives
//     the mix-net (MixRow; ParseMixRow for a board's counted ballots) and
//     the decoding of decrypted rows (DecodeRow)
//     into the inputs of package tally/methods; their trackers and audits
//     (§12.9–§12.10: choices2 under the kind-choices-tracker label, the
//     audit entry that opens rankings, scores and write-in chunks).
//
// Every proof is non-interactive by strong Fiat–Shamir: the challenge hashes
// the election fingerprint, the election key, the public credential, the
// question and option indexes and the ciphertexts, then the commitments,
// under a versioned label of internal/transcript. Proofs carry their
// commitments, so verification is a set of linear equations that
// internal/batch checks for many ballots with one multi-scalar multiplication.
//
// Security assumptions: discrete logarithms in Ristretto255 are hard
// (ballot secrecy, under the joint key of fewer than t colluding trustees)
// and the hashes behave as random oracles (soundness and zero knowledge of
// the proofs). A ballot is bound to one election and one credential; the
// board envelope, signed with the credential key, is package bulletin's.
//
// Timing: Encrypt, the proofs of EncryptBallot and the key derivation run
// in constant time with respect to the choices, the randomness and the
// credential; so do GenerateCredential and ParseCredential for a valid
// credential (apart from where the separators are). EncryptBallot's check
// of the choices is not: its time depends on how many options are selected
// and on the order in which the caller lists them.
// EncryptAnswers is constant time in the answers except for checking them
// and encoding a write-in (try-and-increment, variable time in the text).
// Everything that verifies (Verify, VerifyBatch, Diagnose, VerifyOpening,
// the decoders) and MixRow are variable time and handle only public data.
//
// The package is pure: no I/O, no logging. Randomness comes in as an
// io.Reader (crypto/rand.Reader in production). Credentials, credential
// keys, Secrets and Openings-before-audit are secrets and MUST NOT be logged.
package ballot
