package bulletin

import (
	"bytes"
	"encoding/binary"
	"errors"
	"reflect"
	"testing"
)

// TestReadHeaderAgreesWithParseEntry: on every valid vector entry and on
// fresh signed entries of every type, ReadHeader gives exactly the header of
// the strictly parsed entry.
func TestReadHeaderAgreesWithParseEntry(t *testing.T) {
	var raws [][]byte
	for _, v := range seedVectors(t).Entries {
		raws = append(raws, unhex(v.Hex))
	}
	el := newElection(t, "header")
	for typ := TypeManifest; typ <= TypeResult; typ++ {
		raws = append(raws, el.entry(t, typ, typ.Role(), el.auth, []byte{byte(typ), 1, 2}).Bytes())
	}
	raws = append(raws, el.entry(t, TypeClose, RoleAuthority, el.auth, nil).Bytes()) // empty body
	for i, raw := range raws {
		e, err := ParseEntry(raw)
		if err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
		h, err := ReadHeader(raw)
		if err != nil {
			t.Fatalf("entry %d: ReadHeader: %v", i, err)
		}
		if want := e.Header(); !reflect.DeepEqual(h, want) {
			t.Fatalf("entry %d: ReadHeader = %+v, Header() = %+v", i, h, want)
		}
	}
}

// TestReadHeaderRejects: every layout defect ReadHeader is documented to
// catch, it catches.
func TestReadHeaderRejects(t *testing.T) {
	el := newElection(t, "header-bad")
	good := el.entry(t, TypeBallot, RoleVoter, el.voters[0], []byte("ballot body")).Bytes()
	mut := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	bodyLen := 1 + 1 + 32 + 1 + 32
	cases := map[string][]byte{
		"empty":         nil,
		"truncated":     good[:len(good)-1],
		"trailing":      append(bytes.Clone(good), 0),
		"version":       mut(func(b []byte) []byte { b[0] = 2; return b }),
		"unknown type":  mut(func(b []byte) []byte { b[1] = 99; return b }),
		"role 0":        mut(func(b []byte) []byte { b[34] = 0; return b }),
		"role 6":        mut(func(b []byte) []byte { b[34] = 6; return b }),
		"zero author":   mut(func(b []byte) []byte { copy(b[35:67], make([]byte, 32)); return b }),
		"body too long": mut(func(b []byte) []byte { binary.BigEndian.PutUint32(b[bodyLen:], uint32(len(b))); return b }),
		"body over limit": func() []byte {
			b := mut(func(b []byte) []byte { return b[:bodyLen] })
			b = binary.BigEndian.AppendUint32(b, uint32(TypeClose.MaxBodySize()+1))
			b[1] = byte(TypeClose)
			b[34] = byte(RoleAuthority)
			b = append(b, make([]byte, TypeClose.MaxBodySize()+1+64)...)
			return b
		}(),
	}
	for name, raw := range cases {
		if _, err := ReadHeader(raw); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: ReadHeader = %v, want ErrMalformed", name, err)
		}
		if _, err := ParseEntry(raw); err == nil {
			t.Errorf("%s: ParseEntry accepted what ReadHeader must reject", name)
		}
	}
}

// FuzzReadHeader: ReadHeader accepts everything ParseEntry accepts, with the
// same header, and never panics.
func FuzzReadHeader(f *testing.F) {
	for _, e := range seedVectors(f).Entries {
		f.Add(unhex(e.Hex))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, herr := ReadHeader(b)
		e, err := ParseEntry(b)
		if err != nil {
			return
		}
		if herr != nil {
			t.Fatalf("ParseEntry accepts, ReadHeader rejects: %v", herr)
		}
		if !reflect.DeepEqual(h, e.Header()) {
			t.Fatal("headers differ")
		}
	})
}
