package trustee_test

import (
	"crypto/rand"
	"strings"
	"testing"

	"github.com/urna-vote/urna/internal/trustee"
)

func TestKeyFileRoundTrip(t *testing.T) {
	k, err := trustee.New(rand.Reader, "alice")
	if err != nil {
		t.Fatal(err)
	}
	plain := string(k.KeyFile())
	if strings.Contains(plain, "dealer_seed") || strings.Contains(plain, "board_memory") {
		t.Fatalf("a key without state carries state fields:\n%s", plain)
	}
	fp := [32]byte{7}
	if k.Seed, err = trustee.NewSeed(rand.Reader, fp); err != nil {
		t.Fatal(err)
	}
	k.Memory["0707070707070707070707070707070707070707070707070707070707070707"] = "note"
	again, err := trustee.ParseKeyFile(k.KeyFile())
	if err != nil {
		t.Fatal(err)
	}
	if again.Name != "alice" || !again.Secret.Equal(k.Secret) || string(again.Seed.Bytes) != string(k.Seed.Bytes) ||
		again.Seed.Election != fp || len(again.Memory) != 1 || string(again.KeyFile()) != string(k.KeyFile()) {
		t.Fatalf("round trip: %+v", again)
	}
	if s, err := again.Seed.For(fp); err != nil || len(s) != trustee.SeedSize {
		t.Fatalf("seed for its election: %v", err)
	}
	if _, err := again.Seed.For([32]byte{8}); err == nil {
		t.Fatal("the seed of one election was handed out for another")
	}
	var none *trustee.Seed
	if s, err := none.For(fp); s != nil || err != nil {
		t.Fatalf("no seed: %v, %v", s, err)
	}
}

func TestKeyFileRejects(t *testing.T) {
	k, err := trustee.New(rand.Reader, "alice")
	if err != nil {
		t.Fatal(err)
	}
	k.Seed, _ = trustee.NewSeed(rand.Reader, [32]byte{1})
	good := string(k.KeyFile())
	for name, bad := range map[string]string{
		"empty":         "",
		"kind":          strings.Replace(good, trustee.KindKey, trustee.KindPublic, 1),
		"version":       strings.Replace(good, `"version": 1`, `"version": 0`, 1),
		"unknown field": strings.Replace(good, `"name"`, `"nickname": "x", "name"`, 1),
		"trailing":      good + "[]",
		"empty name":    strings.Replace(good, `"name": "alice"`, `"name": ""`, 1),
		"secret":        strings.Replace(good, `"secret": "`, `"secret": "!`, 1),
		"seed kind":     strings.Replace(good, trustee.KindDealerSeed, "urna-other", 1),
		"seed election": strings.Replace(good, `"election": "01`, `"election": "zz`, 1),
		"memory kind":   strings.Replace(good, `"secret"`, `"board_memory": {"kind": "x", "elections": {}}, "secret"`, 1),
		"memory key":    strings.Replace(good, `"secret"`, `"board_memory": {"kind": "urna-board-memory", "elections": {"nothex": "n"}}, "secret"`, 1),
		"short seed":    strings.Replace(good, `"seed": "`, `"seed": "AAAA`, 1),
	} {
		if _, err := trustee.ParseKeyFile([]byte(bad)); err == nil {
			t.Errorf("%s: accepted:\n%s", name, bad)
		}
	}
	if _, err := trustee.New(rand.Reader, strings.Repeat("n", 65)); err == nil {
		t.Error("a 65-byte name was accepted")
	}
}
