// Package report tells the user what happened, in each CI's own way: the log,
// GitHub's outputs, job summary and annotations, Drone's card, Bitbucket's
// pipe result file. Everything it writes passes through a Redactor first.
package report

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/url"
	"sort"
	"strings"
	"sync"
)

// Redactor replaces known secrets with ***.
type Redactor struct {
	mu      sync.RWMutex
	secrets []string // longest first, so a form inside another is not half-replaced
}

// minSecret is the shortest value masked: masking "a" would mangle every
// line.
const minSecret = 4

// Add registers a secret in every form it could be printed in (see
// SecretForms). Empty and very short values are ignored.
func (r *Redactor) Add(secret string) {
	if len(secret) < minSecret {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, f := range SecretForms(secret) {
		if len(f) >= minSecret && !contains(r.secrets, f) {
			r.secrets = append(r.secrets, f)
		}
	}
	sort.SliceStable(r.secrets, func(i, j int) bool { return len(r.secrets[i]) > len(r.secrets[j]) })
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// SecretForms lists the forms a secret can take in text that echoes it:
// raw; URL-encoded (query and path escaping, as a form body or a URL
// holds it); JSON-escaped (with and without HTML escaping); escaped as
// workflow command data; and base64 (standard and URL alphabets, padded and
// not) — also when the secret sits inside a longer base64 text (as in
// "Basic base64(id:secret)"), where only the characters that depend on the
// secret's bytes alone are listed, for each of the three alignments.
func SecretForms(secret string) []string {
	if secret == "" {
		return nil
	}
	forms := []string{secret, url.QueryEscape(secret), url.PathEscape(secret), escapeData(secret), inert(secret)}
	for _, html := range []bool{true, false} {
		var b strings.Builder
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(html)
		if enc.Encode(secret) == nil {
			q := strings.TrimSuffix(b.String(), "\n")
			forms = append(forms, q[1:len(q)-1])
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		forms = append(forms, enc.EncodeToString([]byte(secret)))
	}
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		for k, skip := range []int{0, 2, 3} { // k bytes before the secret
			data := append(make([]byte, k), secret...)
			s := enc.EncodeToString(data)
			end := 4 * (len(data) / 3) // characters of whole 3-byte groups only
			if end-skip >= 8 {         // shorter fragments would mask ordinary text
				forms = append(forms, s[skip:end])
			}
		}
	}
	out := forms[:0]
	for _, f := range forms {
		if f != "" && !contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// String returns s with every secret replaced.
func (r *Redactor) String(s string) string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, secret := range r.secrets {
		s = strings.ReplaceAll(s, secret, "***")
	}
	return s
}

// Writer wraps w so that everything written through it is redacted. Each
// Write is redacted on its own: callers write whole lines.
func (r *Redactor) Writer(w io.Writer) io.Writer { return &redactWriter{r: r, w: w} }

type redactWriter struct {
	r *Redactor
	w io.Writer
}

func (rw *redactWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(rw.w, rw.r.String(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}
