// Package testresults finds JUnit XML reports on disk and sums them into the
// totals that Jira's build record carries as testInfo
// {totalNumber, numberPassed, numberFailed, numberSkipped}.
//
// # Counting rules
//
// Files are parsed with github.com/joshdk/go-junit, and only <testcase>
// elements are counted; the summary attributes a producer writes on
// <testsuites>/<testsuite> (tests=, failures=, errors=, skipped=) are never
// used as numbers. Per test case:
//
//   - a <failure> or <error> child makes it Failed (errors count as failed);
//   - a <skipped> child makes it Skipped (pytest xfail is written as
//     <skipped type="pytest.xfail"> and so counts as skipped);
//   - otherwise it is passed. Elements go-junit does not know, such as
//     surefire's <flakyFailure> and <rerunFailure>, are ignored: a flaky test
//     that finally passed is passed, one whose final run failed still carries a
//     <failure> and is failed.
//
// If a test case has several result children the last one wins (go-junit's
// rule). Passed is always Total - Failed - Skipped.
//
// # Document shapes
//
//   - <testsuites> wrapping <testsuite>s, a bare <testsuite> root, and several
//     root elements in one file are all accepted: go-junit searches the
//     document depth-first for <testsuite> elements.
//   - Nested <testsuite>s (PHPUnit writes suite > suite > suite > testcase)
//     are counted once: go-junit folds each nested suite into its parent, and
//     only the outermost suites are summed.
//   - A <testcase> that is not inside any <testsuite> is not counted.
//   - A suite that declares tests="N" (N > 0) but has no <testcase> below it
//     ("counts-only") contributes 0 and produces an ErrCountsOnly warning;
//     the file is still listed in Files. go-junit itself reports 0 for such
//     a suite, and its declared counts are not trusted instead: go-junit
//     replaces a suite's attributes with its <properties> when it has any,
//     so they are not reliably available. For the same reason the warning
//     is best-effort and is not given for a counts-only suite that has
//     <properties>.
//   - An empty (or whitespace-only) file is an ErrEmptyFile warning.
//   - Well-formed XML, or plain text, with no <testsuite> element at all (a
//     coverage report, a log redirected into a .xml file, jest-junit's
//     <testsuites> for a run that found no tests) is an ErrNoSuites warning.
//   - Malformed XML (for example a report truncated by a crashed JVM, or
//     markup after the last root element), elements nested more than 64 deep,
//     and encodings other than UTF-8, US-ASCII, ISO-8859-1 and windows-1252
//     are ErrParse warnings naming the file.
//
// Nothing about a report file is ever an error for the caller and nothing
// panics: Collect always returns whatever it could count plus warnings.
package testresults

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/bmatcuk/doublestar/v4"
	junit "github.com/joshdk/go-junit"
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
// and File is set. Warning implements error (and Unwrap) only so it can be
// printed and matched with errors.Is; it is never fatal.
type Warning struct {
	Pattern string // set for pattern warnings (ErrNoMatch, ErrBadPattern)
	File    string // set for file warnings
	Err     error
}

func (w Warning) Error() string {
	if w.File != "" {
		return fmt.Sprintf("%s: %v", w.File, w.Err)
	}
	return fmt.Sprintf("pattern %q: %v", w.Pattern, w.Err)
}

func (w Warning) Unwrap() error { return w.Err }

// Collect expands patterns (doublestar syntax, `**` allowed) and sums the
// JUnit XML files they match. Relative patterns are resolved against dir (the
// current directory if dir is ""); absolute patterns are used as they are.
// Only regular files (or symlinks to them) match. A file matched by several
// patterns is counted once.
//
// Collect never fails: a pattern that matches nothing and every file that
// cannot be counted produce a Warning, and the rest is still summed.
// Pattern warnings come first, in pattern order, then file warnings in file
// order.
func Collect(dir string, patterns []string) (Totals, []Warning) {
	var (
		totals   Totals
		warnings []Warning
		files    []string
		seen     = make(map[string]bool)
	)

	for _, pattern := range patterns {
		matches, err := glob(dir, pattern)
		if err != nil {
			warnings = append(warnings, Warning{Pattern: pattern, Err: err})
			continue
		}
		if len(matches) == 0 {
			warnings = append(warnings, Warning{Pattern: pattern, Err: ErrNoMatch})
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
		c, fileWarnings := countFile(file)
		for _, err := range fileWarnings {
			warnings = append(warnings, Warning{File: file, Err: err})
		}
		if !c.ok {
			continue
		}
		totals.Total += c.total
		totals.Failed += c.failed
		totals.Skipped += c.skipped
		totals.Files = append(totals.Files, file)
	}
	totals.Passed = totals.Total - totals.Failed - totals.Skipped
	return totals, warnings
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

func countFile(path string) (counts, []error) {
	info, err := os.Stat(path)
	if err != nil {
		return counts{}, []error{fmt.Errorf("%w: %v", ErrRead, err)}
	}
	if !info.Mode().IsRegular() {
		// A FIFO or device would block or never end; don't open it.
		return counts{}, []error{fmt.Errorf("%w: not a regular file (%v)", ErrRead, info.Mode().Type())}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return counts{}, []error{fmt.Errorf("%w: %v", ErrRead, err)}
	}
	return countBytes(data)
}

// countBytes counts one JUnit document. It recovers from a panic inside
// go-junit so that a hostile file can only ever produce a warning.
func countBytes(data []byte) (c counts, warns []error) {
	defer func() {
		if r := recover(); r != nil {
			c, warns = counts{}, []error{fmt.Errorf("%w: parser panic: %v", ErrParse, r)}
		}
	}()

	if len(bytes.TrimSpace(data)) == 0 {
		return counts{}, []error{ErrEmptyFile}
	}
	data = normalizeEncoding(data)
	if err := checkDepth(data); err != nil {
		return counts{}, []error{fmt.Errorf("%w: %v", ErrParse, err)}
	}
	suites, err := junit.Ingest(data)
	if err != nil {
		return counts{}, []error{fmt.Errorf("%w: %v", ErrParse, err)}
	}
	if len(suites) == 0 {
		return counts{}, []error{ErrNoSuites}
	}

	c.ok = true
	for _, s := range suites {
		// go-junit has already folded nested suites into s.Totals.
		c.total += int64(s.Totals.Tests)
		c.failed += int64(s.Totals.Failed) + int64(s.Totals.Error)
		c.skipped += int64(s.Totals.Skipped)
		warns = append(warns, countsOnly(s)...)
	}
	return c, warns
}

// countsOnly reports the outermost suites that declare tests="N" with N > 0
// but contain no <testcase> at any depth.
func countsOnly(s junit.Suite) []error {
	if s.Totals.Tests == 0 {
		n, err := strconv.ParseInt(strings.TrimSpace(s.Properties["tests"]), 10, 64)
		if err == nil && n > 0 {
			return []error{fmt.Errorf("%w (suite %q, tests=%d)", ErrCountsOnly, s.Name, n)}
		}
		return nil
	}
	var out []error
	for _, child := range s.Suites {
		out = append(out, countsOnly(child)...)
	}
	return out
}

// maxDepth bounds element nesting. Real reports nest a few levels (PHPUnit,
// the deepest common producer, reaches 7); go-junit keeps every element's
// inner XML, so its time and memory grow with size x depth, and a pathological
// file thousands of levels deep takes seconds and gigabytes.
const maxDepth = 64

// checkDepth tokenizes data and fails on the first syntax error or when
// elements nest deeper than maxDepth.
func checkDepth(data []byte) error {
	d := xml.NewDecoder(bytes.NewReader(data))
	depth := 0
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch tok.(type) {
		case xml.StartElement:
			depth++
			if depth > maxDepth {
				return fmt.Errorf("elements nested more than %d deep", maxDepth)
			}
		case xml.EndElement:
			depth--
		}
	}
}

var xmlDecl = regexp.MustCompile(`^\x{FEFF}?\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["'][^>]*\?>`)

// normalizeEncoding lets single-byte encodings through encoding/xml, which
// (as go-junit uses it, without a CharsetReader) accepts only UTF-8 and fails
// on any other encoding declaration. For US-ASCII the declaration is dropped;
// for ISO-8859-1 and windows-1252 (read as Latin-1; only messages could
// differ) the declaration is dropped and the bytes are converted to UTF-8.
// Other encodings are left alone and end up as ErrParse warnings.
func normalizeEncoding(data []byte) []byte {
	m := xmlDecl.FindSubmatchIndex(data)
	if m == nil {
		return data
	}
	rest := data[m[1]:]
	switch strings.ToLower(string(data[m[2]:m[3]])) {
	case "us-ascii", "ascii", "utf8":
		return rest
	case "iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "latin-1", "l1", "windows-1252", "cp1252":
		out := make([]byte, 0, len(rest)+len(rest)/8)
		for _, b := range rest {
			out = utf8.AppendRune(out, rune(b))
		}
		return out
	}
	return data
}
