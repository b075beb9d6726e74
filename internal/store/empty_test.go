package store_test

import (
	"testing"

	"github.com/urna-vote/urna/internal/store"
)

func TestIsEmpty(t *testing.T) {
	for name, open := range map[string]func(*testing.T) (store.Store, func(*testing.T) store.Store){
		"bolt": openBolt, "postgres": openPostgres,
	} {
		t.Run(name, func(t *testing.T) {
			st, _ := open(t)
			ctx := t.Context()
			check := func(want bool) {
				t.Helper()
				got, err := store.IsEmpty(ctx, st)
				if err != nil || got != want {
					t.Fatalf("IsEmpty = %v, %v; want %v", got, err, want)
				}
			}
			check(true)
			for _, ns := range store.Namespaces() {
				if err := st.Update(ctx, func(tx store.WriteTx) error { return tx.Put(ns, []byte("k"), nil) }); err != nil {
					t.Fatal(err)
				}
				check(false)
				if err := st.Update(ctx, func(tx store.WriteTx) error { return tx.Delete(ns, []byte("k")) }); err != nil {
					t.Fatal(err)
				}
				check(true)
			}
			if err := st.Update(ctx, func(tx store.WriteTx) error { return tx.SetAppliedIndex(1) }); err != nil {
				t.Fatal(err)
			}
			check(false)
		})
	}
}
