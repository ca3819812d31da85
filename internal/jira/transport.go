package jira

import (
	"net/http"
)

// NewHTTPClient returns the client for talking to Jira: proxies from
// HTTPS_PROXY and NO_PROXY, keep-alive connections.
func NewHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	return &http.Client{Transport: t}
}
