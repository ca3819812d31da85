// Package testresults finds JUnit XML reports on disk and sums them into the
// totals that Jira's build record carries as testInfo
// {totalNumber, numberPassed, numberFailed, numberSkipped}.
//
// # Counting rules
//
// Files are streamed through encoding/xml's tokenizer, one token at a time,
// so any file size runs in constant memory (a 200 MB report in 8 MB of RSS;
// go-junit, used before, kept the whole file and every element's inner XML:
// 6 GB for 500 MB). Only <testcase> elements are counted; the summary
// attributes a producer writes on <testsuites>/<testsuite> (tests=,
// failures=, errors=, skipped=) are never used as numbers. Per test case:
//
//   - a <failure> or <error> child makes it Failed (errors count as failed);
//   - a <skipped> child makes it Skipped (pytest xfail is written as
//     <skipped type="pytest.xfail"> and so counts as skipped);
//   - otherwise it is passed. Other children, such as surefire's
//     <flakyFailure> and <rerunFailure>, are ignored: a flaky test that
//     finally passed is passed, one whose final run failed still carries a
//     <failure> and is failed.
//
// If a test case has several result children the last one wins. Passed is
// always Total - Failed - Skipped. Elements match by local name, whatever
// their namespace.
//
// # Document shapes
//
//   - <testsuites> wrapping <testsuite>s, a bare <testsuite> root, and several
//     root elements in one file are all accepted: the document is searched
//     depth-first for <testsuite> elements.
//   - Nested <testsuite>s (PHPUnit writes suite > suite > suite > testcase)
//     are counted once: a suite counts the <testcase> and <testsuite>
//     elements that are its direct children, and only the outermost suites
//     are summed. Test cases under any other child of a suite are not
//     counted.
//   - A <testcase> that is not inside any <testsuite> is not counted.
//   - A suite that declares tests="N" (N > 0) but has no <testcase> below it
//     ("counts-only") contributes 0 and produces an ErrCountsOnly warning
//     (the outermost such suite only; at most a few per file); the file is
//     still listed in Files. Its declared counts are not trusted instead.
//   - An empty (or whitespace-only) file is an ErrEmptyFile warning.
//   - Well-formed XML, or plain text, with no <testsuite> element at all (a
//     coverage report, a log redirected into a .xml file, jest-junit's
//     <testsuites> for a run that found no tests) is an ErrNoSuites warning.
//   - Malformed XML (for example a report truncated by a crashed JVM, or
//     markup after the last root element), elements nested more than 64 deep,
//     one text, comment or CDATA section over 16 MiB, one tag over 1 MiB, and
//     encodings other than UTF-8, US-ASCII, ISO-8859-1 and windows-1252 are
//     ErrParse warnings naming the file; nothing of such a file is counted.
//
// Nothing about a report file is ever an error for the caller and nothing
// panics: Collect returns whatever it could count plus warnings (capped at
// MaxWarnings and one summary). Its only error is its context's end.
package testresults

import (
	"bufio"
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/bmatcuk/doublestar/v4"
)

// Totals is the sum over every JUnit file that Collect counted.
type Totals struct {
	Total   int64
	Passed  int64 // always Total - Failed - Skipped
	Failed  int64 // failures and errors
	Skipped int64

	// Files lists, sorted and without duplicates, the files that were read
	// as JUnit reports (they held at least one <testsuite>). Paths from
	// relative patterns are joined to dir; absolute ones are as matched.
	Files []string
}

// Warnings are wrapped around one of these, so callers can use errors.Is.
var (
	// ErrNoMatch: the pattern matched no regular file.
	ErrNoMatch = errors.New("pattern matched no files")
	// ErrBadPattern: the pattern is not valid doublestar syntax.
	ErrBadPattern = errors.New("invalid glob pattern")
	// ErrRead: the file could not be read, or is not a regular file.
	ErrRead = errors.New("cannot read file")
	// ErrEmptyFile: the file is empty or holds only whitespace.
	ErrEmptyFile = errors.New("file is empty")
	// ErrParse: the file is not well-formed XML, nests too deep, or
	// declares an encoding that cannot be read.
	ErrParse = errors.New("malformed XML")
	// ErrNoSuites: the file holds no <testsuite> element.
	ErrNoSuites = errors.New("no <testsuite> element found (a report with no tests, or not JUnit XML)")
	// ErrCountsOnly: a suite declares tests but has no <testcase> elements.
	ErrCountsOnly = errors.New("suite declares tests but has no <testcase> elements; counted as 0")
)

// Warning is a problem with one pattern or one file. Exactly one of Pattern
// and File is set, except in the last warning past MaxWarnings, which has
// neither. Warning implements error (and Unwrap) only so it can be printed
// and matched with errors.Is; it is never fatal.
type Warning struct {
	Pattern string // set for pattern warnings (ErrNoMatch, ErrBadPattern)
	File    string // set for file warnings
	Err     error
}

func (w Warning) Error() string {
	switch {
	case w.File != "":
		return fmt.Sprintf("%s: %v", w.File, w.Err)
	case w.Pattern != "" || !errors.Is(w.Err, ErrMoreWarnings):
		return fmt.Sprintf("pattern %q: %v", w.Pattern, w.Err)
	}
	return w.Err.Error()
}

func (w Warning) Unwrap() error { return w.Err }

// MaxWarnings caps the warnings Collect returns: past it, one more warning
// (ErrMoreWarnings) says how many patterns and files were left out, so that
// thousands of bad files give a dozen lines, not thousands.
const MaxWarnings = 10

// ErrMoreWarnings is the last warning when there were more than MaxWarnings.
var ErrMoreWarnings = errors.New("more test_results warnings left out")

// moreWarnings summarises the warnings past MaxWarnings.
type moreWarnings struct{ patterns, files int }

func (m moreWarnings) Error() string {
	var parts []string
	if m.patterns > 0 {
		parts = append(parts, fmt.Sprintf("%d more patterns matched nothing", m.patterns))
	}
	if m.files > 0 {
		parts = append(parts, fmt.Sprintf("%d more files could not be read or counted", m.files))
	}
	return "and " + strings.Join(parts, ", and ")
}

func (m moreWarnings) Unwrap() error { return ErrMoreWarnings }

// Collect expands patterns (doublestar syntax, `**` allowed) and sums the
// JUnit XML files they match. Relative patterns are resolved against dir (the
// current directory if dir is ""); absolute patterns are used as they are.
// Only regular files (or symlinks to them) match. A file matched by several
// patterns is counted once. Files are streamed: memory stays bounded
// whatever their size.
//
// Collect does not fail on what it finds: a pattern that matches nothing and
// every file that cannot be counted produce a Warning, and the rest is still
// summed. Pattern warnings come first, in pattern order, then file warnings
// in file order; past MaxWarnings, one last warning says how many more there
// were. The error is ctx's, when ctx ends before Collect does (then the
// totals are zero).
func Collect(ctx context.Context, dir string, patterns []string) (Totals, []Warning, error) {
	var (
		totals   Totals
		warnings []Warning
		more     moreWarnings
		files    []string
		seen     = make(map[string]bool)
	)
	warn := func(w Warning) {
		switch {
		case len(warnings) < MaxWarnings:
			warnings = append(warnings, w)
		case w.Pattern != "" || w.File == "":
			more.patterns++
		default:
			more.files++
		}
	}

	for _, pattern := range patterns {
		matches, err := globContext(ctx, dir, pattern)
		if ctx.Err() != nil {
			return Totals{}, nil, ctx.Err()
		}
		if err != nil {
			warn(Warning{Pattern: pattern, Err: err})
			continue
		}
		if len(matches) == 0 {
			warn(Warning{Pattern: pattern, Err: ErrNoMatch})
			continue
		}
		for _, m := range matches {
			key := m
			if abs, err := filepath.Abs(m); err == nil {
				key = abs
			}
			if seen[key] {
				continue
			}
			seen[key] = true
			files = append(files, m)
		}
	}

	sort.Strings(files)
	for _, file := range files {
		c, fileWarnings, err := countFile(ctx, file)
		if err != nil {
			return Totals{}, nil, err
		}
		switch {
		case len(fileWarnings) == 0:
		case len(warnings) < MaxWarnings:
			for _, err := range fileWarnings {
				warnings = append(warnings, Warning{File: file, Err: err})
			}
		default:
			more.files++
		}
		if !c.ok {
			continue
		}
		totals.Total += c.total
		totals.Failed += c.failed
		totals.Skipped += c.skipped
		totals.Files = append(totals.Files, file)
	}
	if more.patterns+more.files > 0 {
		warnings = append(warnings, Warning{Err: more})
	}
	totals.Passed = totals.Total - totals.Failed - totals.Skipped
	return totals, warnings, nil
}

// globContext is glob, given up when ctx ends. The walk itself cannot be
// stopped (doublestar takes no context); it goes on in the background
// until it ends, while the caller moves on.
func globContext(ctx context.Context, dir, pattern string) ([]string, error) {
	type result struct {
		matches []string
		err     error
	}
	done := make(chan result, 1)
	go func() {
		m, err := glob(dir, pattern)
		done <- result{m, err}
	}()
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case r := <-done:
		return r.matches, r.err
	}
}

// glob expands one pattern into regular-file paths.
func glob(dir, pattern string) ([]string, error) {
	full := pattern
	if !filepath.IsAbs(pattern) {
		full = filepath.Join(escapeMeta(dir), pattern)
	}
	matches, err := doublestar.FilepathGlob(full, doublestar.WithFilesOnly())
	if err != nil {
		if errors.Is(err, doublestar.ErrBadPattern) {
			return nil, ErrBadPattern
		}
		return nil, err
	}
	return matches, nil
}

// escapeMeta escapes doublestar meta characters in dir so that a directory
// named e.g. "build[1]" is taken literally. Backslash escaping only exists
// where the path separator is "/".
func escapeMeta(dir string) string {
	if filepath.Separator != '/' {
		return dir
	}
	return metaEscaper.Replace(dir)
}

var metaEscaper = strings.NewReplacer(
	`\`, `\\`, "*", `\*`, "?", `\?`, "[", `\[`, "]", `\]`, "{", `\{`, "}", `\}`)

// counts is the result of one file. ok reports whether the file was a JUnit
// report (held at least one <testsuite>); only then is it listed in Files.
type counts struct {
	total, failed, skipped int64
	ok                     bool
}

func countFile(ctx context.Context, path string) (counts, []error, error) {
	info, err := os.Stat(path)
	if err != nil {
		return counts{}, []error{fmt.Errorf("%w: %v", ErrRead, err)}, nil
	}
	if !info.Mode().IsRegular() {
		// A FIFO or device would block or never end; don't open it.
		return counts{}, []error{fmt.Errorf("%w: not a regular file (%v)", ErrRead, info.Mode().Type())}, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return counts{}, []error{fmt.Errorf("%w: %v", ErrRead, err)}, nil
	}
	defer f.Close()
	return count(ctx, f)
}

// Limits of one document. Memory is bounded by them, whatever the file's
// size: the counter keeps one small frame per open element, and
// encoding/xml holds one token at a time.
const (
	// maxDepth bounds element nesting. Real reports nest a few levels
	// (PHPUnit, the deepest common producer, reaches 7).
	maxDepth = 64
	// maxWarningsPerFile caps the counts-only warnings of one file.
	maxWarningsPerFile = 3
	// checkEvery is how many tokens pass between two looks at ctx.
	checkEvery = 1024
)

// Token limits (variables only so that tests can lower them).
var (
	// maxText bounds one run of character data, CDATA, a comment or a
	// directive, which encoding/xml holds whole (in a buffer that may grow
	// to twice the run). A test's <system-out> is the longest text real
	// reports carry; 16 MiB of it is far more than CI logs show, and keeps
	// a hostile file within about 60 MB of RSS (measured: 56 MB for 16 MiB
	// of text and a 1 MiB tag of 105,000 attributes).
	maxText int64 = 16 << 20
	// maxMarkup bounds one tag. encoding/xml turns each attribute into an
	// Attr of about 50 bytes, so a tag of 1 MiB of one-letter attributes
	// costs about 10 MB; real tags are a few hundred bytes.
	maxMarkup int64 = 1 << 20
)

// errTokenTooLong is the guard's error, wrapped into ErrParse.
var errTokenTooLong = errors.New("token too long")

// guard is the decoder's byte source. It counts the bytes it hands over and
// refuses to let one token grow past its limit, so that no text, comment or
// tag makes encoding/xml buffer more than maxText (maxMarkup for a tag).
// After each token, mark tells it where the next one starts; the first two
// bytes of a token tell markup (`<x`, `</`, `<?`) from text, CDATA,
// comments and directives (anything else, `<!`).
type guard struct {
	src   io.ByteReader
	n     int64 // bytes handed over so far
	last  byte  // the byte at n-1
	start int64 // where the current token starts
	first byte  // the byte at start, once read
	limit int64 // n may not reach it
}

func (g *guard) ReadByte() (byte, error) {
	if g.n >= g.limit {
		if g.limit-g.start == maxMarkup {
			return 0, fmt.Errorf("%w: a tag longer than %d bytes", errTokenTooLong, maxMarkup)
		}
		return 0, fmt.Errorf("%w: a text, comment or CDATA section longer than %d bytes", errTokenTooLong, maxText)
	}
	b, err := g.src.ReadByte()
	if err != nil {
		return 0, err
	}
	g.see(g.n, b)
	g.n++
	g.last = b
	return b, nil
}

// Read lets guard be an io.Reader; encoding/xml reads byte by byte.
func (g *guard) Read(p []byte) (int, error) {
	for i := range p {
		b, err := g.ReadByte()
		if err != nil {
			return i, err
		}
		p[i] = b
	}
	return len(p), nil
}

// mark starts a new token at offset off (the decoder's InputOffset). The
// decoder may have read, and put back, the token's first byte already.
func (g *guard) mark(off int64) {
	g.start, g.limit = off, off+maxText
	if off < g.n {
		g.see(off, g.last)
	}
}

func (g *guard) see(pos int64, b byte) {
	switch pos - g.start {
	case 0:
		g.first = b
	case 1:
		if g.first == '<' && b != '!' {
			g.limit = g.start + maxMarkup
		}
	}
}

// frame is one open element.
type frame struct {
	kind     kind
	total    int64 // suites: test cases below, nested suites included
	failed   int64
	skipped  int64
	declared int64  // suites: the tests="N" attribute
	name     string // suites: the name attribute, for warnings
	status   kind   // test cases: the last result child (kFailed, kSkipped or kCase)
	warnings warnings
}

type kind uint8

const (
	kSearch  kind = iota // outside every suite: look deeper for one
	kSuite               // a counted <testsuite>
	kCase                // a counted <testcase>, or a passed one's status
	kFailed              // a test case's status: <failure> or <error>
	kSkipped             // a test case's status: <skipped>
	kIgnore              // inside a suite, but not counted
)

// warnings is a capped list: the first few, and how many more.
type warnings struct {
	list []error
	more int
}

func (w *warnings) add(err error) {
	if len(w.list) < maxWarningsPerFile {
		w.list = append(w.list, err)
	} else {
		w.more++
	}
}

func (w *warnings) addAll(o warnings) {
	for _, err := range o.list {
		w.add(err)
	}
	w.more += o.more
}

func (w warnings) errors() []error {
	if w.more == 0 {
		return w.list
	}
	return append(w.list, fmt.Errorf("%w (and %d more suites)", ErrCountsOnly, w.more))
}

// count streams one JUnit document: only the element structure and two
// attributes of <testsuite> are looked at, one token at a time. It returns
// ctx's error, and nothing else, when ctx ends first.
func count(ctx context.Context, r io.Reader) (counts, []error, error) {
	g := &guard{src: bufio.NewReaderSize(r, 64<<10), limit: maxText}
	d := xml.NewDecoder(g)
	d.CharsetReader = g.charset

	var (
		c       counts
		warns   warnings
		stack   = make([]frame, 0, maxDepth)
		content bool // anything but white space
	)
	parseErr := func(err error) (counts, []error, error) {
		return counts{}, []error{fmt.Errorf("%w: %v", ErrParse, err)}, nil
	}
	for n := 0; ; n++ {
		if n%checkEvery == 0 {
			if err := ctx.Err(); err != nil {
				return counts{}, nil, err
			}
		}
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return parseErr(err)
		}
		g.mark(d.InputOffset())
		switch t := tok.(type) {
		case xml.StartElement:
			content = true
			if len(stack) == maxDepth {
				return parseErr(fmt.Errorf("elements nested more than %d deep", maxDepth))
			}
			f := frame{kind: kSearch}
			if len(stack) > 0 {
				f.kind = kIgnore
				parent := &stack[len(stack)-1]
				switch parent.kind {
				case kSearch:
					f.kind = kSearch
				case kSuite:
					switch t.Name.Local {
					case "testsuite":
						f.kind = kSuite
					case "testcase":
						f.kind, f.status = kCase, kCase
					}
				case kCase:
					// The last result child wins.
					switch t.Name.Local {
					case "failure", "error":
						parent.status = kFailed
					case "skipped":
						parent.status = kSkipped
					}
				}
			}
			if f.kind == kSearch && t.Name.Local == "testsuite" {
				f.kind = kSuite
				c.ok = true
			}
			if f.kind == kSuite {
				for _, a := range t.Attr {
					switch a.Name.Local {
					case "name":
						f.name = a.Value
					case "tests":
						f.declared, _ = strconv.ParseInt(strings.TrimSpace(a.Value), 10, 64)
					}
				}
			}
			stack = append(stack, f)
		case xml.EndElement:
			f := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			var parent *frame
			if len(stack) > 0 {
				parent = &stack[len(stack)-1]
			}
			switch f.kind {
			case kCase:
				parent.total++
				switch f.status {
				case kFailed:
					parent.failed++
				case kSkipped:
					parent.skipped++
				}
			case kSuite:
				if f.total == 0 {
					// Its nested suites are empty too: only the
					// outermost empty suite is worth a warning.
					f.warnings = warnings{}
					if f.declared > 0 {
						f.warnings.add(fmt.Errorf("%w (suite %q, tests=%d)", ErrCountsOnly, clip(f.name, 100), f.declared))
					}
				}
				if parent != nil && parent.kind == kSuite {
					parent.total += f.total
					parent.failed += f.failed
					parent.skipped += f.skipped
					parent.warnings.addAll(f.warnings)
					break
				}
				c.total += f.total
				c.failed += f.failed
				c.skipped += f.skipped
				warns.addAll(f.warnings)
			}
		case xml.CharData:
			if !content && len(bytes.TrimSpace(t)) > 0 {
				content = true
			}
		default:
			content = true
		}
	}
	switch {
	case !content:
		return counts{}, []error{ErrEmptyFile}, nil
	case !c.ok:
		return counts{}, []error{ErrNoSuites}, nil
	}
	return c, warns.errors(), nil
}

// charset lets single-byte encodings through encoding/xml, which reads
// UTF-8 only: US-ASCII is UTF-8 already; ISO-8859-1 and windows-1252 are
// decoded to UTF-8 as Latin-1 (the two differ in 0x80-0x9F only, which can
// only be in names and messages, never in what is counted). Any other
// encoding is an error, and so an ErrParse warning. The guard stays the
// decoder's reader, so that it keeps counting what the decoder reads.
//
// Not golang.org/x/text/encoding/charmap: it links every one of its tables
// (190 KB of the binary, measured with go tool nm) for a conversion of four
// lines.
func (g *guard) charset(label string, _ io.Reader) (io.Reader, error) {
	switch strings.ToLower(label) {
	case "us-ascii", "ascii", "utf8":
	case "iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "latin-1", "l1", "windows-1252", "cp1252":
		g.src = &latin1{src: g.src}
	default:
		return nil, fmt.Errorf("encoding %q is not supported (UTF-8, US-ASCII, ISO-8859-1 and windows-1252 are)", clip(label, 40))
	}
	return g, nil
}

// latin1 decodes Latin-1 to UTF-8: bytes from 0x80 become two bytes.
type latin1 struct {
	src  io.ByteReader
	next int // the second byte of a pair, or 0
}

func (l *latin1) ReadByte() (byte, error) {
	if l.next > 0 {
		b := byte(l.next)
		l.next = 0
		return b, nil
	}
	b, err := l.src.ReadByte()
	if err != nil || b < utf8.RuneSelf {
		return b, err
	}
	l.next = int(0x80 | b&0x3f)
	return 0xc0 | b>>6, nil
}

// clip shortens text from a report that goes into a warning.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}
