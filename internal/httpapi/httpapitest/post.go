package httpapitest

import (
	"io"
	"net/http"
	"net/http/httptest"
)

// PostFrom serves a POST of body to target with h as if it came from the
// peer address remote, with the headers hdr (name, value pairs; a pair
// with an empty value is left out), and returns the recorded answer.
func PostFrom(h http.Handler, remote, target string, body io.Reader, hdr ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", target, body)
	req.RemoteAddr = remote
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] != "" {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}
