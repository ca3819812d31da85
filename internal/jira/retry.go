package jira

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// Retry says how a request that meets a transient failure is tried again:
// connection errors, timeouts of one try, and HTTP 429, 500, 502, 503 and
// 504. Every other answer is final. Waits grow exponentially with jitter; a
// Retry-After header (seconds or an HTTP date) is honoured instead. No wait
// starts that would end after the request's deadline (the run's timeout).
// The zero value is DefaultRetry.
type Retry struct {
	// Attempts is the most tries of one request, the first included. Zero:
	// no bound but the deadline for a request that has one (so that a
	// longer timeout waits longer for Jira), DefaultAttempts otherwise.
	Attempts int
	// Base is the wait after the first try; it doubles after each further
	// try, up to Max. The wait taken is between half of it and all of it.
	Base, Max time.Duration
	// MaxRetryAfter is the longest Retry-After honoured for a request with
	// no deadline; with a deadline, the deadline decides.
	MaxRetryAfter time.Duration
	// Reserve is the time the next try needs at least: a wait that would
	// leave less than this before the deadline is not started. Negative:
	// none.
	Reserve time.Duration

	// Now and Sleep replace the clock and the wait between tries (tests run
	// with a fake clock and no real waits). Sleep returns early with the
	// context's error when it ends.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// Rand returns a random number in [0, n); it makes the jitter.
	Rand func(n int64) int64
}

// DefaultAttempts bounds the tries of a request without a deadline.
const DefaultAttempts = 8

// DefaultRetry is the policy of NewHTTPClient: tries until the deadline (or
// 8 tries without one), waits of about 1s, 2s, 4s, 8s, then 15s; a
// Retry-After of up to 5 minutes is honoured.
var DefaultRetry = Retry{
	Base:          time.Second,
	Max:           15 * time.Second,
	MaxRetryAfter: 5 * time.Minute,
	Reserve:       250 * time.Millisecond,
}

func (p Retry) withDefaults() Retry {
	d := DefaultRetry
	if p.Attempts < 0 {
		p.Attempts = 0
	}
	if p.Base <= 0 {
		p.Base = d.Base
	}
	if p.Max <= 0 {
		p.Max = d.Max
	}
	if p.Max < p.Base {
		p.Max = p.Base
	}
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

// backoff is the wait after the given number of tries, with jitter: between
// half of Base*2^(tries-1) (capped at Max) and all of it.
func (p Retry) backoff(tries int) time.Duration {
	d := p.Max
	if shift := tries - 1; shift < 62 {
		if b := float64(p.Base) * math.Pow(2, float64(shift)); b < float64(p.Max) {
			d = time.Duration(b)
		}
	}
	half := d / 2
	if half <= 0 {
		return d
	}
	return half + time.Duration(p.Rand(int64(d-half)+1))
}

// retryable reports whether a status is worth trying again.
func retryableStatus(code int) bool {
	switch code {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// retryableError reports whether a failed try (no answer) is worth trying
// again: not when the name does not resolve, the peer's certificate is not
// trusted or it does not speak TLS, or the request itself is refused here.
func retryableError(err error) bool {
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return !dns.IsNotFound
	}
	if isCertError(err) || isNotTLS(err) {
		return false
	}
	var px *ProxyError
	if errors.As(err, &px) {
		return retryableStatus(px.Status)
	}
	var pe *PolicyError
	return !errors.As(err, &pe)
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

// retryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		if n > int64(math.MaxInt64/time.Second) {
			n = int64(math.MaxInt64 / time.Second)
		}
		return time.Duration(n) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	if d := t.Sub(now); d > 0 {
		return d, true
	}
	return 0, true
}

// RetryError is a request that failed for good at the transport: no answer
// (a network error or the deadline), or a transient answer (429, 5xx) that
// was still there when the tries, or the time, ran out.
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
	// Stop says why no further try was made; "" when the error was not
	// worth retrying.
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
// that is not loopback, a redirect from https to http, too many redirects.
type PolicyError struct{ Msg string }

func (e *PolicyError) Error() string { return e.Msg }

// opKey carries the name of the request (OpToken, ...) to the transport, for
// its log lines.
type opKey struct{}

func withOp(ctx context.Context, op string) context.Context {
	return context.WithValue(ctx, opKey{}, op)
}

// retryTransport runs every request through go-retryablehttp with a policy
// made for this one request: it knows the request's deadline and counts its
// tries.
type retryTransport struct {
	inner  *http.Client // no redirects: the outer client follows them
	policy Retry
	log    func(string)
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := checkScheme(req.URL); err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, &RetryError{Attempts: 1, Err: err}
	}
	// A shallow copy: retryablehttp sets the body of the request it sends.
	r2 := req.WithContext(req.Context())
	rreq, err := retryablehttp.FromRequest(r2)
	if req.Body != nil {
		req.Body.Close()
	}
	if err != nil {
		return nil, &RetryError{Attempts: 1, Err: err}
	}
	a := &attempts{policy: t.policy, log: t.log, ctx: req.Context(), start: t.policy.Now(), what: describe(req)}
	rc := &retryablehttp.Client{
		HTTPClient:   t.inner,
		Logger:       nil, // silent: it would log URLs; ours logs through log
		RetryMax:     math.MaxInt32,
		CheckRetry:   a.check,
		Backoff:      a.backoff,
		PrepareRetry: a.prepare,
		ErrorHandler: a.giveUp,
	}
	resp, err := rc.Do(rreq)
	if err != nil {
		var re *RetryError
		if errors.As(err, &re) {
			return nil, re
		}
		// retryablehttp returns the context's error itself when it ends
		// during a wait.
		return nil, a.failure(nil, err, "the timeout ended during the wait before the next try")
	}
	return resp, nil
}

func describe(req *http.Request) string {
	if op, _ := req.Context().Value(opKey{}).(string); op != "" {
		return op
	}
	return req.Method + " " + req.URL.Host + req.URL.EscapedPath()
}

// attempts is the state of one request's tries.
type attempts struct {
	policy     Retry
	log        func(string)
	ctx        context.Context
	start      time.Time
	what       string
	n          int
	wait       time.Duration
	stop       string
	lastErr    error
	lastStatus int
	retryAfter time.Duration
	cut        bool // the wait was cut short by the deadline
}

// errStop makes retryablehttp hand the last answer to giveUp instead of
// returning it as a success; errCut stops it after a wait the deadline cut
// short.
var (
	errStop = errors.New("stop retrying")
	errCut  = errors.New("the wait was cut short")
)

func (a *attempts) check(ctx context.Context, resp *http.Response, err error) (bool, error) {
	a.n++
	a.lastErr = unwrapURLError(err)
	a.lastStatus = 0
	if resp != nil {
		a.lastStatus = resp.StatusCode
	}
	if ctx.Err() != nil {
		if err == nil {
			a.lastErr = ctx.Err()
		}
		a.stop = "the timeout ended"
		if errors.Is(ctx.Err(), context.Canceled) {
			a.stop = "the run was cancelled"
		}
		return false, errStop
	}
	if err != nil {
		if !retryableError(a.lastErr) {
			return false, nil
		}
	} else if !retryableStatus(resp.StatusCode) {
		return false, nil
	}
	_, hasDeadline := ctx.Deadline()
	attempts := a.policy.Attempts
	if attempts == 0 && !hasDeadline {
		attempts = DefaultAttempts
	}
	if attempts > 0 && a.n >= attempts {
		a.stop = fmt.Sprintf("no tries left (at most %d)", attempts)
		return false, errStop
	}
	now := a.policy.Now()
	wait := a.policy.backoff(a.n)
	asked := false
	if resp != nil {
		if d, ok := retryAfter(resp.Header, now); ok {
			wait, asked = d, true
			a.retryAfter = d
		}
	}
	if deadline, ok := ctx.Deadline(); ok {
		if now.Add(wait + a.policy.Reserve).After(deadline) {
			if asked {
				a.stop = fmt.Sprintf("Jira asked to wait %s (Retry-After), past the timeout", roundDuration(wait))
			} else {
				a.stop = "the timeout would end before the next try"
			}
			return false, errStop
		}
	} else if asked && wait > a.policy.MaxRetryAfter {
		a.stop = fmt.Sprintf("Jira asked to wait %s (Retry-After), longer than %s", roundDuration(wait), a.policy.MaxRetryAfter)
		return false, errStop
	}
	a.wait = wait
	if a.log != nil {
		why := ""
		if err != nil {
			why = netDetail(a.lastErr)
		} else {
			why = fmt.Sprintf("HTTP %d", resp.StatusCode)
		}
		how := "trying again in " + roundDuration(wait).String()
		if asked {
			how += " (as Retry-After asks)"
		}
		try := fmt.Sprintf("try %d", a.n+1)
		if attempts > 0 {
			try += fmt.Sprintf(" of at most %d", attempts)
		}
		a.log(fmt.Sprintf("%s: %s; %s (%s)", a.what, why, how, try))
	}
	return true, nil
}

// backoff waits (through the policy's Sleep) and tells retryablehttp not to
// wait any more.
func (a *attempts) backoff(_, _ time.Duration, _ int, _ *http.Response) time.Duration {
	if err := a.policy.Sleep(a.ctx, a.wait); err != nil {
		a.cut = true
		a.stop = "the timeout ended during the wait before the next try"
	}
	return 0
}

// prepare stops the loop after a wait the deadline cut short (retryablehttp
// may still start the next try when its own zero wait wins the race).
func (a *attempts) prepare(*http.Request) error {
	if a.cut {
		return errCut
	}
	return nil
}

// giveUp turns the last try into a RetryError.
func (a *attempts) giveUp(resp *http.Response, err error, _ int) (*http.Response, error) {
	switch {
	case errors.Is(err, errCut):
		// The last answer was already drained before the wait.
		return nil, a.failure(nil, a.ctx.Err(), "")
	case errors.Is(err, errStop):
		err = nil
	}
	return nil, a.failure(resp, err, "")
}

func (a *attempts) failure(resp *http.Response, err error, stop string) *RetryError {
	e := &RetryError{Attempts: max(a.n, 1), Elapsed: a.policy.Now().Sub(a.start), Stop: a.stop, RetryAfter: a.retryAfter}
	if e.Stop == "" {
		e.Stop = stop
	}
	if resp != nil {
		e.Status = resp.StatusCode
		e.Header = resp.Header
		var buf bytes.Buffer
		_, _ = io.Copy(&buf, io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		e.Body = buf.Bytes()
		return e
	}
	e.Status = a.lastStatus // the answer before a wait the deadline cut short
	e.Err = unwrapURLError(err)
	if e.Err == nil {
		e.Err = a.lastErr
	}
	if e.Err == nil {
		e.Err = a.ctx.Err()
	}
	return e
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
