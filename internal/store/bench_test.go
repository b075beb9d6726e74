package store_test

import (
	"crypto/rand"
	"path/filepath"
	"testing"

	"github.com/urna-vote/urna/internal/store"
	"github.com/urna-vote/urna/internal/store/storetest"
	"github.com/urna-vote/urna/internal/testonly"
)

// BenchmarkAppendEntries commits batches of 256 entries of 1.7 KiB (the
// typical ballot entry) per Update, fsync included.
//
//	go test -run '^$' -bench AppendEntries ./internal/store/
func BenchmarkAppendEntries(b *testing.B) { eachStore(b, benchAppend) }

// eachStore runs fn as a sub-benchmark on a fresh bbolt store and a fresh
// PostgreSQL schema.
func eachStore(b *testing.B, fn func(*testing.B, store.Store)) {
	b.Run("bolt", func(b *testing.B) {
		s, err := store.OpenBolt(filepath.Join(b.TempDir(), "bench.db"), store.BoltOptions{})
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		fn(b, s)
	})
	b.Run("postgres", func(b *testing.B) {
		url := testonly.PostgresURL(b)
		s, err := store.OpenPostgres(b.Context(), url, store.PostgresOptions{Schema: storetest.PostgresSchema(b, url, "urna_test_")})
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		fn(b, s)
	})
}

func benchAppend(b *testing.B, s store.Store) {
	const (
		batch = 256
		size  = 1700
	)
	data := make([][]byte, batch)
	for i := range data {
		data[i] = make([]byte, size)
		rand.Read(data[i])
	}
	b.SetBytes(batch * size)
	b.ReportAllocs()
	next := uint64(0)
	for b.Loop() {
		err := s.Update(b.Context(), func(tx store.WriteTx) error {
			if err := tx.AppendEntries(next, data); err != nil {
				return err
			}
			return tx.SetAppliedIndex(next + batch)
		})
		if err != nil {
			b.Fatal(err)
		}
		next += batch
	}
	b.ReportMetric(float64(next)/b.Elapsed().Seconds(), "entries/s")
}

// BenchmarkCredentialIndex writes what a board node's apply of a 2²⁰-voter
// credential list writes (SPEC.md §5.3): the 32 MiB entry and one
// key-value row per credential, in one transaction. ns/op is the whole
// transaction.
//
//	go test ./internal/store -run '^$' -bench CredentialIndex -benchtime 1x
func BenchmarkCredentialIndex(b *testing.B) {
	const n = 1 << 20
	entry := make([]byte, 32<<20)
	rand.Read(entry)
	keys := make([][]byte, n)
	for i := range keys {
		keys[i] = entry[i*32 : i*32+32]
	}
	run := func(b *testing.B, s store.Store) {
		for i := range b.N {
			err := s.Update(b.Context(), func(tx store.WriteTx) error {
				if err := tx.AppendEntries(uint64(i), [][]byte{entry}); err != nil {
					return err
				}
				for _, k := range keys {
					k = append([]byte{byte(i)}, k...)
					if err := tx.Put(store.NSCredential, k, []byte{0, 0, 0, 0, 0, 0, 0, 0}); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	eachStore(b, run)
}
