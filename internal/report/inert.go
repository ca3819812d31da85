package report

import (
	"fmt"
	"io"
	"net/url"
	"reflect"
	"strings"
	"unicode/utf8"
)

// Every value the Reporter prints is made inert here, in one place: the
// formatting of a log call's arguments. The format string is ours; its
// arguments (settings, CI values, Jira's answers, error texts) may be
// attacker-written. A value can neither add a line nor start a runner
// command:
//
//   - registered secrets are replaced first (before anything could cut or
//     re-encode them);
//   - terminal control sequences (ESC [ ... m, ESC ] ... BEL) and every other
//     control character are removed;
//   - %, CR and LF are escaped as %25, %0D and %0A, the way GitHub's toolkit
//     escapes workflow command data (escapeData in @actions/core), on every
//     CI, so one value prints the same everywhere;
//   - "##[" (the runner's legacy command prefix, recognised anywhere in a
//     line) becomes "##%5B".
//
// Keys, counts and ordinary text print unchanged.

// inertArg formats its value with the verb and flags it was given, then
// makes the result inert.
type inertArg struct {
	v   any
	red *Redactor
}

// Format makes the value inert. Redaction comes before any cut: a text
// value (string, error, Stringer) is redacted first and then formatted with
// the verb, flags, width and precision it was given; any other value (a
// struct, a list) is formatted without the precision (which would cut each
// of its texts), then redacted.
func (x inertArg) Format(f fmt.State, verb rune) {
	var s string
	textVerb := verb == 's' || verb == 'v' || verb == 'q'
	switch v := x.v.(type) {
	case string:
		s = fmt.Sprintf(fmt.FormatString(f, verb), x.red.String(v))
	case error:
		if !textVerb {
			s = x.red.String(fmt.Sprintf(withoutPrecision(f, verb), x.v))
			break
		}
		s = fmt.Sprintf(fmt.FormatString(f, verb), x.red.String(v.Error()))
	case fmt.Stringer:
		if !textVerb {
			s = x.red.String(fmt.Sprintf(withoutPrecision(f, verb), x.v))
			break
		}
		s = fmt.Sprintf(fmt.FormatString(f, verb), x.red.String(v.String()))
	default:
		s = x.red.String(fmt.Sprintf(withoutPrecision(f, verb), x.v))
	}
	_, _ = io.WriteString(f, inert(x.red.String(s)))
}

// withoutPrecision is the directive of f and verb, less its precision.
func withoutPrecision(f fmt.State, verb rune) string {
	spec := "%"
	for _, flag := range "+-# 0" {
		if f.Flag(int(flag)) {
			spec += string(flag)
		}
	}
	if w, ok := f.Width(); ok {
		spec += fmt.Sprint(w)
	}
	return spec + string(verb)
}

// inertArgs wraps every argument that could carry text. Numbers and
// booleans stay as they are (they are inert, and %*d needs a real int).
func inertArgs(red *Redactor, a []any) []any {
	out := make([]any, len(a))
	for i, v := range a {
		switch reflect.ValueOf(v).Kind() {
		case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
			reflect.Float32, reflect.Float64:
			if _, ok := v.(fmt.Stringer); !ok {
				out[i] = v
				continue
			}
		}
		out[i] = inertArg{v: v, red: red}
	}
	return out
}

// inert returns s with control sequences removed and %, CR, LF and "##["
// escaped (see above).
func inert(s string) string {
	s = stripControls(s, true)
	if !strings.ContainsAny(s, "%\r\n#") {
		return s
	}
	return escaper.Replace(s)
}

var escaper = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", "##[", "##%5B")

// escapeData is GitHub's escaping of workflow command data: the runner
// undoes it.
func escapeData(s string) string { return dataEscaper.Replace(s) }

// dataEscaper is built once (on first use), not per call: each build of this
// replacer allocates its 256-entry table (~6 KB), and a run escapes every
// form of every secret it masks: SecretForms went from 7.7 KB and 6.5 µs to
// 1 KB and 5.0 µs a secret (go test -bench, issue 12).
var dataEscaper = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")

// stripControls removes ANSI/VT escape sequences (CSI "ESC [ ... final",
// OSC "ESC ] ... BEL or ESC \", and two-byte "ESC x") and every other C0, DEL
// and C1 control character. With keepLines, CR and LF are kept (for the
// caller to escape); tabs become spaces. Invalid UTF-8 becomes U+FFFD.
func stripControls(s string, keepLines bool) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || c >= 0x80 {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == 0x1b:
			i += escapeLen(s[i:])
			continue
		case r == utf8.RuneError && size <= 1:
			b.WriteRune(utf8.RuneError)
		case r == '\t':
			b.WriteByte(' ')
		case r == '\r' || r == '\n':
			if keepLines {
				b.WriteRune(r)
			} else {
				b.WriteByte(' ')
			}
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f):
			// dropped
		case r == '\u2028' || r == '\u2029':
			if keepLines {
				b.WriteByte('\n')
			} else {
				b.WriteByte(' ')
			}
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// escapeLen is the length of the escape sequence at the start of s (which
// begins with ESC). An unterminated sequence runs to the end of s.
func escapeLen(s string) int {
	if len(s) < 2 {
		return len(s)
	}
	switch s[1] {
	case '[': // CSI: parameters and intermediates, then a final byte 0x40-0x7e
		for j := 2; j < len(s); j++ {
			if s[j] >= 0x40 && s[j] <= 0x7e {
				return j + 1
			}
			if s[j] < 0x20 || s[j] > 0x7e {
				return j // not a CSI after all; stop before the odd byte
			}
		}
		return len(s)
	case ']', 'P', '^', '_', 'X': // OSC, DCS, PM, APC: up to BEL or ST (ESC \)
		for j := 2; j < len(s); j++ {
			if s[j] == 0x07 {
				return j + 1
			}
			if s[j] == 0x1b && j+1 < len(s) && s[j+1] == '\\' {
				return j + 2
			}
			if s[j] == '\n' || s[j] == '\r' {
				return j // a string command never spans our lines
			}
		}
		return len(s)
	}
	return 2
}

// oneLine is a value for a place that holds exactly one line (a GitHub
// output): controls removed, CR and LF each become a space.
func oneLine(s string) string { return stripControls(s, false) }

// Markdown escaping: every value shown in the job summary or Drone's card
// is plain text. Each ASCII punctuation character that can open markup
// inside a line is backslash-escaped (CommonMark allows it for any ASCII
// punctuation): links and images need "[" (and autolinks "<"), emphasis "*"
// "_" "~", code "`", HTML "<" ">" and entities "&", GFM table cells "|",
// GitHub's math "$", and "\" itself. Parentheses, "#" and "!" mean nothing
// without those and stay readable. Lines are joined, and a block marker at
// the start ("#", "-", "+", "=", "1.", "1)") is escaped.
var mdEscaper = strings.NewReplacer(`\`, `\\`, "`", "\\`", `*`, `\*`, `_`, `\_`, `[`, `\[`, `]`, `\]`,
	`<`, `\<`, `>`, `\>`, `|`, `\|`, `~`, `\~`, `&`, `\&`, `$`, `\$`)

// autolinks are where GFM turns plain text into a link (its autolink
// extension fires on "://" after a scheme and on "www."): escaping the colon
// or the dot stops it, and renders the same text.
var autolinks = strings.NewReplacer("://", `\://`, "www.", `www\.`, "WWW.", `WWW\.`)

// md returns s as inert Markdown text on one line.
func md(s string) string {
	s = autolinks.Replace(mdEscaper.Replace(strings.TrimSpace(oneLine(s))))
	if s != "" && strings.ContainsRune("#-+=", rune(s[0])) {
		s = `\` + s
	}
	if i := strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' }); i > 0 && (s[i] == '.' || s[i] == ')') {
		s = s[:i] + `\` + s[i:]
	}
	return s
}

// safeURL returns u when it is an absolute http(s) URL, with every character
// that could end a Markdown link destination or a table cell
// percent-encoded; "" otherwise (javascript:, data:, relative, unparsable).
func safeURL(u string) string {
	p, err := url.Parse(strings.TrimSpace(u))
	if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
		return ""
	}
	var b strings.Builder
	for _, c := range []byte(p.String()) {
		if c <= 0x20 || c >= 0x7f || strings.IndexByte("()<>[]`\"'\\|{}^", c) >= 0 {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// mdLink is a Markdown link whose text and destination are inert; without
// a safe URL, just the text.
func mdLink(text, u string) string {
	if su := safeURL(u); su != "" {
		return "[" + md(text) + "](" + su + ")"
	}
	return md(text)
}
