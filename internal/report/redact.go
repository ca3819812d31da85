// Package report tells the user what happened, in each CI's own way: the log,
// GitHub's outputs, job summary and annotations, Drone's card, Bitbucket's
// pipe result file. Everything it writes passes through a Redactor first.
package report

import (
	"io"
	"strings"
	"sync"
)

// Redactor replaces known secrets with ***.
type Redactor struct {
	mu      sync.RWMutex
	secrets []string
}

// Add registers a secret. Empty and very short values are ignored (masking
// "a" would mangle every line).
func (r *Redactor) Add(secret string) {
	if len(secret) < 4 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.secrets {
		if s == secret {
			return
		}
	}
	r.secrets = append(r.secrets, secret)
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
