package jira

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Retry says how a request that meets a transient failure is tried again:
// connection errors, timeouts of one try, and HTTP 429, 500, 502, 503 and
// 504; every other answer is final. This loop is the one place that decides
// retries for every request (token, tenant_info, submissions, gating), as
// the transport of NewHTTPClient.
//
// Every wait is at least the exponential backoff, whatever Retry-After says:
// a Retry-After may make a wait longer, never shorter (0, " 0 ", negative or
// past dates are ignored), so no answer can make the client hammer Jira. A
// request is tried at most Attempts times, and no wait starts that would end
// after the request's deadline (the run's timeout). The zero value is
// DefaultRetry.
//
// A plain loop rather than go-retryablehttp: its waits run on a real timer
// (tests could not run on a fake clock) and its DefaultBackoff takes a
// Retry-After of 0 as it is, which is how a server made the old client send
// 16,211 requests in 5 seconds.
type Retry struct {
	// Attempts is the most tries of one request, the first included; zero:
	// DefaultAttempts.
	Attempts int
	// Base is the wait after the first try; it doubles after each further
	// try, up to Max. The wait taken is between half of it and all of it.
	Base, Max time.Duration
	// MaxRetryAfter is the longest Retry-After waited for when the request
	// has no deadline; with a deadline, the deadline decides.
	MaxRetryAfter time.Duration
	// Reserve is the time the next try needs at least: a wait that would
	// leave less than this before the deadline is not started. Negative:
	// none.
	Reserve time.Duration
	// Now and Sleep replace the clock and the wait between tries (tests run
	// on a fake clock, with no real waits). Sleep returns early with the
	// context's error when it ends.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// Rand returns a random number in [0, n); it makes the jitter.
	Rand func(n int64) int64
}

// DefaultAttempts is the most tries of one request: with waits of about 1s,
// 2s, 4s and 8s between them, 5 tries take up to 15 seconds.
const DefaultAttempts = 5

// DefaultRetry is the policy of NewHTTPClient.
var DefaultRetry = Retry{
	Attempts:      DefaultAttempts,
	Base:          time.Second,
	Max:           15 * time.Second,
	MaxRetryAfter: 5 * time.Minute,
	Reserve:       250 * time.Millisecond,
}

func (p Retry) withDefaults() Retry {
	d := DefaultRetry
	if p.Attempts <= 0 {
		p.Attempts = d.Attempts
	}
	if p.Base <= 0 {
		p.Base = d.Base
	}
	if p.Max <= 0 {
		p.Max = d.Max
	}
	p.Max = max(p.Max, p.Base)
	if p.MaxRetryAfter <= 0 {
		p.MaxRetryAfter = d.MaxRetryAfter
	}
	switch {
	case p.Reserve == 0:
		p.Reserve = d.Reserve
	case p.Reserve < 0:
		p.Reserve = 0
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	if p.Sleep == nil {
		p.Sleep = SleepContext
	}
	if p.Rand == nil {
		p.Rand = rand.Int64N
	}
	return p
}

// backoff is the wait after the given number of tries: between half of
// Base*2^(tries-1) (at most Max) and all of it.
func (p Retry) backoff(tries int) time.Duration {
	d := p.Max
	if shift := tries - 1; shift < 30 && p.Base<<shift < p.Max && p.Base<<shift > 0 {
		d = p.Base << shift
	}
	half := d / 2
	return half + time.Duration(p.Rand(int64(d-half)+1))
}

// retryAfter reads a Retry-After header (delay-seconds or an HTTP date) as
// a wait longer than zero; anything else asks for nothing.
func retryAfter(resp *http.Response, now time.Time) time.Duration {
	if resp == nil {
		return 0
	}
	v := strings.TrimSpace(resp.Header.Get("Retry-After"))
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Duration(min(max(n, 0), 1<<32)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

func retryableStatus(code int) bool {
	switch code {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// retryTransport tries each request up to its policy's bounds.
type retryTransport struct {
	base   http.RoundTripper
	policy Retry
	log    func(string)
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	p, ctx := t.policy, req.Context()
	if err := checkScheme(req.URL); err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, &RetryError{Attempts: 1, Err: err}
	}
	if req.URL.Scheme == "https" {
		// Before the first handshake, and only for https: a run over
		// plain http (a loopback fake) never parses the bundle.
		UseBundledRoots()
	}
	start := p.Now()
	for n := 1; ; n++ {
		resp, err := t.base.RoundTrip(req)
		if err != nil && !retryableError(err) || err == nil && !retryableStatus(resp.StatusCode) {
			if err != nil {
				return nil, &RetryError{Attempts: n, Elapsed: p.Now().Sub(start), Err: err}
			}
			return resp, nil
		}
		// A transient failure: keep it, in case it is the last.
		fail := &RetryError{Attempts: n, Err: err}
		why := netDetail(err)
		if resp != nil {
			fail.Status, fail.Header, why = resp.StatusCode, resp.Header, fmt.Sprintf("HTTP %d", resp.StatusCode)
			fail.Body, _ = io.ReadAll(io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
		}
		now := p.Now()
		fail.Elapsed, fail.RetryAfter = now.Sub(start), retryAfter(resp, now)
		wait := max(p.backoff(n), fail.RetryAfter)
		asked := fail.RetryAfter == wait
		deadline, hasDeadline := ctx.Deadline()
		late := hasDeadline && now.Add(wait+p.Reserve).After(deadline)
		switch {
		case n >= p.Attempts:
			fail.Stop = fmt.Sprintf("no tries left (at most %d)", p.Attempts)
		case late && asked:
			fail.Stop = fmt.Sprintf("Jira asked to wait %s (Retry-After), past the timeout", RoundDuration(wait))
		case late:
			fail.Stop = "the timeout would end before the next try"
		case !hasDeadline && asked && wait > p.MaxRetryAfter:
			fail.Stop = fmt.Sprintf("Jira asked to wait %s (Retry-After), longer than %s", RoundDuration(wait), p.MaxRetryAfter)
		}
		if fail.Stop != "" {
			return nil, fail
		}
		if t.log != nil {
			how := ""
			if asked {
				how = " (as Retry-After asks)"
			}
			t.log(fmt.Sprintf("%s: %s; trying again in %s%s (try %d of at most %d)", describe(req), why, RoundDuration(wait), how, n+1, p.Attempts))
		}
		serr := p.Sleep(ctx, wait)
		if serr == nil {
			serr = alive(ctx) // the client's life, too, before every try
		}
		if serr == nil {
			req, serr = rewind(req)
		}
		if serr != nil {
			fail.Elapsed, fail.Err = p.Now().Sub(start), serr
			fail.Stop = "the run was cancelled before the next try"
			if errors.Is(serr, context.DeadlineExceeded) {
				fail.Stop = "the timeout ended during the wait before the next try"
			}
			return nil, fail
		}
	}
}

// describe names a request in log lines: its op, or its method and URL
// without the query.
func describe(req *http.Request) string {
	if op := opOf(req.Context()); op != "" {
		return op
	}
	return req.Method + " " + req.URL.Host + req.URL.EscapedPath()
}

// rewind returns req ready to be sent again, with a fresh body.
func rewind(req *http.Request) (*http.Request, error) {
	r := req.Clone(req.Context())
	if req.Body == nil || req.Body == http.NoBody {
		return r, nil
	}
	if req.GetBody == nil {
		return nil, errors.New("the request's body cannot be sent again")
	}
	body, err := req.GetBody()
	r.Body = body
	return r, err
}
