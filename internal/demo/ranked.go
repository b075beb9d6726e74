package demo

import (
	"context"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"time"

	"github.com/urna-vote/urna/ballot"
)

// rankedTemplate is the election of RunRanked: a homomorphic 1-of-3
// question beside a ranking, scores and a write-in (SPEC.md §12).
func rankedTemplate(id string) []byte {
	return mustJSON(map[string]any{
		"version": 3, "election_id": id, "title": "Ranked demo election", "threshold": 2,
		"questions": []map[string]any{
			{"text": "Chair", "options": []string{"Ada", "Grace", "Edsger"}, "min": 1, "max": 1},
			{"text": "Rank the venues", "options": []string{"Lyon", "Oslo", "Pisa", "Kyoto"}, "min": 1, "max": 4, "kind": "ranked"},
			{"text": "Grade the menus", "options": []string{"fish", "pasta", "salad"}, "min": 0, "max": 5, "kind": "score"},
			{"text": "Motto", "options": []string{}, "min": 0, "max": 20, "kind": "write-in"},
		},
	})
}

var demoMottos = []string{"Less is more", "Vote!", "", "Rank them all", "Less is more"}

// rankedAnswers are voter v's answers: a ranking that favours Oslo and
// Pisa (so IRV needs rounds), scores and a motto, from rng.
func rankedAnswers(rng *mrand.Rand) []ballot.Answer {
	perm := rng.Perm(4)
	if rng.IntN(3) == 0 { // a third rank Oslo first
		i := slices.Index(perm, 1)
		perm[0], perm[i] = perm[i], perm[0]
	}
	ranking := make([]uint32, 1+rng.IntN(4))
	for i := range ranking {
		ranking[i] = uint32(perm[i])
	}
	return []ballot.Answer{
		{Choices: []uint32{uint32(rng.IntN(3))}},
		{Ranking: ranking},
		{Scores: []uint32{uint32(rng.IntN(6)), uint32(rng.IntN(6)), uint32(rng.IntN(6))}},
		{Text: demoMottos[rng.IntN(len(demoMottos))]},
	}
}

// RunRanked holds the ranked demo election on a 3-node cluster: cfg.Ballots
// voters answer a 1-of-3 question (counted homomorphically), a ranking of
// 4 options, scores 0..5 of 3 options and a write-in; after the close all
// 3 trustees shuffle the mixed questions (SPEC.md §11), 2 of them decrypt,
// the authority publishes, and the record is verified (V1–V16). It prints
// the IRV and STV rounds, the Schulze matrix and winner, majority judgment,
// score sums and the write-ins, and fails unless the verified answers are
// exactly the ones cast. Config.Manifest, Weighted, Elections and Serve
// are not used.
func RunRanked(ctx context.Context, cfg Config) (*Outcome, error) {
	if cfg.Manifest != nil || cfg.Weighted || cfg.Elections > 1 || cfg.Serve != nil {
		return nil, errors.New("demo: the ranked demo runs its own election: no manifest, weights, several elections or serving")
	}
	cfg.ranked = true
	cfg.Manifest = rankedTemplate(fmt.Sprintf("ranked-demo-%d", time.Now().UnixNano()%1e9))
	return Run(ctx, cfg)
}
