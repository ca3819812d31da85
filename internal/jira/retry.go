package jira

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
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

// retryableError reports whether a try that got no answer is worth another:
// not when the name does not resolve, the peer's certificate is not trusted
// or it does not speak TLS, a proxy refused for good, or this client refused
// the request itself.
func retryableError(err error) bool {
	var (
		dns *net.DNSError
		px  *ProxyError
		pe  *PolicyError
	)
	switch {
	case errors.As(err, &dns):
		return !dns.IsNotFound
	case errors.As(err, &px):
		return retryableStatus(px.Status)
	}
	return !isCertError(err) && !isNotTLS(err) && !errors.As(err, &pe)
}

func isCertError(err error) bool {
	var (
		cv  *tls.CertificateVerificationError
		ua  x509.UnknownAuthorityError
		he  x509.HostnameError
		ci  x509.CertificateInvalidError
		ca  x509.ConstraintViolationError
		uce x509.UnhandledCriticalExtension
	)
	return errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci) ||
		errors.As(err, &ca) || errors.As(err, &uce)
}

// RetryError is a request that failed for good at the transport: no answer
// (a network error, the deadline, the client's end), or a transient answer
// (429, 5xx) still there when the tries or the time ran out.
type RetryError struct {
	Attempts int
	Elapsed  time.Duration
	// Status, Header and Body are the last answer's, when the last try got
	// one (Body at most 1 MiB).
	Status int
	Header http.Header
	Body   []byte
	// Err is the last try's error, when it got no answer.
	Err error
	// Stop says why no further try was made; "" when the failure was not
	// worth another try.
	Stop string
	// RetryAfter is the wait Jira asked for last, if it did.
	RetryAfter time.Duration
}

func (e *RetryError) Error() string {
	var b strings.Builder
	if e.Status != 0 {
		fmt.Fprintf(&b, "HTTP %d", e.Status)
	} else if e.Err != nil {
		b.WriteString(e.Err.Error())
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " (%s)", e.Tries())
	}
	if e.Stop != "" {
		b.WriteString("; " + e.Stop)
	}
	return b.String()
}

func (e *RetryError) Unwrap() error { return e.Err }

// Tries describes how many tries took how long: "4 tries over 12.5s".
func (e *RetryError) Tries() string {
	return fmt.Sprintf("%d tries over %s", e.Attempts, roundDuration(e.Elapsed))
}

func roundDuration(d time.Duration) time.Duration {
	switch {
	case d >= 10*time.Second:
		return d.Round(time.Second)
	case d >= time.Second:
		return d.Round(100 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(time.Millisecond)
	}
	return d
}

// PolicyError is a request this client refuses to send: plain http to a host
// that is not loopback, a redirect it does not follow. Hint, when set, says
// what the setting must be instead.
type PolicyError struct{ Msg, Hint string }

func (e *PolicyError) Error() string { return e.Msg }

// opKey carries the name of the request (OpToken, ...) to the transport and
// the redirect policy; lifeKey carries the client's life, which the loop
// checks before every try.
type (
	opKey   struct{}
	lifeKey struct{}
)

func withOp(ctx context.Context, op string) context.Context {
	return context.WithValue(ctx, opKey{}, op)
}

func opOf(ctx context.Context) string { op, _ := ctx.Value(opKey{}).(string); return op }

// alive is the error of ctx or of the client's life it carries. The life is
// looked at itself: the cancellation context.AfterFunc passes on to ctx runs
// in a goroutine of its own, so ctx alone may not show it yet.
func alive(ctx context.Context) error {
	if life, _ := ctx.Value(lifeKey{}).(context.Context); life != nil && life.Err() != nil {
		return life.Err()
	}
	return ctx.Err()
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
	what := opOf(ctx)
	if what == "" {
		what = req.Method + " " + req.URL.Host + req.URL.EscapedPath()
	}
	start := p.Now()
	last := &RetryError{}
	for n := 1; ; n++ {
		last.Attempts, last.Elapsed = n-1, p.Now().Sub(start)
		if err := alive(ctx); err != nil {
			if n > 1 {
				last.Stop = "the run was cancelled"
				if errors.Is(err, context.DeadlineExceeded) {
					last.Stop = "the timeout ended"
				}
			}
			last.Attempts, last.Err = max(n-1, 1), err
			return nil, last
		}
		try := req
		if n > 1 {
			if try = req.Clone(ctx); req.Body != nil && req.Body != http.NoBody {
				if req.GetBody == nil {
					last.Stop = "the request's body cannot be sent again"
					return nil, last
				}
				body, err := req.GetBody()
				if err != nil {
					last.Err = err
					return nil, last
				}
				try.Body = body
			}
		}
		resp, err := t.base.RoundTrip(try)
		last = &RetryError{Attempts: n, Err: err}
		if err != nil && !retryableError(err) || err == nil && !retryableStatus(resp.StatusCode) {
			if err != nil {
				return nil, last
			}
			return resp, nil
		}
		now := p.Now()
		wait := p.backoff(n)
		why := ""
		if resp != nil {
			last.Status, last.Header = resp.StatusCode, resp.Header
			var buf bytes.Buffer
			_, _ = io.Copy(&buf, io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
			last.Body = buf.Bytes()
			why = fmt.Sprintf("HTTP %d", resp.StatusCode)
		} else {
			why = netDetail(err)
		}
		asked := retryAfter(resp, now)
		if asked > 0 {
			last.RetryAfter = asked
			wait = max(wait, asked)
		}
		deadline, hasDeadline := ctx.Deadline()
		switch {
		case n >= p.Attempts:
			last.Stop = fmt.Sprintf("no tries left (at most %d)", p.Attempts)
		case hasDeadline && now.Add(wait+p.Reserve).After(deadline) && asked == wait:
			last.Stop = fmt.Sprintf("Jira asked to wait %s (Retry-After), past the timeout", roundDuration(wait))
		case hasDeadline && now.Add(wait+p.Reserve).After(deadline):
			last.Stop = "the timeout would end before the next try"
		case !hasDeadline && asked > p.MaxRetryAfter:
			last.Stop = fmt.Sprintf("Jira asked to wait %s (Retry-After), longer than %s", roundDuration(asked), p.MaxRetryAfter)
		}
		last.Elapsed = now.Sub(start)
		if last.Stop != "" {
			return nil, last
		}
		if t.log != nil {
			how := ""
			if asked == wait {
				how = " (as Retry-After asks)"
			}
			t.log(fmt.Sprintf("%s: %s; trying again in %s%s (try %d of at most %d)", what, why, roundDuration(wait), how, n+1, p.Attempts))
		}
		if err := p.Sleep(ctx, wait); err != nil {
			last.Elapsed, last.Err = p.Now().Sub(start), err
			last.Stop = "the timeout ended during the wait before the next try"
			return nil, last
		}
	}
}
