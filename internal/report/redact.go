// Package report tells the user what happened, in each CI's own way: the log,
// GitHub's outputs, job summary and annotations, Drone's card, Bitbucket's
// pipe result file. Everything it writes passes through a Redactor first.
package report

import (
	"io"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/jira-cicd/jira-cicd/internal/redact"
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
		if len(f) >= minSecret && !slices.Contains(r.secrets, f) {
			r.secrets = append(r.secrets, f)
		}
	}
	sort.SliceStable(r.secrets, func(i, j int) bool { return len(r.secrets[i]) > len(r.secrets[j]) })
}

// SecretForms lists the forms a secret can take in text that echoes it:
// those of redact.Forms (raw, URL-encoded, JSON-escaped, base64, also inside
// a longer base64 text), and as printed here: escaped as workflow command
// data, and made inert. The secret itself comes first.
func SecretForms(secret string) []string {
	if secret == "" {
		return nil
	}
	// The secret itself first: the runner is told to mask it before any
	// other form (Mask writes them in this order).
	forms := []string{secret}
	for _, f := range append(redact.Forms(secret), escapeData(secret), inert(secret)) {
		if f != "" && !slices.Contains(forms, f) {
			forms = append(forms, f)
		}
	}
	return forms
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
