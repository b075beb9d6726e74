package httpapi

import (
	"io/fs"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/urna-vote/urna/internal/api"
)

// boothSite is a web client that publishes the digest of its code
// (web.Site: the JSON of web.Booth).
type boothSite interface {
	BoothJSON() ([]byte, error)
}

// booth answers GET /api/v1/booth: the digest of the booth's code this
// node serves, for voters and observers to compare with a build from
// source (README.md; `go run ./web/boothhash` prints the same JSON).
func (s *server) booth(c echo.Context) error {
	site, ok := s.opts.Static.(boothSite)
	if !ok {
		return &Error{Status: http.StatusNotFound, Code: api.CodeNotFound, Message: "this node serves no web client"}
	}
	j, err := site.BoothJSON()
	if err != nil {
		return err
	}
	return c.JSONBlob(http.StatusOK, j)
}

// staticHandler serves the web client: by its own handler when it has one
// (web.Site: precompressed files, caching and security headers), else as
// plain files.
func staticHandler(files fs.FS) http.Handler {
	if h, ok := files.(http.Handler); ok {
		return h
	}
	return http.FileServerFS(files)
}
