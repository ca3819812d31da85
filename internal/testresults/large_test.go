package testresults

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// junitStream writes a JUnit report of about size bytes on the fly: suites
// of test cases with failures, skips and log output, as a large surefire or
// go-junit-report run writes them. It never holds more than one test case.
type junitStream struct {
	size, written int64
	buf           bytes.Buffer
	cases         int64 // test cases written
	failed        int64
	skipped       int64
	closed        bool
	onMiB         func() // called after each MiB handed out
	nextMiB       int64
}

var logLine = strings.Repeat("2026-11-29T10:00:00Z INFO handler: request served in 3ms &lt;ok&gt; &amp; done\n", 40)

func (s *junitStream) Read(p []byte) (int, error) {
	for s.buf.Len() < len(p) && !s.closed {
		switch {
		case s.written == 0 && s.buf.Len() == 0 && s.cases == 0:
			s.buf.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n<testsuites>\n")
		case s.written+int64(s.buf.Len()) >= s.size:
			s.buf.WriteString("</testsuite>\n</testsuites>\n")
			s.closed = true
			continue
		}
		if s.cases%1000 == 0 {
			if s.cases > 0 {
				s.buf.WriteString("</testsuite>\n")
			}
			fmt.Fprintf(&s.buf, "<testsuite name=\"com.example.Suite%d\" tests=\"1000\">\n", s.cases/1000)
		}
		fmt.Fprintf(&s.buf, `<testcase name="test%d" classname="com.example.Case" time="0.003">`, s.cases)
		switch s.cases % 10 {
		case 3:
			s.failed++
			s.buf.WriteString(`<failure message="expected 1, got 2" type="AssertionError"><![CDATA[at com.example.Case.test(Case.java:42)]]></failure>`)
		case 7:
			s.skipped++
			s.buf.WriteString(`<skipped/>`)
		}
		s.buf.WriteString("<system-out>" + logLine + "</system-out></testcase>\n")
		s.cases++
	}
	n, err := s.buf.Read(p)
	s.written += int64(n)
	if s.onMiB != nil && s.written >= s.nextMiB {
		s.nextMiB += 1 << 20
		s.onMiB()
	}
	if err == io.EOF && !s.closed {
		err = nil
	}
	return n, err
}

// A report many times larger than the heap it is counted in: the peak heap
// stays flat (go-junit held the whole file and its inner XML: a 500 MB
// report took 6 GB). The heap is sampled after every MiB read.
func TestLargeReportRunsInBoundedMemory(t *testing.T) {
	size := int64(32 << 20)
	if testing.Short() || raceEnabled {
		size = 8 << 20
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base, peak := ms.HeapInuse, uint64(0)
	s := &junitStream{size: size, onMiB: func() {
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapInuse)
	}}
	c, warns, err := count(context.Background(), s)
	if err != nil || len(warns) != 0 {
		t.Fatalf("count: %v %v", err, warns)
	}
	if c.total != s.cases || c.failed != s.failed || c.skipped != s.skipped || !c.ok {
		t.Errorf("counts %+v, want %d cases, %d failed, %d skipped", c, s.cases, s.failed, s.skipped)
	}
	grown := int64(peak) - int64(base)
	t.Logf("%d MiB, %d test cases: heap grew by at most %.1f MiB", size>>20, s.cases, float64(grown)/(1<<20))
	if grown > 16<<20 {
		t.Errorf("heap grew by %d MiB counting a %d MiB report; want it bounded (at most 16 MiB)", grown>>20, size>>20)
	}
}

// One text run past maxText is refused, not buffered: the file is an
// ErrParse warning, and reading stops there, even if the text never ends.
func TestHugeTextIsAWarning(t *testing.T) {
	huge := func(head, tail string, limit int64) (counts, []error, int64) {
		body := &countingReader{r: repeatByte('x')} // endless
		doc := io.MultiReader(strings.NewReader(head), body, strings.NewReader(tail))
		c, warns, err := count(context.Background(), doc)
		if err != nil {
			t.Fatal(err)
		}
		return c, warns, body.n
	}
	refused := func(name string, c counts, warns []error, read, limit int64) {
		t.Helper()
		if c.ok || len(warns) != 1 || !errors.Is(warns[0], ErrParse) || !strings.Contains(warns[0].Error(), "longer than") {
			t.Errorf("%s: %+v %v", name, c, warns)
		}
		// The slop is the decoder's read buffer.
		if read > limit+64<<10+1024 {
			t.Errorf("%s: read %d bytes for a limit of %d", name, read, limit)
		}
	}
	// At the real limit, once (16 MiB: too slow under the race detector).
	if !raceEnabled {
		c, warns, read := huge("<testsuite><testcase><system-out>", "", maxText)
		refused("system-out", c, warns, read, maxText)
	}

	defer func(text, markup int64) { maxText, maxMarkup = text, markup }(maxText, maxMarkup)
	maxText, maxMarkup = 256<<10, 16<<10
	for _, tt := range []struct {
		name, head string
		limit      int64
	}{
		{"comment", "<testsuite><testcase/><!--", maxText},
		{"CDATA", "<testsuite><testcase><failure><![CDATA[", maxText},
		{"text after a Latin-1 declaration", `<?xml version="1.0" encoding="ISO-8859-1"?><testsuite><testcase><system-out>`, maxText},
		{"attribute", `<testsuite><testcase name="`, maxMarkup},
		{"attribute after text", "<testsuite>\n  <testcase name=\"", maxMarkup},
		{"element name", `<testsuite><testcase/><t`, maxMarkup},
	} {
		c, warns, read := huge(tt.head, "", tt.limit)
		refused(tt.name, c, warns, read, tt.limit)
	}
	// Just under the limits is counted.
	doc := "<testsuite><testcase name=\"" + strings.Repeat("n", int(maxMarkup)-100) + "\"><system-out>" +
		strings.Repeat("x", int(maxText)-100) + "</system-out></testcase></testsuite>"
	if c, warns := countBytes([]byte(doc)); c.total != 1 || len(warns) != 0 {
		t.Errorf("under the limits: %+v %v", c, warns)
	}
}

type repeatByte byte

func (b repeatByte) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// A signal ends Collect within a few thousand tokens, even in the middle of
// a large file, and no totals come back.
func TestCollectStopsWhenTheContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	s := &junitStream{size: 1 << 40} // a TiB: only a stop ends it
	s.onMiB = func() {
		if s.written >= 4<<20 {
			cancel()
		}
	}
	_, _, err := count(ctx, s)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("count: %v, want context.Canceled", err)
	}
	if s.written > 6<<20 {
		t.Errorf("read %d MiB after the stop at 4 MiB", s.written>>20)
	}

	// Collect: a context already ended stops before the first file.
	got, warnings, err := Collect(ctx, fixtureDir, []string{"**/*.xml"})
	if !errors.Is(err, context.Canceled) || got.Total != 0 || len(got.Files) != 0 || warnings != nil {
		t.Errorf("Collect after the stop: %+v %v %v", got, warnings, err)
	}
}

// 5,000 bad files give MaxWarnings warnings and one line for the rest, and
// the good file is still counted.
func TestWarningsAreCapped(t *testing.T) {
	dir := t.TempDir()
	for i := range 5000 {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("bad-%04d.xml", i)), []byte("<testsuite"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(dir, "good.xml"), []byte(`<testsuite><testcase/></testsuite>`), 0o644)
	patterns := []string{"*.xml"}
	for i := range 20 {
		patterns = append(patterns, fmt.Sprintf("none-%d/*.xml", i))
	}
	got, warnings := collect(t, dir, patterns)
	if got.Total != 1 || len(got.Files) != 1 {
		t.Errorf("totals %+v", got)
	}
	if len(warnings) != MaxWarnings+1 {
		t.Fatalf("%d warnings, want %d", len(warnings), MaxWarnings+1)
	}
	for _, w := range warnings[:MaxWarnings] {
		if !errors.Is(w, ErrNoMatch) {
			t.Errorf("warning %v, want the patterns first", w)
		}
	}
	last := warnings[MaxWarnings]
	if !errors.Is(last, ErrMoreWarnings) || last.Error() != "and 10 more patterns matched nothing, and 5000 more files could not be read or counted" {
		t.Errorf("last warning %q", last.Error())
	}

	// Counts-only suites: a few per file, then one line.
	doc := "<testsuites>" + strings.Repeat(`<testsuite name="s" tests="2"/>`, 50) + "</testsuites>"
	_, warns := countBytes([]byte(doc))
	if len(warns) != maxWarningsPerFile+1 || !strings.Contains(warns[maxWarningsPerFile].Error(), "and 47 more suites") {
		t.Errorf("counts-only warnings: %v", warns)
	}
}
