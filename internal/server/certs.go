package server

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"time"
)

// CertPair is a certificate and its private key, PEM-encoded.
type CertPair struct {
	CertPEM, KeyPEM []byte
	Cert            *x509.Certificate
	key             crypto.Signer
}

// NewCA makes a self-signed ECDSA P-256 CA for one board's nodes, valid
// for the given time from now. It signs node certificates only (path
// length 0).
func NewCA(name string, valid time.Duration) (*CertPair, error) {
	key, tmpl, err := newKeyAndTemplate("CA", name, valid)
	if err != nil {
		return nil, err
	}
	tmpl.IsCA, tmpl.BasicConstraintsValid, tmpl.MaxPathLenZero = true, true, true
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	return sign(tmpl, tmpl, key, key)
}

// NewNodeCert makes node id's certificate, signed by ca: common name and
// first DNS name id (the identity peers check), the other names and
// addresses it is reached at in hosts (DNS names or IPs), usable as TLS
// server and client, with an ECDSA P-256 key.
func NewNodeCert(ca *CertPair, id string, hosts []string, valid time.Duration) (*CertPair, error) {
	if ca == nil || ca.key == nil {
		return nil, errors.New("server: node certificate: no CA key")
	}
	key, tmpl, err := newKeyAndTemplate("node", id, valid)
	if err != nil {
		return nil, err
	}
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	tmpl.DNSNames = []string{id}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if h != id {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	return sign(tmpl, ca.Cert, key, ca.key)
}

// ParseCA reads a CA written by NewCA (certificate and key PEM).
func ParseCA(certPEM, keyPEM []byte) (*CertPair, error) {
	cb, _ := pem.Decode(certPEM)
	kb, _ := pem.Decode(keyPEM)
	if cb == nil || kb == nil {
		return nil, errors.New("server: CA: not PEM")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("server: CA certificate: %w", err)
	}
	k, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("server: CA key: %w", err)
	}
	signer, ok := k.(crypto.Signer)
	if !ok || !cert.IsCA {
		return nil, errors.New("server: CA: not a CA certificate with a signing key")
	}
	return &CertPair{CertPEM: certPEM, KeyPEM: keyPEM, Cert: cert, key: signer}, nil
}

// ReadCertPool reads the PEM certificates in file (a CA written by NewCA,
// or a private CA's bundle) as a pool of trusted roots. A file without a
// PEM certificate is an error.
func ReadCertPool(file string) (*x509.CertPool, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("%s holds no PEM certificate", file)
	}
	return pool, nil
}

// newKeyAndTemplate makes a fresh ECDSA P-256 key (what names it in
// errors) and a certificate template for common name cn, valid from a few
// minutes ago until valid from now, with a random serial.
func newKeyAndTemplate(what, cn string, valid time.Duration) (*ecdsa.PrivateKey, *x509.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("server: %s key: %w", what, err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, fmt.Errorf("server: serial: %w", err)
	}
	now := time.Now()
	return key, &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"urna board"}},
		NotBefore:    now.Add(-5 * time.Minute), // clock skew between machines
		NotAfter:     now.Add(valid),
	}, nil
}

func sign(tmpl, parent *x509.Certificate, key crypto.Signer, parentKey crypto.Signer) (*CertPair, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
	if err != nil {
		return nil, fmt.Errorf("server: create certificate %q: %w", tmpl.Subject.CommonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	kd, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return &CertPair{
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd}),
		Cert:    cert, key: key,
	}, nil
}
