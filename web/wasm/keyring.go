//go:build officials || !(js && wasm)

// The officials' code: in the officials' module (main_officials.go) and
// the host's tests, never in the booth's module.

package main

// keyring holds the keys a page loaded, each behind the integer handle
// the page keeps: the console's authority keys and the trustee page's
// keys live here and never leave this module but as the files they are
// saved in.
type keyring[T any] struct {
	keys map[int]*T
	next int
	// noKey is the code and sentence of a call with a handle that holds
	// no key (never loaded, or forgotten).
	noKey, noKeyMsg string
}

func newKeyring[T any](noKey, noKeyMsg string) *keyring[T] {
	return &keyring[T]{keys: map[int]*T{}, next: 1, noKey: noKey, noKeyMsg: noKeyMsg}
}

// add keeps k and returns its handle.
func (r *keyring[T]) add(k *T) int {
	h := r.next
	r.next++
	r.keys[h] = k
	return h
}

// get returns the key behind handle h.
func (r *keyring[T]) get(h int) (*T, error) {
	k, ok := r.keys[h]
	if !ok {
		return nil, fail(r.noKey, "%s", r.noKeyMsg)
	}
	return k, nil
}

// forget drops the key behind handle h.
func (r *keyring[T]) forget(h int) { delete(r.keys, h) }
