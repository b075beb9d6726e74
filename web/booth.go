package web

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Booth is the booth's code digest, as GET /api/v1/booth answers it and
// `go run ./web/boothhash` prints it from a build: observers compare the
// two (README.md, "Comparing the booth with its source").
//
// Digest is "sha256:" and the SHA-256 of Listing, which has one line per
// file of code the pages run (every module, Go's loader, urna.wasm and the
// stylesheet), sorted by name, as sha256sum(1) writes them:
//
//	<hex SHA-256 of the file>  <name>\n
//
// so that `sha256sum` over the downloaded files, sorted, gives the same
// text. The pages are listed apart, in Pages: each shows Digest in its
// footer and names every file by its hash and integrity, so they depend on
// the digest and cannot be part of it.
type Booth struct {
	Digest  string      `json:"digest"`
	Listing string      `json:"listing"`
	Files   []BoothFile `json:"files"`
	Pages   []BoothFile `json:"pages"`
}

// BoothFile is one file: its name, the URL it is served at (its
// content-hashed name, or the page's own), its SHA-256 and size.
type BoothFile struct {
	Name   string `json:"name"`
	URL    string `json:"url"`
	SHA256 string `json:"sha256"`
	Size   int    `json:"size"`
}

func boothFile(a *asset) BoothFile {
	url := a.hashed
	if url == "" {
		url = a.name
	}
	return BoothFile{Name: a.name, URL: "/" + url, SHA256: hex.EncodeToString(a.sum[:]), Size: len(a.body)}
}

// digest lists the site's code (every file added with a hashed name) and
// hashes the listing.
func (s *Site) digest() *Booth {
	var b Booth
	for _, f := range s.files {
		if f.immutable {
			b.Files = append(b.Files, boothFile(f.asset))
		}
	}
	slices.SortFunc(b.Files, func(x, y BoothFile) int { return strings.Compare(x.Name, y.Name) })
	var l strings.Builder
	for _, f := range b.Files {
		fmt.Fprintf(&l, "%s  %s\n", f.SHA256, f.Name)
	}
	sum := sha256.Sum256([]byte(l.String()))
	b.Listing, b.Digest = l.String(), "sha256:"+hex.EncodeToString(sum[:])
	return &b
}

func (b *Booth) marshal() ([]byte, error) {
	j, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("web: encoding the booth digest: %w", err)
	}
	return append(j, '\n'), nil
}

// BoothJSON returns the booth's code digest (a Booth) as JSON, the body of
// GET /api/v1/booth (internal/httpapi/booth.go).
func (s *Site) BoothJSON() ([]byte, error) {
	if err := s.init(); err != nil {
		return nil, err
	}
	return s.booth, nil
}

// BoothDigest returns the digest of the booth's code that FS serves.
func BoothDigest() (Booth, error) {
	if err := theSite.init(); err != nil {
		return Booth{}, err
	}
	return *theSite.boothInfo, nil
}
