package testresults

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// fixtureDir holds the JUnit fixtures, relative to this package.
var fixtureDir = filepath.Join("..", "..", "testdata", "junit")

// Fixture paths relative to fixtureDir.
const (
	goReport       = "go/junit-report.xml"
	pytestReport   = "python/orders/reports/pytest-junit.xml"
	invoiceTest    = "java/billing/target/surefire-reports/TEST-com.example.billing.InvoiceServiceTest.xml"
	taxTest        = "java/billing/target/surefire-reports/TEST-com.example.billing.TaxCalculatorTest.xml"
	surefireTxt    = "java/billing/target/surefire-reports/com.example.billing.InvoiceServiceTest.txt"
	tokenTest      = "java/auth/target/surefire-reports/TEST-com.example.auth.TokenValidatorTest.xml"
	jestReport     = "js/web/reports/junit.xml"
	phpunit        = "php/build/logs/junit.xml"
	truncated      = "broken/target/surefire-reports/TEST-com.example.export.CsvExporterTest.xml"
	countsOnlyFile = "edge/counts-only.xml"
	coverage       = "edge/coverage.xml"
	emptyFile      = "edge/empty.xml"
	goTestOutput   = "edge/go-test-output.xml"
	jestNoTests    = "edge/jest-no-tests.xml"
)

// want describes an expected warning: exactly one of pattern and file is
// set (file relative to fixtureDir), and err is the sentinel it wraps.
type want struct {
	pattern, file string
	err           error
}

// Warnings every "**/*.xml" run over the fixtures reports, in file order.
var allXMLWarnings = []want{
	{file: truncated, err: ErrParse},
	{file: countsOnlyFile, err: ErrCountsOnly},
	{file: coverage, err: ErrNoSuites},
	{file: emptyFile, err: ErrEmptyFile},
	{file: goTestOutput, err: ErrNoSuites},
	{file: jestNoTests, err: ErrNoSuites},
}

// Every file that "**/*.xml" counts, sorted by full path.
var allXMLFiles = []string{
	countsOnlyFile, goReport, tokenTest, invoiceTest, taxTest, jestReport, phpunit, pytestReport,
}

func TestCollectFixtures(t *testing.T) {
	tests := []struct {
		name                           string
		patterns                       []string
		total, passed, failed, skipped int64
		files                          []string // relative to fixtureDir
		warnings                       []want
	}{
		{
			name:     "go-junit-report: failure, skip, build error, package without tests",
			patterns: []string{goReport},
			total:    9, passed: 6, failed: 2, skipped: 1,
			files: []string{goReport},
		},
		{
			name:     "pytest: failure, setup error, skip and xfail",
			patterns: []string{"python/**/pytest-junit.xml"},
			total:    9, passed: 5, failed: 2, skipped: 2,
			files: []string{pytestReport},
		},
		{
			name:     "surefire: failure, error, skip",
			patterns: []string{invoiceTest},
			total:    5, passed: 2, failed: 2, skipped: 1,
			files: []string{invoiceTest},
		},
		{
			name:     "surefire: all passed, parameterized",
			patterns: []string{taxTest},
			total:    4, passed: 4,
			files: []string{taxTest},
		},
		{
			name:     "surefire: flakyFailure passes, failure with rerunFailure fails",
			patterns: []string{tokenTest},
			total:    3, passed: 2, failed: 1,
			files: []string{tokenTest},
		},
		{
			name:     "surefire: all modules",
			patterns: []string{"java/**/target/surefire-reports/TEST-*.xml"},
			total:    12, passed: 8, failed: 3, skipped: 1,
			files: []string{tokenTest, invoiceTest, taxTest},
		},
		{
			name:     "surefire: everywhere, truncated report is a warning",
			patterns: []string{"**/TEST-*.xml"},
			total:    12, passed: 8, failed: 3, skipped: 1,
			files:    []string{tokenTest, invoiceTest, taxTest},
			warnings: []want{{file: truncated, err: ErrParse}},
		},
		{
			name:     "surefire: ** also picks up the .txt summary, which is not XML",
			patterns: []string{"java/billing/**"},
			total:    9, passed: 6, failed: 2, skipped: 1,
			files:    []string{invoiceTest, taxTest},
			warnings: []want{{file: surefireTxt, err: ErrParse}},
		},
		{
			name:     "jest-junit: failure, skip, todo",
			patterns: []string{"js/**/junit.xml"},
			total:    9, passed: 6, failed: 1, skipped: 2,
			files: []string{jestReport},
		},
		{
			name:     "phpunit: nested testsuites count each testcase once",
			patterns: []string{phpunit},
			total:    8, passed: 5, failed: 2, skipped: 1,
			files: []string{phpunit},
		},
		{
			name:     "every producer",
			patterns: []string{"go/*.xml", "python/**/*.xml", "java/**/TEST-*.xml", "js/**/*.xml", "php/**/*.xml"},
			total:    47, passed: 30, failed: 10, skipped: 7,
			files: []string{goReport, tokenTest, invoiceTest, taxTest, jestReport, phpunit, pytestReport},
		},
		{
			name:     "all xml files, with every kind of bad file",
			patterns: []string{"**/*.xml"},
			total:    47, passed: 30, failed: 10, skipped: 7,
			files:    allXMLFiles,
			warnings: allXMLWarnings,
		},
		{
			name:     "overlapping patterns count each file once",
			patterns: []string{"**/*.xml", "java/**/*.xml", goReport, "**/junit.xml", "**/*.xml"},
			total:    47, passed: 30, failed: 10, skipped: 7,
			files:    allXMLFiles,
			warnings: allXMLWarnings,
		},
		{
			name:     "brace alternatives overlapping a plain pattern",
			patterns: []string{"{go,php}/**/*.xml", "php/build/logs/junit.xml"},
			total:    17, passed: 11, failed: 4, skipped: 2,
			files: []string{goReport, phpunit},
		},
		{
			name:     "pattern with no match is a warning, others still count",
			patterns: []string{"rust/**/*.xml", goReport, "go/*.json"},
			total:    9, passed: 6, failed: 2, skipped: 1,
			files: []string{goReport},
			warnings: []want{
				{pattern: "rust/**/*.xml", err: ErrNoMatch},
				{pattern: "go/*.json", err: ErrNoMatch},
			},
		},
		{
			name:     "pattern matching only directories matches nothing",
			patterns: []string{"java/*"},
			warnings: []want{{pattern: "java/*", err: ErrNoMatch}},
		},
		{
			name:     "invalid pattern is a warning",
			patterns: []string{"reports/[.xml", goReport},
			total:    9, passed: 6, failed: 2, skipped: 1,
			files:    []string{goReport},
			warnings: []want{{pattern: "reports/[.xml", err: ErrBadPattern}},
		},
		{
			name:     "empty pattern matches nothing",
			patterns: []string{""},
			warnings: []want{{pattern: "", err: ErrNoMatch}},
		},
		{
			name:     "malformed file alone",
			patterns: []string{"broken/**/*.xml"},
			warnings: []want{{file: truncated, err: ErrParse}},
		},
		{
			name:     "empty file",
			patterns: []string{emptyFile},
			warnings: []want{{file: emptyFile, err: ErrEmptyFile}},
		},
		{
			name:     "counts-only suite counts as 0 but the file is listed",
			patterns: []string{countsOnlyFile},
			files:    []string{countsOnlyFile},
			warnings: []want{{file: countsOnlyFile, err: ErrCountsOnly}},
		},
		{
			name:     "jest-junit with no tests has no testsuite",
			patterns: []string{jestNoTests},
			warnings: []want{{file: jestNoTests, err: ErrNoSuites}},
		},
		{
			name:     "non-JUnit XML and plain text",
			patterns: []string{coverage, goTestOutput},
			warnings: []want{
				{file: coverage, err: ErrNoSuites},
				{file: goTestOutput, err: ErrNoSuites},
			},
		},
		{
			name: "no patterns",
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, warnings := collect(t, fixtureDir, tt.patterns)
			if got.Total != tt.total || got.Passed != tt.passed || got.Failed != tt.failed || got.Skipped != tt.skipped {
				t.Errorf("totals = {Total:%d Passed:%d Failed:%d Skipped:%d}, want {Total:%d Passed:%d Failed:%d Skipped:%d}",
					got.Total, got.Passed, got.Failed, got.Skipped, tt.total, tt.passed, tt.failed, tt.skipped)
			}
			var wantFiles []string
			for _, f := range tt.files {
				wantFiles = append(wantFiles, fixture(f))
			}
			if !slices.Equal(got.Files, wantFiles) {
				t.Errorf("Files =\n  %q\nwant\n  %q", got.Files, wantFiles)
			}
			checkWarnings(t, warnings, tt.warnings)
		})
	}
}

// collect is Collect with a context that never ends.
func collect(t testing.TB, dir string, patterns []string) (Totals, []Warning) {
	t.Helper()
	got, warnings, err := Collect(context.Background(), dir, patterns)
	if err != nil {
		t.Fatalf("Collect: %v", err)
	}
	return got, warnings
}

// countBytes counts one document held in memory.
func countBytes(data []byte) (counts, []error) {
	c, warns, err := count(context.Background(), bytes.NewReader(data))
	if err != nil {
		panic(err)
	}
	return c, warns
}

func fixture(rel string) string { return filepath.Join(fixtureDir, filepath.FromSlash(rel)) }

func checkWarnings(t *testing.T, got []Warning, want []want) {
	t.Helper()
	ok := len(got) == len(want)
	for i := 0; ok && i < len(got); i++ {
		w := want[i]
		wantFile := ""
		if w.file != "" {
			wantFile = fixture(w.file)
		}
		ok = got[i].Pattern == w.pattern && got[i].File == wantFile && errors.Is(got[i], w.err)
	}
	if !ok {
		var b strings.Builder
		for _, w := range got {
			b.WriteString("\n  " + w.Error())
		}
		t.Errorf("warnings:%s\nwant %d: %+v", b.String(), len(want), want)
	}
}

func TestCollectAbsoluteAndRelativePatternsDedup(t *testing.T) {
	abs, err := filepath.Abs(fixtureDir)
	if err != nil {
		t.Fatal(err)
	}
	// The same file through an absolute pattern, a relative one, and a
	// relative one that climbs out of dir and back in.
	patterns := []string{
		filepath.Join(abs, "go", "*.xml"),
		goReport,
		"../junit/go/junit-report.xml",
	}
	got, warnings := collect(t, fixtureDir, patterns)
	if got.Total != 9 || len(got.Files) != 1 || len(warnings) != 0 {
		t.Fatalf("got %+v, warnings %v; want 9 tests from one file", got, warnings)
	}
	if got.Files[0] != filepath.Join(abs, "go", "junit-report.xml") {
		t.Errorf("Files[0] = %q, want the path of the first pattern that matched", got.Files[0])
	}

	// An absolute pattern ignores dir.
	got, warnings = collect(t, t.TempDir(), []string{filepath.Join(abs, "**", "TEST-*.xml")})
	if got.Total != 12 || len(warnings) != 1 || !errors.Is(warnings[0], ErrParse) {
		t.Errorf("absolute pattern: got %+v, warnings %v", got, warnings)
	}
}

func TestCollectEmptyDirMeansWorkingDirectory(t *testing.T) {
	got, warnings := collect(t, "", []string{filepath.ToSlash(fixture(phpunit))})
	if got.Total != 8 || len(warnings) != 0 {
		t.Errorf("got %+v, warnings %v", got, warnings)
	}
}

func TestCollectDirWithGlobMetaCharacters(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "build[1]{a,b}*")
	if err := os.MkdirAll(filepath.Join(dir, "reports"), 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(fixture(goReport))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "reports", "go.xml"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	got, warnings := collect(t, dir, []string{"**/*.xml"})
	if got.Total != 9 || len(warnings) != 0 {
		t.Errorf("got %+v, warnings %v", got, warnings)
	}
}

// TestCountBytes pins the counting rules on small documents.
func TestCountBytes(t *testing.T) {
	tests := []struct {
		name                   string
		doc                    string
		total, failed, skipped int64
		ok                     bool  // listed in Files
		warn                   error // nil: no warning
	}{
		{
			name:  "bare testsuite root",
			doc:   `<testsuite><testcase/><testcase><failure/></testcase></testsuite>`,
			total: 2, failed: 1, ok: true,
		},
		{
			name:  "error counts as failed",
			doc:   `<testsuite><testcase><error message="boom"/></testcase></testsuite>`,
			total: 1, failed: 1, ok: true,
		},
		{
			name:  "last result child wins",
			doc:   `<testsuite><testcase><failure/><skipped/></testcase><testcase><skipped/><error/></testcase></testsuite>`,
			total: 2, failed: 1, skipped: 1, ok: true,
		},
		{
			name:  "several root elements",
			doc:   `<testsuite><testcase/></testsuite><testsuite><testcase><skipped/></testcase></testsuite>`,
			total: 2, skipped: 1, ok: true,
		},
		{
			name:  "nested suites count once",
			doc:   `<testsuites><testsuite><testsuite><testsuite><testcase/></testsuite><testcase/></testsuite></testsuite></testsuites>`,
			total: 2, ok: true,
		},
		{
			name:  "testsuite found below an unknown wrapper",
			doc:   `<report><run><testsuite><testcase/></testsuite></run></report>`,
			total: 1, ok: true,
		},
		{
			name: "testcase outside any testsuite is not counted",
			doc:  `<testsuites><testcase/><testcase><failure/></testcase></testsuites>`,
			warn: ErrNoSuites,
		},
		{
			name:  "namespaced elements match by local name",
			doc:   `<j:testsuite xmlns:j="urn:x"><j:testcase><j:skipped/></j:testcase></j:testsuite>`,
			total: 1, skipped: 1, ok: true,
		},
		{
			name:  "UTF-8 byte order mark",
			doc:   "\ufeff<?xml version=\"1.0\" encoding=\"UTF-8\"?><testsuite><testcase/></testsuite>",
			total: 1, ok: true,
		},
		{
			name:  "ISO-8859-1 is converted",
			doc:   "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<testsuite><testcase name=\"caf\xe9\"><failure message=\"\xe9\"/></testcase></testsuite>",
			total: 1, failed: 1, ok: true,
		},
		{
			name:  "US-ASCII declaration",
			doc:   `<?xml version='1.0' encoding='us-ascii'?><testsuite><testcase/></testsuite>`,
			total: 1, ok: true,
		},
		{
			name: "other encodings are a parse warning",
			doc:  `<?xml version="1.0" encoding="Shift_JIS"?><testsuite><testcase/></testsuite>`,
			warn: ErrParse,
		},
		{
			name: "suite with tests=0 and no testcase is silent",
			doc:  `<testsuite name="cmd/tool" tests="0"/>`,
			ok:   true,
		},
		{
			name: "counts-only suite warns once for the outermost suite",
			doc:  `<testsuites><testsuite tests="5" failures="1"><testsuite tests="5" failures="1"/></testsuite></testsuites>`,
			ok:   true, warn: ErrCountsOnly,
		},
		{
			name:  "counts-only child next to a counted sibling",
			doc:   `<testsuite tests="3"><testsuite tests="2"/><testcase/></testsuite>`,
			total: 1, ok: true, warn: ErrCountsOnly,
		},
		{
			name: "counts-only suite with properties warns too",
			doc:  `<testsuite tests="3"><properties><property name="os" value="linux"/></properties></testsuite>`,
			ok:   true, warn: ErrCountsOnly,
		},
		{
			name:  "declared counts never override testcases",
			doc:   `<testsuite tests="10" failures="7" skipped="2"><testcase/></testsuite>`,
			total: 1, ok: true,
		},
		{name: "empty", doc: "", warn: ErrEmptyFile},
		{name: "whitespace only", doc: " \n\t\r\n", warn: ErrEmptyFile},
		{name: "declaration only", doc: `<?xml version="1.0" encoding="UTF-8"?>`, warn: ErrNoSuites},
		{name: "plain text", doc: "ok  \tgithub.com/example/pkg\t0.01s\n", warn: ErrNoSuites},
		{name: "truncated inside an element", doc: `<testsuite><testcase name="a"/><testca`, warn: ErrParse},
		{name: "truncated between elements", doc: `<testsuite><testcase name="a"/>` + "\n", warn: ErrParse},
		{name: "junk after the root", doc: `<testsuite><testcase/></testsuite> <<<`, warn: ErrParse},
		{name: "mismatched tags", doc: `<testsuite><testcase></testsuite></testcase>`, warn: ErrParse},
		{name: "undefined entity", doc: `<testsuite><testcase name="&nbsp;"/></testsuite>`, warn: ErrParse},
		{name: "unmatched CDATA end in text", doc: `<testsuite><testcase><failure>a ]]&gt; b</failure></testcase></testsuite>`, total: 1, failed: 1, ok: true},
		{name: "too deep", doc: strings.Repeat("<testsuite>", maxDepth+1) + strings.Repeat("</testsuite>", maxDepth+1), warn: ErrParse},
		{name: "deep but allowed", doc: strings.Repeat("<testsuite>", maxDepth-1) + "<testcase/>" + strings.Repeat("</testsuite>", maxDepth-1), total: 1, ok: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, warns := countBytes([]byte(tt.doc))
			if c.total != tt.total || c.failed != tt.failed || c.skipped != tt.skipped || c.ok != tt.ok {
				t.Errorf("counts = %+v, want total=%d failed=%d skipped=%d ok=%v", c, tt.total, tt.failed, tt.skipped, tt.ok)
			}
			switch {
			case tt.warn == nil && len(warns) != 0:
				t.Errorf("warnings = %v, want none", warns)
			case tt.warn != nil && (len(warns) != 1 || !errors.Is(warns[0], tt.warn)):
				t.Errorf("warnings = %v, want one %v", warns, tt.warn)
			}
		})
	}
}

func TestPathologicalNestingIsFast(t *testing.T) {
	// Refused at depth 65, before reading the rest.
	doc := strings.Repeat("<testsuite>", 9000) + "<testcase/>" + strings.Repeat("</testsuite>", 9000)
	start := time.Now()
	c, warns := countBytes([]byte(doc))
	if c.ok || len(warns) != 1 || !errors.Is(warns[0], ErrParse) {
		t.Errorf("got %+v %v, want an ErrParse warning", c, warns)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestWarningError(t *testing.T) {
	w := Warning{File: "reports/a.xml", Err: ErrEmptyFile}
	if got, want := w.Error(), "reports/a.xml: file is empty"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	w = Warning{Pattern: "**/*.xml", Err: ErrNoMatch}
	if got, want := w.Error(), `pattern "**/*.xml": pattern matched no files`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(w, ErrNoMatch) {
		t.Error("errors.Is(w, ErrNoMatch) = false")
	}
}
