package ballot

import (
	"fmt"

	"github.com/urna-vote/urna/internal/batch"
	"github.com/urna-vote/urna/internal/group"
	"github.com/urna-vote/urna/internal/transcript"
)

// ballotVersionFor returns the ballot encoding version of m's ballots.
func ballotVersionFor(m *Manifest) uint8 {
	if m.Version == ManifestVersionKinds {
		return BallotVersionKinds
	}
	return BallotVersion
}

// entryBytes returns the bytes of α and β of every ciphertext in opts, in
// order (slices of the ballot's encoding).
func (b *Ballot) entryBytes(opts []encOption) [][]byte {
	out := make([][]byte, 0, 2*len(opts))
	for i := range opts {
		o := opts[i].off
		out = append(out, b.raw[o:o+group.Size], b.raw[o+group.Size:o+CiphertextSize])
	}
	return out
}

func (c *sumClaim) part() string { return fmt.Sprintf("%s %d proof", sumNames[c.kind], c.index) }

func entryPart(e, k int) string { return fmt.Sprintf("entry (option %d, rank %d)", e/k, e%k) }

// kindShape checks that a ranked, score or write-in answer has the shape
// the manifest's question gives (docs/spec/kinds.md V8.3).
func (b *Ballot) kindShape(q int, mq *Question) *Failure {
	eq := &b.qs[q]
	shape := func(format string, args ...any) *Failure {
		return fail("V8.3", ErrShape, q, -1, -1, fmt.Sprintf(format, args...))
	}
	switch mq.Kind {
	case KindRanked:
		total := &eq.sums[len(eq.sums)-1]
		if eq.n != len(mq.Options) || eq.k != int(mq.Max) || total.v0 != uint64(mq.Min) {
			return shape("ranking of %d options with %d ranks, at least %d ranked; manifest: %d, %d, %d", eq.n, eq.k, total.v0, len(mq.Options), mq.Max, mq.Min)
		}
	case KindScore:
		if eq.n != len(mq.Options) || len(eq.opts[0].pf.a) != int(mq.Max-mq.Min+1) {
			return shape("%d scores of %d values; manifest: %d options scored %d..%d", eq.n, len(eq.opts[0].pf.a), len(mq.Options), mq.Min, mq.Max)
		}
	case KindWriteIn:
		if len(eq.wi.cts) != WriteInChunks(mq.Max) {
			return shape("write-in of %d chunks, want %d", len(eq.wi.cts), WriteInChunks(mq.Max))
		}
	}
	return nil
}

// kindChallenges checks the challenge sums (P1 of SPEC.md §6.3) of every
// disjunctive proof of a ranked or score answer (V8.8.1, V8.8.2, V8.9.1).
func (b *Ballot) kindChallenges(q int, mq *Question, fp, pkb, credb []byte) *Failure {
	eq := &b.qs[q]
	const reason = "challenges do not sum to the transcript challenge"
	switch mq.Kind {
	case KindRanked:
		entries := b.entryBytes(eq.opts)
		for e := range eq.opts {
			o := &eq.opts[e]
			t := kindStatement(transcript.RankedEntryProof, fp, pkb, credb, q, []uint64{uint64(e / eq.k), uint64(e % eq.k)}, entries[2*e:2*e+2])
			if !challengeOK(t, b.raw, o.off+CiphertextSize, &o.pf) {
				f := fail("V8.8.1", ErrInvalidProof, q, e, -1, reason)
				f.Part = entryPart(e, eq.k)
				return f
			}
		}
		for x := range eq.sums {
			c := &eq.sums[x]
			if !challengeOK(c.statement(fp, pkb, credb, q, entries), b.raw, c.off, &c.pf) {
				f := fail("V8.8.2", ErrInvalidProof, q, -1, -1, reason)
				f.Part = c.part()
				return f
			}
		}
	case KindScore:
		entries := b.entryBytes(eq.opts)
		for i := range eq.opts {
			o := &eq.opts[i]
			t := kindStatement(transcript.ScoreProof, fp, pkb, credb, q, []uint64{uint64(i), uint64(mq.Min), uint64(mq.Max)}, entries[2*i:2*i+2])
			if !challengeOK(t, b.raw, o.off+CiphertextSize, &o.pf) {
				return fail("V8.9.1", ErrInvalidProof, q, i, -1, reason)
			}
		}
	}
	return nil
}

// writeInChallengeOf recomputes the challenge of question q's write-in proof
// from the ballot's bytes.
func (b *Ballot) writeInChallengeOf(q int, fp, pkb, credb []byte) *group.Scalar {
	wi := b.qs[q].wi
	cts := make([][]byte, 0, 2*len(wi.cts))
	ts := make([][]byte, 0, len(wi.cts))
	for k := range wi.cts {
		o := wi.off + k*writeInChunkSize
		cts = append(cts, b.raw[o:o+group.Size], b.raw[o+group.Size:o+2*group.Size])
		ts = append(ts, b.raw[o+2*group.Size:o+3*group.Size])
	}
	return writeInChallenge(fp, pkb, credb, q, cts, ts)
}

// kindEquation folds every proof equation of question q (a ranked, score
// or write-in answer; its challenge sums checked) into l (docs/spec/kinds.md
// V8.8.3, V8.9.2, V8.10.1). Coefficients of the same ciphertext are merged.
func (b *Ballot) kindEquation(l *lin, w *weights, q int, mq *Question, fp, pkb []byte) {
	eq := &b.qs[q]
	switch eq.kind {
	case KindRanked, KindScore:
		v0 := uint64(0)
		if eq.kind == KindScore {
			v0 = uint64(mq.Min)
		}
		ca := make([]*group.Scalar, len(eq.opts))
		cb := make([]*group.Scalar, len(eq.opts))
		for e := range eq.opts {
			ca[e], cb[e] = l.addProof(w, &eq.opts[e].pf, v0)
		}
		for x := range eq.sums {
			c := &eq.sums[x]
			sa, sb := l.addProof(w, &c.pf, c.v0)
			for _, e := range c.plus {
				ca[e].Add(ca[e], sa)
				cb[e].Add(cb[e], sb)
			}
			for _, e := range c.minus {
				ca[e].Sub(ca[e], sa)
				cb[e].Sub(cb[e], sb)
			}
		}
		for e := range eq.opts {
			l.terms = append(l.terms, batch.Term{S: ca[e], P: eq.opts[e].ct.Alpha}, batch.Term{S: cb[e], P: eq.opts[e].ct.Beta})
		}
	case KindWriteIn:
		c := b.writeInChallengeOf(q, fp, pkb, b.raw[33:33+group.Size])
		wi := eq.wi
		for k := range wi.cts {
			// s·G − c·α − t = 0
			z := w.next()
			l.g.Add(l.g, group.NewScalar().Mul(z, wi.s[k]))
			zc := group.NewScalar().Mul(z, c)
			l.terms = append(l.terms, batch.Term{S: zc.Neg(zc), P: wi.cts[k].Alpha}, batch.Term{S: z.Neg(z), P: wi.t[k]})
		}
	}
}

// kindDiagnose checks every equation of question q (a ranked, score or
// write-in answer) separately and returns the first that fails.
func (b *Ballot) kindDiagnose(pk *group.Element, q int, mq *Question, fp, pkb, credb []byte) *Failure {
	eq := &b.qs[q]
	switch eq.kind {
	case KindRanked:
		for e := range eq.opts {
			o := &eq.opts[e]
			at := fail("V8.8.3", ErrInvalidProof, q, e, -1, "")
			at.Part = entryPart(e, eq.k)
			if f := diagnoseProof(pk, &o.pf, 0, o.ct.Alpha, o.ct.Beta, at); f != nil {
				return f
			}
		}
		for x := range eq.sums {
			c := &eq.sums[x]
			A, B := group.NewElement(), group.NewElement()
			for _, e := range c.plus {
				A.Add(A, eq.opts[e].ct.Alpha)
				B.Add(B, eq.opts[e].ct.Beta)
			}
			for _, e := range c.minus {
				A.Sub(A, eq.opts[e].ct.Alpha)
				B.Sub(B, eq.opts[e].ct.Beta)
			}
			at := fail("V8.8.3", ErrInvalidProof, q, -1, -1, "")
			at.Part = c.part()
			if f := diagnoseProof(pk, &c.pf, c.v0, A, B, at); f != nil {
				return f
			}
		}
	case KindScore:
		for i := range eq.opts {
			o := &eq.opts[i]
			if f := diagnoseProof(pk, &o.pf, uint64(mq.Min), o.ct.Alpha, o.ct.Beta, fail("V8.9.2", ErrInvalidProof, q, i, -1, "")); f != nil {
				return f
			}
		}
	case KindWriteIn:
		c := b.writeInChallengeOf(q, fp, pkb, credb)
		wi := eq.wi
		minus1 := group.NewScalar().Neg(group.ScalarFromUint64(1))
		nc := group.NewScalar().Neg(c)
		for k := range wi.cts {
			if !checkEq(pk, wi.s[k], group.NewScalar(), batch.Term{S: nc, P: wi.cts[k].Alpha}, batch.Term{S: minus1, P: wi.t[k]}) {
				f := fail("V8.10.1", ErrInvalidProof, q, -1, -1, "s·G ≠ t + c·α")
				f.Part = fmt.Sprintf("write-in chunk %d", k)
				return f
			}
		}
	}
	return nil
}
