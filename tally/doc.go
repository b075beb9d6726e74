// Package tally implements Urna's trustees: their keys, the distributed key
// generation that produces the election key, and the threshold decryption
// of the tally (SPEC.md §8 and §9; verification steps V7, V11, V12, V13).
//
// Key ceremony (SPEC.md §8). There is no trusted dealer. Each of the N
// trustees deals a random polynomial f_i of degree T−1 (Feldman VSS):
// it posts commitments C_ik = a_ik·G, a Schnorr proof of knowledge of
// a_i0 bound to the election fingerprint and its index, and, for every
// other trustee j, the share s_ij = f_i(j) encrypted with HPKE (RFC 9180
// base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305) to
// j's share key, with the fingerprint, i and j in the AAD. A trustee whose
// share does not decrypt or does not satisfy s_ij·G = Σ_k j^k·C_ik posts a
// Complaint; the accused dealer answers with a Reveal of the share in the
// clear, which anyone checks. A dealer is disqualified if its post is
// malformed, its proof fails, it has T or more complaints, or a complaint
// has no valid reveal. QUAL, the remaining dealers, MUST number at least T.
// The election key is K = Σ_{i∈QUAL} C_i0; trustee j's share of the
// decryption key is x_j = Σ_{i∈QUAL} s_ij and its public verification key
// X_j = Σ_{i∈QUAL} Σ_k j^k·C_ik = x_j·G is computable from the board.
//
// Security assumptions: discrete log and DDH in Ristretto255; the random
// oracle model for the Fiat–Shamir proofs; IND-CCA2 of HPKE for share
// confidentiality. Fewer than T trustees learn nothing about the decryption
// key. As in Pedersen's DKG with Feldman commitments, a rushing adversary can
// bias the distribution of K, which does not affect ElGamal's security.
//
// Tally (SPEC.md §9). The counted ballots' option ciphertexts are summed per
// question and option. Each present trustee publishes D = x_j·Alpha for
// every sum with a Chaum–Pedersen proof that log_G X_j = log_Alpha D. Any T
// valid partial decryptions (the T smallest valid indices, so the result
// is unique) combine with Lagrange coefficients at 0 into
// M = Beta − Σ λ_j·D_j = m·G, and m is found by baby-step giant-step in
// 0..maxCount.
//
// Mixed questions (SPEC.md §11, mix.go, mixresult.go). Ranked, score and
// write-in answers are not summed: each counted ballot's row (MixInput) is
// shuffled by a cascade of trustees (Mix, VerifyMix: the proof of package
// tally/shuffle under a context binding the election, question, trustee
// and position), then every trustee of T or more posts D_ik = x_j·α_ik for
// the last rows with one batched Chaum–Pedersen proof (DecryptMix,
// VerifyMixDecryption), and CombineMix / DecryptMixed recover and decode
// the answers that the result lists (MixedAnswers, Result.Mixed).
//
// Every proof carries its commitments and hashes its whole statement under
// a versioned label from internal/transcript. Every object has one canonical
// encoding (Bytes / Parse…); decoders reject non-canonical input and
// trailing bytes.
//
// Timing: polynomial evaluation, share encryption and partial decryption
// touch secrets and run in constant time. Functions named VarTime…, proof
// verification, Lagrange combination and the discrete log run in variable
// time and only see public data.
//
// The package is pure: no I/O, no logging. Randomness comes from an
// io.Reader argument (crypto/rand.Reader in production).
package tally
