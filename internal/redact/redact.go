// Package redact lists the forms a secret can take in text that echoes it,
// for the two places that hide secrets: the Jira client (in what a server
// answers, before a message is cut) and the report (in everything printed).
// A leaf package, so that neither imports the other.
package redact

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
)

// MinFragment is the shortest piece of a longer base64 text listed: shorter
// fragments would match ordinary text.
const MinFragment = 8

// Forms lists the forms of secret, longest first (so that a form inside
// another is never half-replaced), without duplicates:
//   - as it is;
//   - URL-encoded, query and path style, with upper and lower case hex (as
//     a form body or a URL holds it; some servers echo "%2f");
//   - JSON-escaped, with and without HTML escaping, and with "\/" for "/";
//   - base64, standard and URL alphabets, padded and not;
//   - inside a longer base64 text (as in "Basic base64(id:secret)"), at each
//     of the three alignments: only the characters that depend on the
//     secret's bytes alone, at least MinFragment of them.
//
// An empty secret has no forms. Callers decide how short a secret is still
// worth hiding.
func Forms(secret string) []string {
	if secret == "" {
		return nil
	}
	forms := []string{secret, url.QueryEscape(secret), url.PathEscape(secret)}
	for _, f := range forms[1:] {
		forms = append(forms, lowerPercentHex(f))
	}
	for _, html := range []bool{true, false} {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(html)
		if enc.Encode(secret) == nil {
			j := strings.TrimSuffix(strings.TrimSpace(b.String()), `"`)[1:]
			forms = append(forms, j, strings.ReplaceAll(j, "/", `\/`))
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		forms = append(forms, enc.EncodeToString([]byte(secret)))
	}
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		for shift, skip := range []int{0, 2, 3} { // shift bytes before the secret
			data := append(make([]byte, shift), secret...)
			e := enc.EncodeToString(data)
			// The whole 3-byte groups only: the last character of a
			// partial group holds bits of what follows.
			if whole := 4 * (len(data) / 3); whole-skip >= MinFragment {
				forms = append(forms, e[skip:whole])
			}
			// Up to the last character that holds only the secret's
			// bits (its last group may be partial).
			tail := e[skip:]
			if (shift+len(secret))%3 != 0 {
				tail = tail[:len(tail)-1]
			}
			if len(tail) >= MinFragment {
				forms = append(forms, tail)
			}
		}
	}
	forms = slices.DeleteFunc(forms, func(f string) bool { return f == "" })
	slices.SortFunc(forms, func(a, b string) int {
		if len(a) != len(b) {
			return len(b) - len(a)
		}
		return strings.Compare(a, b)
	})
	return slices.Compact(forms)
}

// lowerPercentHex writes each %XX escape of s with lower case hex digits
// ("%2F" -> "%2f"), as some servers echo them. A loop, not a regexp: the
// regexp's ReplaceAllStringFunc allocated 36 KB (its backtracker's state)
// for every secret and token and compiled at init, ~1/8 of the bytes a whole
// send allocated (pprof over one run of bench's end-to-end job, issue 12).
func lowerPercentHex(s string) string {
	b := []byte(s)
	for i := 0; i+2 < len(b); i++ {
		if b[i] == '%' && isUpperHex(b[i+1]) && isUpperHex(b[i+2]) {
			b[i+1], b[i+2] = lowerHex(b[i+1]), lowerHex(b[i+2])
			i += 2
		}
	}
	return string(b)
}

func isUpperHex(c byte) bool { return '0' <= c && c <= '9' || 'A' <= c && c <= 'F' }

func lowerHex(c byte) byte {
	if 'A' <= c && c <= 'F' {
		return c + ('a' - 'A')
	}
	return c
}
