package jira_test

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jira-cicd/jira-cicd/internal/jira"
	"github.com/jira-cicd/jira-cicd/internal/jira/fakejira"
)

func clientFor(apiURL string, hc *http.Client) *jira.Client {
	return jira.New(context.Background(), jira.Config{APIURL: apiURL, Site: apiURL, ClientID: "client-1",
		ClientSecret: canarySecret, HTTPClient: hc})
}

// A host name that does not resolve fails at once (no retry), naming the
// name and the setting to check. The DNS answer comes from a fake server on
// loopback: no network.
func TestDNSFailure(t *testing.T) {
	dns := fakejira.NewNXDomain(t)
	clock := newRetryClock()
	hc := jira.NewHTTPClient(jira.WithResolver(dns.Resolver), jira.WithRetry(policy(clock)))
	srv := fakejira.New(t, fakejira.WithClientCredentials("client-1", canarySecret))
	for _, tt := range []struct {
		apiURL, cloudID, op, setting string
	}{
		{srv.URL, "", "cloud id lookup (tenant_info) failed", "Check site"},
		{"https://api.jira-cicd-test.invalid", fakejira.DefaultCloudID, "token request failed", "Check api_url"},
	} {
		c := jira.New(context.Background(), jira.Config{APIURL: tt.apiURL,
			Site: "https://acme.jira-cicd-test.invalid", CloudID: tt.cloudID, ClientID: "client-1",
			ClientSecret: canarySecret, HTTPClient: hc})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := c.SubmitBuilds(ctx, oneBuild())
		cancel()
		var dnsErr *net.DNSError
		if !errors.As(err, &dnsErr) || !dnsErr.IsNotFound {
			t.Fatalf("err %v, want a DNS not-found error", err)
		}
		for _, want := range []string{tt.op, "does not resolve (no such host)", tt.setting, "DNS"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q lacks %q", err, want)
			}
		}
	}
	if dns.Queries() == 0 {
		t.Error("the fake DNS server was not asked")
	}
	if w := clock.Waits(); len(w) != 0 {
		t.Errorf("retried a name that does not resolve: waits %v", w)
	}
}

// A server whose certificate is not trusted fails at once, saying so; with
// its CA trusted, the same server works.
func TestTLSFailure(t *testing.T) {
	var conns, requests atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"cloudId":"` + fakejira.DefaultCloudID + `"}`))
	}))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake
	srv.StartTLS()
	defer srv.Close()

	clock := newRetryClock()
	c := clientFor(srv.URL, jira.NewHTTPClient(jira.WithRetry(policy(clock))))
	_, err := c.CloudID(context.Background())
	if err == nil || requests.Load() != 0 {
		t.Fatalf("err %v after %d requests", err, requests.Load())
	}
	for _, want := range []string{"cloud id lookup (tenant_info) failed: the server's TLS certificate was not accepted: x509:",
		"Check site", "SSL_CERT_FILE"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if n := conns.Load(); n != 1 || len(clock.Waits()) != 0 {
		t.Errorf("%d connections, waits %v: an untrusted certificate is not retried", n, clock.Waits())
	}

	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	c = clientFor(srv.URL, jira.NewHTTPClient(jira.WithRootCAs(pool)))
	if id, err := c.CloudID(context.Background()); err != nil || id != fakejira.DefaultCloudID {
		t.Fatalf("trusted: %q, %v", id, err)
	}
}

// A plain http server where https is expected.
func TestNotTLS(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	clock := newRetryClock()
	c := clientFor(strings.Replace(srv.URL, "http://", "https://", 1), jira.NewHTTPClient(jira.WithRetry(policy(clock))))
	_, err := c.CloudID(context.Background())
	if err == nil || !strings.Contains(err.Error(), "does not speak TLS") || len(clock.Waits()) != 0 {
		t.Fatalf("err %v, waits %v", err, clock.Waits())
	}
}

// Plain http goes to loopback hosts only; the check needs no network.
func TestPlainHTTPOnlyToLoopback(t *testing.T) {
	var dialed atomic.Bool
	clock := newRetryClock()
	hc := jira.NewHTTPClient(jira.WithRetry(policy(clock)), jira.WithTransport(func(tr *http.Transport) {
		tr.DialContext = func(context.Context, string, string) (net.Conn, error) {
			dialed.Store(true)
			return nil, errors.New("no network in tests")
		}
	}))
	c := clientFor("http://jira.example.com", hc)
	_, err := c.CloudID(context.Background())
	for _, want := range []string{"refused to send a request over plain http to jira.example.com", "Check site: it must be an https URL"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
	if dialed.Load() {
		t.Error("dialed a plain http host that is not loopback")
	}
	for _, host := range []string{"127.0.0.1", "localhost", "[::1]"} {
		_, err := clientFor("http://"+host+":1", hc).CloudID(context.Background())
		if err == nil || strings.Contains(err.Error(), "plain http") {
			t.Errorf("%s: %v; loopback http must be allowed", host, err)
		}
	}
}

// recorder is a server that records the Authorization header of each
// request and answers a cloud id.
type recorder struct {
	*httptest.Server
	mu    sync.Mutex
	auths []string
}

func newRecorder(t *testing.T, tls bool, redirect func(r *http.Request) string) *recorder {
	rec := &recorder{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.mu.Lock()
		rec.auths = append(rec.auths, r.Header.Get("Authorization"))
		rec.mu.Unlock()
		if redirect != nil {
			if to := redirect(r); to != "" {
				http.Redirect(w, r, to, http.StatusTemporaryRedirect)
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"cloudId":"` + fakejira.DefaultCloudID + `"}`))
	})
	if tls {
		rec.Server = httptest.NewTLSServer(h)
	} else {
		rec.Server = httptest.NewServer(h)
	}
	t.Cleanup(rec.Close)
	return rec
}

func (r *recorder) seen() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.auths...)
}

func getWithAuth(hc *http.Client, u string) (*http.Response, error) {
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Authorization", "Bearer "+canaryToken)
	resp, err := hc.Do(req)
	if err == nil {
		resp.Body.Close()
	}
	return resp, err
}

// The tenant_info lookup follows a redirect within its host; a redirect to
// another host (here: another port of the same address, which Go's own
// client would follow) or to another name of it is refused, and nothing
// reaches the other host.
func TestTenantInfoRedirectsStayOnTheHost(t *testing.T) {
	other := newRecorder(t, false, nil)
	otherURL, _ := url.Parse(other.URL)
	first := newRecorder(t, false, func(r *http.Request) string {
		switch r.URL.Path {
		case "/away/_edge/tenant_info":
			return other.URL + "/_edge/tenant_info"
		case "/name/_edge/tenant_info":
			return "http://localhost:" + otherURL.Port() + "/_edge/tenant_info"
		case "/here/_edge/tenant_info":
			return "/_edge/tenant_info"
		}
		return ""
	})
	hc := jira.NewHTTPClient()
	if id, err := clientFor(first.URL+"/here", hc).CloudID(context.Background()); err != nil || id != fakejira.DefaultCloudID {
		t.Fatalf("same-host redirect: %q, %v", id, err)
	}
	if got := first.seen(); len(got) != 2 {
		t.Errorf("%d requests for a same-host redirect, want 2", len(got))
	}
	for _, path := range []string{"/away", "/name"} {
		_, err := clientFor(first.URL+path, hc).CloudID(context.Background())
		if err == nil || !strings.Contains(err.Error(), "refused a redirect from "+first.Listener.Addr().String()+" to another host") ||
			!strings.Contains(err.Error(), "Check site: it must be your Jira Cloud site's own address") {
			t.Errorf("%s: err %v", path, err)
		}
	}
	if n := len(other.seen()); n != 0 {
		t.Errorf("the other host got %d requests", n)
	}

	// The control: Go's default policy would have gone to the other port,
	// with the header.
	if _, err := getWithAuth(&http.Client{}, first.URL+"/away/_edge/tenant_info"); err != nil {
		t.Fatal(err)
	}
	if got := other.seen(); len(got) != 1 || got[0] != "Bearer "+canaryToken {
		t.Errorf("control: Go's own client sent %q; the test no longer shows the stricter policy", got)
	}
}

// A request of NewHTTPClient's that is not the tenant_info lookup follows no
// redirect at all: the 3xx is the answer.
func TestOtherRequestsFollowNoRedirect(t *testing.T) {
	other := newRecorder(t, false, nil)
	first := newRecorder(t, false, func(*http.Request) string { return other.URL + "/x" })
	resp, err := getWithAuth(jira.NewHTTPClient(), first.URL+"/here")
	if err != nil || resp.StatusCode != http.StatusTemporaryRedirect {
		t.Fatalf("%v, %v", resp, err)
	}
	if n := len(other.seen()); n != 0 {
		t.Errorf("the redirect was followed: %d requests", n)
	}
}

// https never redirects to http, not even to loopback.
func TestRedirectNeverDowngrades(t *testing.T) {
	plain := newRecorder(t, false, nil)
	secure := newRecorder(t, true, func(*http.Request) string { return plain.URL + "/x" })
	pool := x509.NewCertPool()
	pool.AddCert(secure.Certificate())
	c := clientFor(secure.URL, jira.NewHTTPClient(jira.WithRootCAs(pool)))
	_, err := c.CloudID(context.Background())
	if err == nil || !strings.Contains(err.Error(), "refused a redirect from https to http://127.0.0.1") {
		t.Fatalf("err %v", err)
	}
	if n := len(plain.seen()); n != 0 {
		t.Errorf("the downgrade was followed (%d requests)", n)
	}
	if n := len(secure.seen()); n != 1 {
		t.Errorf("%d requests to the https server, want 1 (a refused redirect is not retried)", n)
	}
}

// Requests go through the proxy the environment names (injected here; the
// default is http.ProxyFromEnvironment).
func TestProxy(t *testing.T) {
	var mu sync.Mutex
	var connects []string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		connects = append(connects, r.Method+" "+r.Host)
		mu.Unlock()
		http.Error(w, "proxy says no", http.StatusForbidden)
	}))
	defer proxy.Close()
	pu, _ := url.Parse(proxy.URL)
	clock := newRetryClock()
	c := clientFor("https://api.jira-cicd-test.example", jira.NewHTTPClient(jira.WithProxy(http.ProxyURL(pu)), jira.WithRetry(policy(clock))))
	_, err := c.CloudID(context.Background())
	if err == nil {
		t.Fatal("no error through a refusing proxy")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(connects) == 0 || connects[0] != "CONNECT api.jira-cicd-test.example:443" {
		t.Errorf("proxy saw %q", connects)
	}
	for _, want := range []string{"the proxy " + pu.Host + " refused to connect to api.jira-cicd-test.example:443 (HTTP 403 Forbidden)",
		"HTTPS_PROXY and NO_PROXY"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if len(connects) != 1 || len(clock.Waits()) != 0 {
		t.Errorf("a proxy's 403 was retried: %q, waits %v", connects, clock.Waits())
	}
}
