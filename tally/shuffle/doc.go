// Package shuffle implements a verifiable re-encryption shuffle of vectors of
// ElGamal ciphertexts on Ristretto255: the proof of a shuffle of Terelius and
// Wikström, as given in pseudo-code by Haenni, Locher, Koenig and Dubuis,
// "Pseudo-Code Algorithms for Verifiable Re-Encryption Mix-Nets" (Financial
// Cryptography 2017, Workshop on Advances in Secure Electronic Voting),
// algorithms GenShuffle, GenPermutationCommitment, GenCommitmentChain,
// GenProof and CheckProof, written additively for a prime-order group.
// SPEC.md §13 is the normative text: encodings, transcript and the
// numbered verification steps S1–S8.
//
// # What is shuffled
//
// A row is w ElGamal ciphertexts (α_k, β_k) = (r_k·G, M_k + r_k·K) under one
// joint key K (w ≥ 1 is the row's width; every row of one shuffle has the same
// width). Shuffle draws a secret permutation ψ and outputs, for i = 1..N,
// the row ψ(i) of the input re-encrypted component-wise with independent
// randomness: α̃_ik = α_ψ(i)k + r̃_ik·G, β̃_ik = β_ψ(i)k + r̃_ik·K. The one
// permutation moves whole rows, so the w answers of a ballot stay together.
//
// # Proof
//
// Prove shows, in zero knowledge, knowledge of ψ and r̃ such that the outputs
// are the inputs so permuted and re-encrypted. The generators h, h_1..h_N of
// the permutation commitment are hashed to the group from a context (the
// election fingerprint, the mixer, the question), so nobody knows a relation
// between them or with G. The challenges are strong Fiat–Shamir: the
// per-row challenges u_i and the proof's challenge c hash the whole statement
// (context, K, every input and output ciphertext, the commitments) under
// versioned labels of internal/transcript. A proof made for one context, key,
// input list or output list does not verify for any other.
//
// # Security
//
// Soundness rests on the discrete-logarithm assumption in Ristretto255 and
// the random-oracle model for SHA-512 (HashToScalar) and hash-to-group
// (RFC 9380). Verification merges every equation of CheckProof into one
// random linear combination (SPEC.md §2.5), which adds a soundness error of
// about 1/ℓ per verification.
//
// # Timing
//
// Shuffle and Prove handle secrets (ψ, the re-encryption randomness, the
// commitment randomness and the masks ω): every scalar multiplication by a
// secret or by a challenge in permuted order (u_ψ(i)) is constant time.
// Drawing and applying ψ index memory by secret positions (as every mix-net
// implementation does); a mixer should run on a machine nobody else shares.
// VerifyVarTime sees only public data and runs in variable time.
package shuffle
