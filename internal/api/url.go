package api

import (
	"errors"
	"net/url"
	"strings"
)

// ParseBaseURL parses a node's API base URL: "http(s)://host:port[/base]",
// or a bare "host:port" meaning http. The path loses its trailing slash;
// a query or fragment is dropped.
func ParseBaseURL(s string) (*url.URL, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("api: empty node URL")
	}
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("api: not an http(s)://host:port URL")
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawQuery, u.Fragment = "", ""
	return u, nil
}
