package jira

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jira-cicd/jira-cicd/internal/redact"
)

// What a request was for, in messages.
const (
	OpToken             = "token request"
	OpTenantInfo        = "cloud id lookup (tenant_info)"
	OpSubmitBuilds      = "build submission"
	OpSubmitDeployments = "deployment submission"
	OpGatingStatus      = "gating status request"
)

// Error is a failed request: which one, Jira's status and messages (or what
// went wrong below HTTP), how many tries over how long, and what to check.
type Error struct {
	Op       string
	Status   int
	Messages []string
	// Detail is what went wrong when there was no answer: the name did not
	// resolve, the certificate was not trusted, the connection was dropped,
	// the timeout ended.
	Detail string
	// Attempts and Elapsed are the tries made and the time they took, when
	// the request was retried.
	Attempts int
	Elapsed  time.Duration
	Hint     string
	Err      error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Op + " failed")
	var paren []string
	if e.Status != 0 {
		paren = append(paren, fmt.Sprintf("HTTP %d", e.Status))
	}
	if e.Attempts > 1 {
		paren = append(paren, fmt.Sprintf("%d tries over %s", e.Attempts, RoundDuration(e.Elapsed)))
	}
	if len(paren) > 0 {
		b.WriteString(" (" + strings.Join(paren, ", ") + ")")
	}
	switch {
	case len(e.Messages) > 0:
		b.WriteString(": " + strings.Join(e.Messages, "; "))
	case e.Detail != "":
		b.WriteString(": " + e.Detail)
	case e.Err != nil:
		b.WriteString(": " + e.Err.Error())
	}
	if e.Hint != "" {
		b.WriteString(". " + e.Hint)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// httpError builds the Error for an HTTP answer outside 2xx; its messages
// pass through r before they are cut to length.
func httpError(op string, status int, body []byte, r redactor) *Error {
	return &Error{Op: op, Status: status, Messages: parseErrorBody(body, r), Hint: hint(op, status)}
}

// transportError builds the Error for a request that got no usable answer:
// the retrying transport gave up (RetryError), a redirect was refused, or
// the body could not be read. The last answer's messages pass through r
// before they are cut (so that no message is cut in the middle of a
// secret).
func transportError(op string, err error, r redactor) *Error {
	var re *RetryError
	if errors.As(err, &re) {
		e := &Error{Op: op, Attempts: re.Attempts, Elapsed: re.Elapsed, Err: re}
		if re.Status != 0 {
			e.Status = re.Status
			e.Messages = parseErrorBody(re.Body, r)
			e.Hint = hint(op, re.Status)
		} else {
			e.Detail = netDetail(re.Err)
			e.Hint = netHint(op, re.Err)
		}
		if re.Stop != "" && (re.Attempts > 1 || re.RetryAfter > 0) {
			e.Hint = "Gave up: " + re.Stop + ". " + e.Hint
		}
		return e
	}
	return &Error{Op: op, Detail: netDetail(err), Hint: netHint(op, err), Err: err}
}

// ParseErrorBody reads Jira's error messages from a body: a JSON array of
// {message} (or of strings), an object with errorMessages and errors (an
// object of field: message, or an array of {message}), an OAuth error
// object, a problem+json object, or plain text. Messages are made one line
// each, at most 500 characters, at most 20 of them, duplicates dropped.
func ParseErrorBody(body []byte) []string { return parseErrorBody(body, nil) }

// parseErrorBody is ParseErrorBody with each message passed through r
// before it is cut to length, so that no secret is cut in two and missed.
func parseErrorBody(body []byte, r redactor) []string {
	s := strings.TrimSpace(string(body))
	if s == "" {
		return nil
	}
	var out []string
	var v any
	if json.Unmarshal(body, &v) == nil {
		out = cleanMessages(messagesOf(v, 0), r)
		if len(out) == 0 {
			// JSON without messages is shown whole, re-encoded: a string
			// escaped in an unusual way (\u0074ok...) is plain again, for
			// the redaction.
			var b bytes.Buffer
			enc := json.NewEncoder(&b)
			enc.SetEscapeHTML(false)
			if enc.Encode(v) == nil {
				s = strings.TrimSpace(b.String())
			}
		}
	}
	if len(out) == 0 {
		switch {
		case strings.HasPrefix(s, "<"):
			out = []string{"an HTML page instead of Jira's JSON answer"}
		default:
			out = cleanMessages([]string{s}, r)
		}
	}
	if len(out) == 0 {
		out = []string{"an answer without a readable message"}
	}
	return out
}

// messagesOf finds the messages in a decoded JSON error body.
func messagesOf(v any, depth int) []string {
	if depth > 3 {
		return nil
	}
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, item := range x {
			out = append(out, messagesOf(item, depth+1)...)
		}
		return out
	case map[string]any:
		var out []string
		// Jira's ErrorMessage; errorMessages of Jira's REST APIs.
		for _, k := range []string{"message", "errorMessage", "errorMessages"} {
			out = append(out, messagesOf(x[k], depth+1)...)
		}
		// errors: {field: message} (Jira's REST APIs) or [{message}].
		switch errs := x["errors"].(type) {
		case map[string]any:
			fields := make([]string, 0, len(errs))
			for f := range errs {
				fields = append(fields, f)
			}
			sort.Strings(fields)
			for _, f := range fields {
				for _, m := range messagesOf(errs[f], depth+1) {
					out = append(out, f+": "+m)
				}
			}
		case []any:
			out = append(out, messagesOf(errs, depth+1)...)
		}
		// OAuth: error_description, else error.
		if d := messagesOf(x["error_description"], depth+1); len(d) > 0 {
			out = append(out, d...)
		} else if e, ok := x["error"].(string); ok {
			out = append(out, e)
		}
		// problem+json
		if d := messagesOf(x["detail"], depth+1); len(d) > 0 {
			out = append(out, d...)
		} else if len(out) == 0 {
			out = append(out, messagesOf(x["title"], depth+1)...)
		}
		return out
	case float64, bool:
		if depth > 0 {
			return []string{fmt.Sprint(x)}
		}
	}
	return nil
}

const (
	maxMessages   = 20
	maxMessageLen = 500
)

func cleanMessages(in []string, r redactor) []string {
	var out []string
	for _, m := range in {
		m = clip(oneLine(r.apply(m)))
		if m == "" || slices.Contains(out, m) {
			continue
		}
		if len(out) == maxMessages {
			out = append(out, fmt.Sprintf("(%d more)", len(in)-maxMessages))
			break
		}
		out = append(out, m)
	}
	return out
}

// oneLine makes s valid UTF-8 on one line: control characters and runs of
// white space become one space.
func oneLine(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
}

func clip(s string) string {
	if len(s) <= maxMessageLen {
		return s
	}
	cut := maxMessageLen
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// setting is the setting that says where a request goes.
func setting(op string) string {
	if op == OpTenantInfo {
		return "site"
	}
	return "api_url"
}

func hint(op string, status int) string {
	unavailable := status == 429 || status >= 500
	switch {
	case op == OpToken && (status == 400 || status == 401 || status == 403):
		return "The client id/secret were refused: check client_id and client_secret (Jira settings > Apps > OAuth credentials)"
	case op == OpToken && status == 404:
		return "No token endpoint at {api_url}/oauth/token: check api_url (for Jira Cloud, https://api.atlassian.com)"
	case op == OpTenantInfo && unavailable:
		return "The site did not give its cloud id: Jira may be unavailable; check site (your Jira Cloud site, such as acme.atlassian.net), or set cloud_id to skip this lookup"
	case op == OpTenantInfo:
		return "Could not read the site's cloud id: check site (your Jira Cloud site, such as acme.atlassian.net), or set cloud_id"
	case status == 401:
		return "The token was not accepted: check that the OAuth credential still exists and belongs to this site"
	case status == 403 && op == OpSubmitBuilds:
		return "The credential may not send builds: give it the Builds permission in Jira's OAuth credentials"
	case status == 403 && (op == OpSubmitDeployments || op == OpGatingStatus):
		return "The credential may not send deployments: give it the Deployments permission in Jira's OAuth credentials"
	case status == 404 && op == OpGatingStatus:
		return "Jira knows no such deployment: check that it was submitted with gating"
	case status == 404:
		return "Jira found no such site: check cloud_id (or site)"
	case status == 413:
		return "The record is larger than Jira takes: send fewer issue keys or service ids, or shorter fields"
	case status == 400 || status == 422:
		return "Jira refused the record's content: check the fields its messages name"
	case status == 429:
		return "Jira's rate limit was reached: try again later, or raise timeout to wait longer"
	case unavailable && op == OpToken:
		return "Atlassian's token endpoint is unavailable: try again later, or raise timeout to wait longer"
	case unavailable:
		return "Jira is unavailable: try again later, or raise timeout to wait longer"
	case status >= 300 && status < 400:
		return "Jira answered with a redirect this step does not follow: check " + setting(op)
	}
	return ""
}

// notJira says what to check when an answer is not the API's.
func notJira(op string) string {
	if op == OpTenantInfo {
		return "Check site: it must be your Jira Cloud site, such as https://acme.atlassian.net"
	}
	return "Check api_url: it must be Atlassian's API, https://api.atlassian.com"
}

// netDetail says what went wrong when a request got no answer, in words, and
// without the request's URL.
func netDetail(err error) string {
	var (
		pe  *PolicyError
		dns *net.DNSError
		op  *net.OpError
	)
	var px *ProxyError
	switch {
	case err == nil:
		return "no answer"
	case errors.As(err, &pe):
		return pe.Msg
	case errors.As(err, &px):
		return px.Error()
	case errors.As(err, &dns):
		if dns.IsNotFound {
			return fmt.Sprintf("the host name %s does not resolve (no such host)", dns.Name)
		}
		return fmt.Sprintf("the host name %s could not be resolved (%s)", dns.Name, dns.Err)
	case isCertError(err):
		return "the server's TLS certificate was not accepted: " + certReason(err)
	case isNotTLS(err):
		return "the server does not speak TLS (https) on that port"
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) || isTimeout(err):
		return "no answer before the timeout (" + innermost(err).Error() + ")"
	case errors.Is(err, context.Canceled):
		return "the run was cancelled (" + innermost(err).Error() + ")"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "the connection was refused" + addr(err)
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE):
		return "the connection was closed without an answer" + addr(err)
	case errors.As(err, &op) && op.Op == "proxyconnect":
		return "the proxy could not be reached: " + op.Err.Error()
	}
	return err.Error()
}

func innermost(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}

func addr(err error) string {
	var op *net.OpError
	if errors.As(err, &op) && op.Addr != nil {
		return " by " + op.Addr.String()
	}
	return ""
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// isNotTLS reports a server that answered a TLS handshake in plain text (Go
// turns a plain HTTP answer into an error without a type).
func isNotTLS(err error) bool {
	if err == nil {
		return false
	}
	var rh tls.RecordHeaderError
	return errors.As(err, &rh) || strings.Contains(err.Error(), "server gave HTTP response to HTTPS client") ||
		strings.Contains(err.Error(), "first record does not look like a TLS handshake")
}

func certReason(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "x509: "); i >= 0 {
		return msg[i:]
	}
	return msg
}

// netHint says what to check when a request got no answer.
func netHint(op string, err error) string {
	s := setting(op)
	var (
		pe  *PolicyError
		dns *net.DNSError
	)
	var px *ProxyError
	switch {
	case errors.As(err, &pe) && pe.Hint != "":
		return "Check " + s + ": " + pe.Hint
	case errors.As(err, &pe):
		return "Check " + s + ": it must be an https URL"
	case errors.As(err, &px):
		return "Check the proxy settings HTTPS_PROXY and NO_PROXY, and that the proxy lets this host through"
	case errors.As(err, &dns):
		return "Check " + s + " (a typo in the host name?) and that this machine can resolve names (DNS)"
	case isCertError(err) || isNotTLS(err):
		return "Check " + s + "; a proxy that intercepts TLS needs its CA certificate trusted (SSL_CERT_FILE)"
	case errors.Is(err, context.Canceled):
		return "The step was stopped before Jira answered"
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) || isTimeout(err):
		return "Raise timeout, or check " + s + " and the network (proxies come from HTTPS_PROXY and NO_PROXY)"
	}
	return "Check " + s + " and the network (proxies come from HTTPS_PROXY and NO_PROXY)"
}

// redactor replaces secrets in error messages.
type redactor func(string) string

// apply redacts s; a nil redactor leaves it as it is.
func (r redactor) apply(s string) string {
	if r == nil {
		return s
	}
	return r(s)
}

// minSecretLen is the shortest secret redacted: shorter ones would blank
// out ordinary words.
const minSecretLen = 4

// secretForms lists the forms a secret takes in what a server may echo,
// longest first (redact.Forms); a secret shorter than minSecretLen has none.
func secretForms(secret string) []string {
	if len(secret) < minSecretLen {
		return nil
	}
	return redact.Forms(secret)
}

// replaceForms replaces every form in s with ***.
func replaceForms(s string, forms []string) string {
	for _, f := range forms {
		if f != "" {
			s = strings.ReplaceAll(s, f, "***")
		}
	}
	return s
}

// redactError returns err with every secret replaced by *** in what it
// prints: Jira's messages (an error body may echo the request), the detail,
// and the wrapped error's text.
func redactError(err error, r redactor) error {
	if err == nil {
		return nil
	}
	var je *Error
	if !errors.As(err, &je) {
		return &redactedError{msg: r(err.Error()), err: err}
	}
	out := *je
	out.Messages = make([]string, len(je.Messages))
	for i, m := range je.Messages {
		out.Messages[i] = r(m)
	}
	if len(je.Messages) == 0 {
		out.Messages = nil
	}
	out.Detail = r(je.Detail)
	out.Hint = r(je.Hint)
	if je.Err != nil {
		out.Err = &redactedError{msg: r(je.Err.Error()), err: je.Err}
	}
	return &out
}

// redactedError prints a redacted message; errors.Is and errors.As still see
// the error it wraps.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

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
	return fmt.Sprintf("%d tries over %s", e.Attempts, RoundDuration(e.Elapsed))
}

// RoundDuration rounds a wait for a message: whole seconds from 10s, tenths
// of a second from 1s, milliseconds below.
func RoundDuration(d time.Duration) time.Duration {
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
