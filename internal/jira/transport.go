package jira

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/jira-cicd/jira-cicd/internal/netrule"
)

// Option configures NewHTTPClient.
type Option func(*options)

type options struct {
	retry          Retry
	log            func(string)
	proxy          func(*http.Request) (*url.URL, error)
	resolver       *net.Resolver
	roots          *x509.CertPool
	attemptTimeout time.Duration
	tune           []func(*http.Transport)
}

// WithRetry sets the retry policy (fields left zero take DefaultRetry's).
func WithRetry(r Retry) Option { return func(o *options) { o.retry = r } }

// WithLog receives a line for each retry: what failed and when the next try
// is. The lines name the request (token request, build submission, ...) and
// Jira's status, never a URL's query, a header or a body.
func WithLog(log func(string)) Option { return func(o *options) { o.log = log } }

// WithProxy replaces http.ProxyFromEnvironment (HTTPS_PROXY, NO_PROXY).
func WithProxy(proxy func(*http.Request) (*url.URL, error)) Option {
	return func(o *options) { o.proxy = proxy }
}

// WithResolver resolves host names with r instead of the system's resolver.
func WithResolver(r *net.Resolver) Option { return func(o *options) { o.resolver = r } }

// WithRootCAs trusts these certificate authorities instead of the system's.
func WithRootCAs(pool *x509.CertPool) Option { return func(o *options) { o.roots = pool } }

// WithAttemptTimeout bounds the wait for the answer's headers on one try
// (default 30s); a try that runs out is retried like a dropped connection.
func WithAttemptTimeout(d time.Duration) Option { return func(o *options) { o.attemptTimeout = d } }

// WithTransport lets tune change the http.Transport under the retries (tests
// turn keep-alives off with it, for one).
func WithTransport(tune func(*http.Transport)) Option {
	return func(o *options) { o.tune = append(o.tune, tune) }
}

// NewHTTPClient returns the client for talking to Jira: TLS only (plain http
// to loopback hosts only, for tests and local fakes), proxies from
// HTTPS_PROXY and NO_PROXY, every request tried again under the Retry
// policy and its context's deadline (see Retry), and redirects followed only
// by the tenant_info lookup, within its host (see checkRedirect; a Client
// applies that policy to any http.Client it is given).
func NewHTTPClient(opts ...Option) *http.Client {
	o := options{proxy: http.ProxyFromEnvironment, attemptTimeout: 30 * time.Second}
	for _, opt := range opts {
		opt(&o)
	}
	dialer := &net.Dialer{Timeout: 15 * time.Second, KeepAlive: 30 * time.Second, Resolver: o.resolver}
	base := &http.Transport{
		Proxy:                 o.proxy,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          10,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   15 * time.Second,
		ExpectContinueTimeout: time.Second,
		ResponseHeaderTimeout: o.attemptTimeout,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: o.roots},
		OnProxyConnectResponse: func(_ context.Context, proxy *url.URL, req *http.Request, resp *http.Response) error {
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			// The proxy's host only: its URL may hold credentials.
			return &ProxyError{Proxy: proxy.Host, Target: req.Host, Status: resp.StatusCode}
		},
	}
	for _, tune := range o.tune {
		tune(base)
	}
	return &http.Client{
		Transport:     &retryTransport{base: base, policy: o.retry.withDefaults(), log: o.log},
		CheckRedirect: checkRedirect,
	}
}

// checkScheme refuses anything but https, and http to loopback hosts.
func checkScheme(u *url.URL) error {
	switch {
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && netrule.IsLoopback(u.Hostname()):
		return nil
	case u.Scheme == "http":
		return &PolicyError{Msg: fmt.Sprintf("refused to send a request over plain http to %s: only https is used (http only for loopback hosts)", u.Host)}
	}
	return &PolicyError{Msg: fmt.Sprintf("refused to send a request with scheme %q to %s: only https is used", u.Scheme, u.Host)}
}

const siteHint = "it must be your Jira Cloud site's own address (such as https://acme.atlassian.net), which answers without sending elsewhere"

// maxRedirects bounds the redirects of the tenant_info lookup.
const maxRedirects = 5

// checkRedirect is the redirect policy of every request. The token request
// and the API calls never follow one: a redirect would carry the client
// secret or the token elsewhere, or turn a POST into a GET whose answer looks
// like a success; the 3xx itself is the answer, and a failure. Only the
// tenant_info GET (no credential in it) follows a redirect, within the same
// scheme and host, at most maxRedirects times.
func checkRedirect(req *http.Request, via []*http.Request) error {
	first := via[0]
	if opOf(first.Context()) != OpTenantInfo || first.Method != http.MethodGet {
		return http.ErrUseLastResponse
	}
	switch {
	case len(via) >= maxRedirects:
		return &PolicyError{Msg: fmt.Sprintf("stopped after %d redirects", maxRedirects), Hint: siteHint}
	case req.URL.Scheme != first.URL.Scheme:
		return &PolicyError{Msg: fmt.Sprintf("refused a redirect from %s to %s://%s", first.URL.Scheme, req.URL.Scheme, req.URL.Host), Hint: siteHint}
	case !strings.EqualFold(req.URL.Host, first.URL.Host):
		return &PolicyError{Msg: fmt.Sprintf("refused a redirect from %s to another host, %s", first.URL.Host, req.URL.Host), Hint: siteHint}
	}
	return nil
}

// ProxyError is a proxy's refusal to connect to the target (its answer to
// CONNECT).
type ProxyError struct {
	Proxy, Target string
	Status        int
}

func (e *ProxyError) Error() string {
	return fmt.Sprintf("the proxy %s refused to connect to %s (HTTP %d %s)", e.Proxy, e.Target, e.Status, http.StatusText(e.Status))
}
