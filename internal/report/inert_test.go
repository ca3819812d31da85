package report

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// hostile is what a fork's pull request title, a branch, a setting or a
// server's answer can hold: a new line that is a workflow command, the
// legacy "##[" command form, a terminal escape (colour, title, Drone card
// prefix), an escaped newline, and a bell.
const hostile = "prod\n::warning::injected\r\n::set-output name=sent::INJECTED\n##[add-mask]x %0A::error::y \x1b[31mred\x1b[0m \x1b]0;title\x07 \x1b]1338;Zm9v\x1b]0m \a\x00end"

// commandLine is a line the GitHub runner takes as a workflow command: "::"
// at its start (after spaces), or "##[" anywhere.
func commandLine(line string) bool {
	return strings.HasPrefix(strings.TrimLeft(line, " "), "::") || strings.Contains(line, "##[")
}

func TestEveryPrintedValueIsInertOnGitHub(t *testing.T) {
	var stdout bytes.Buffer
	r := New(Targets{CI: "github"}, &stdout, &bytes.Buffer{}, true)
	r.Infof("environment %s", hostile)
	r.Infof("%s", "::error::starts the line") // a format that begins with a value
	r.Infof("%s", "  ::error::after spaces")
	r.Infof("%s[x]", "##") // the format's "[" after a value's "##"
	r.Noticef("notice %q", hostile)
	r.Warningf("warning %v", errors.New(hostile))
	r.Errorf("error %s", hostile)
	r.Debugf("settings: %+v", struct{ Env string }{hostile})

	lines := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
	// One line per call; Debugf writes ::debug:: and a plain debug line.
	want := []string{"environment ", "%3A:error::starts the line", "  %3A:error::after spaces", "##%5Bx]", "::notice::notice ",
		"::warning::warning ", "::error::error ", "::debug::settings: ", "debug: settings: "}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), stdout.String())
	}
	for i, line := range lines {
		if !strings.HasPrefix(line, want[i]) {
			t.Errorf("line %d = %q, want it to start with %q", i, line, want[i])
		}
		// Our own command (if any) is the only one.
		body := line
		for _, cmd := range []string{"::notice::", "::warning::", "::error::", "::debug::"} {
			body = strings.TrimPrefix(body, cmd)
		}
		if commandLine(body) {
			t.Errorf("line %d can start a runner command: %q", i, line)
		}
		if strings.ContainsAny(line, "\x1b\a\x00\r") {
			t.Errorf("line %d holds control characters: %q", i, line)
		}
	}
	// The value is still readable: escaped the toolkit's way.
	if !strings.Contains(lines[0], "environment prod%0A::warning::injected%0D%0A::set-output name=sent::INJECTED%0A##%5Badd-mask]x %250A::error::y red") {
		t.Errorf("plain line: %q", lines[0])
	}
	// In a command, the data is escaped once more, as the runner undoes once.
	if !strings.HasPrefix(lines[6], "::error::error prod%250A::warning::injected%250D%250A") {
		t.Errorf("error annotation: %q", lines[6])
	}
}

func TestEveryPrintedValueIsInertElsewhere(t *testing.T) {
	for _, ci := range []string{"drone", "woodpecker", "gitlab", "bitbucket", "local"} {
		var stdout, stderr bytes.Buffer
		r := New(Targets{CI: ci}, &stdout, &stderr, true)
		r.Infof("environment %s", hostile)
		r.Warningf("warning %s", hostile)
		r.Debugf("debug %s", hostile)
		lines := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n")
		if len(lines) != 3 || stdout.Len() != 0 {
			t.Fatalf("%s: %d lines on stderr, stdout %q:\n%s", ci, len(lines), stdout.String(), stderr.String())
		}
		for _, line := range lines {
			if strings.ContainsAny(line, "\x1b\a\x00\r\n") || strings.Contains(line, "1338;") {
				t.Errorf("%s: control characters reach the log: %q", ci, line)
			}
		}
		if lines[1] != "warning: warning prod%0A::warning::injected%0D%0A::set-output name=sent::INJECTED%0A##%5Badd-mask]x %250A::error::y red  end" {
			t.Errorf("%s: %q", ci, lines[1])
		}
	}
}

// Verbs, flags and widths still work; numbers and keys print as they are.
func TestInertFormattingKeepsVerbs(t *testing.T) {
	r := New(Targets{CI: "drone"}, &bytes.Buffer{}, &bytes.Buffer{}, false)
	type pair struct{ A, B string }
	for _, c := range []struct{ got, want string }{
		{r.Sprintf("%d keys, %5.1f%%, %t", 3, 2.5, true), "3 keys,   2.5%, true"},
		{r.Sprintf("%q", "a\nb"), `"a\nb"`},
		{r.Sprintf("%s", "a\nb"), "a%0Ab"},
		{r.Sprintf("%-6s|%6s", "ab", "cd"), "ab    |    cd"},
		{r.Sprintf("%v", []string{"ABC-1", "DEF-2"}), "[ABC-1 DEF-2]"},
		{r.Sprintf("%+v", pair{"x", "y\nz"}), "{A:x B:y%0Az}"},
		{r.Sprintf("%*d", 4, 7), "   7"},
		{r.Sprintf("%v", errors.New("refused")), "refused"},
		{r.Sprintf("%x", "hi"), "6869"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

// issue 10: on GitHub a log line was followed by a blank line (the report
// added "\n" and go-githubactions another).
func TestNoBlankLinesOnGitHub(t *testing.T) {
	var stdout bytes.Buffer
	r := New(Targets{CI: "github"}, &stdout, &bytes.Buffer{}, true)
	r.Mask("hunter2-secret")
	r.Infof("one")
	r.Infof("two %d", 2)
	r.Noticef("three")
	r.Warningf("four")
	r.Errorf("five")
	r.Debugf("six")
	_ = r.Finish(Outcome{Status: "skipped", Kind: "build", Message: "none"})
	out := stdout.String()
	if strings.Contains(out, "\n\n") || strings.HasPrefix(out, "\n") || !strings.HasSuffix(out, "\n") {
		t.Errorf("blank lines in the log:\n%q", out)
	}
	if !strings.Contains(out, "\none\ntwo 2\n::notice::three\n::warning::four\n::error::five\n::debug::six\ndebug: six\njira-cicd: nothing sent: none\n") {
		t.Errorf("log:\n%s", out)
	}
}

// githubOutputs reads GITHUB_OUTPUT as the runner does (SetOutputFileCommand
// in actions/runner): "name=value" when the line's first "=" comes before any
// "<<", else "name<<DELIM" up to a line that is exactly DELIM.
func githubOutputs(t *testing.T, text string) map[string]string {
	t.Helper()
	out := map[string]string{}
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if line == "" {
			continue
		}
		eq, hd := strings.Index(line, "="), strings.Index(line, "<<")
		if eq >= 0 && (hd < 0 || eq < hd) {
			out[line[:eq]] = line[eq+1:]
			continue
		}
		if hd < 0 {
			t.Fatalf("invalid line %q", line)
		}
		name, delim := line[:hd], line[hd+2:]
		var val []string
		for i++; i < len(lines) && lines[i] != delim; i++ {
			val = append(val, lines[i])
		}
		out[name] = strings.Join(val, "\n")
	}
	return out
}

// Done when: an unknownIssueKeys value holding go-githubactions' delimiter, a
// newline and sent=INJECTED cannot change sent (it did, through the
// multi-line form and its fixed delimiter).
func TestOutputValueCannotEndTheBlockOrAddAnOutput(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	r := New(Targets{CI: "github", GitHubOutput: out}, &bytes.Buffer{}, &bytes.Buffer{}, false)
	o := sample()
	o.Status = "failed"
	o.UnknownKeys = []string{"ABC-1\nghadelimiter_00000000-0000-0000-0000-000000000000\nsent=INJECTED\r\nstate<<EOF\nx\nEOF"}
	o.State = "failed\nsent=INJECTED"
	if err := r.Finish(o); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(out)
	got := githubOutputs(t, string(raw))
	if got["sent"] != "false" || len(got) != len(o.Outputs()) {
		t.Fatalf("outputs %q\nfrom:\n%s", got, raw)
	}
	if n := strings.Count(string(raw), "\n"); n != len(o.Outputs()) {
		t.Errorf("%d lines for %d outputs:\n%s", n, len(o.Outputs()), raw)
	}
	if !strings.HasPrefix(got["unknown_issue_keys"], "ABC-1 ghadelimiter_") || got["state"] != "failed sent=INJECTED" {
		t.Errorf("values: %q", got)
	}
}

// Writing reports never changes the outcome: a missing directory gave a
// panic from go-githubactions (exit 2) after a successful send.
func TestUnwritableGitHubFilesAreAnErrorNotAPanic(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no", "such", "dir")
	var stdout bytes.Buffer
	r := New(Targets{CI: "github", GitHubOutput: filepath.Join(missing, "out"), GitHubStepSummary: filepath.Join(missing, "sum")},
		&stdout, &bytes.Buffer{}, false)
	err := r.Finish(sample())
	if err == nil || !strings.Contains(err.Error(), "GITHUB_OUTPUT="+filepath.Join(missing, "out")) ||
		!strings.Contains(err.Error(), "GITHUB_STEP_SUMMARY="+filepath.Join(missing, "sum")) {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(stdout.String(), "jira-cicd: sent deployment") {
		t.Errorf("log:\n%s", stdout.String())
	}
}

// markupOutcome's texts try to inject Markdown, HTML and links.
func markupOutcome() Outcome {
	o := sample()
	o.DisplayName = "t | x <script>alert(1)</script> `code` [click](javascript:alert(1)) **b** ![i](https://e.example/i.png)"
	o.EnvironmentName = "prod\n\n# heading\n<img src=x onerror=alert(1)>"
	o.EnvironmentID = "prod`|"
	o.Message = "- list\n1. item | $x$ ~~s~~ <!-- c --> &lt;b&gt;"
	o.URL = "javascript:alert(1)"
	o.UnknownKeys = []string{"X-1](javascript:alert(1))", "see https://evil.example/x or www.evil.example"}
	return o
}

// rawMarkup finds what would be markup if it reached Markdown unescaped.
var rawMarkup = regexp.MustCompile("(^|[^\\\\])(<[a-zA-Z!/]|\\]\\(|`|\\*\\*|~~|\\$|&[a-z]+;)")

func TestSummaryEscapesMarkdown(t *testing.T) {
	o := markupOutcome()
	sum := Markdown(o)
	lines := strings.Split(strings.TrimSuffix(sum, "\n"), "\n")
	// Title, blank, message, blank, table head (2), Record, State,
	// Pipeline, Environment, Issues, Unknown.
	if len(lines) != 12 {
		t.Fatalf("%d lines:\n%s", len(lines), sum)
	}
	for _, line := range lines[4:] {
		if cells := regexp.MustCompile(`(^|[^\\])\|`).FindAllString(line, -1); len(cells) != 3 {
			t.Errorf("a value added table cells: %q", line)
		}
	}
	for _, line := range lines {
		// Our own links are the issue links only.
		l := strings.ReplaceAll(line, "](https://acme.atlassian.net/browse/", "")
		if m := rawMarkup.FindString(l); m != "" {
			t.Errorf("markup %q in %q", m, line)
		}
	}
	if strings.Contains(sum, "javascript") && !strings.Contains(sum, `\[click\](javascript:alert(1))`) {
		t.Errorf("a javascript: link:\n%s", sum)
	}
	if !strings.Contains(sum, `| Record | t \| x \<script\>alert(1)\</script\> \`+"`code\\`"+` \[click\](javascript:alert(1)) \*\*b\*\* !\[i\](https\://e.example/i.png) |`) {
		t.Errorf("record row:\n%s", sum)
	}
	if !strings.Contains(sum, `| Unknown to Jira | X-1\](javascript:alert(1)), see https\://evil.example/x or www\.evil.example |`) {
		t.Errorf("plain URLs must not become links:\n%s", sum)
	}
	if lines[2] != `\- list 1. item \| \$x\$ \~\~s\~\~ \<!-- c --\> \&lt;b\&gt;` {
		t.Errorf("message: %q", lines[2])
	}
}

func TestDroneCardEscapesMarkdown(t *testing.T) {
	var out bytes.Buffer
	r := New(Targets{CI: "drone", DroneCardPath: "/dev/stdout"}, &out, &bytes.Buffer{}, false)
	if err := r.Finish(markupOutcome()); err != nil {
		t.Fatal(err)
	}
	c := decodeCard(t, out.String())
	d := c.Data
	if d.URL != "" {
		t.Errorf("a javascript: URL on the card: %q", d.URL)
	}
	for _, v := range []string{d.Title, d.Message, d.Record, d.Environment, d.Unknown, d.IssueList} {
		if m := rawMarkup.FindString(v); m != "" || strings.ContainsAny(v, "\n\r") {
			t.Errorf("markup %q in %q", m, v)
		}
	}
	for _, l := range d.Issues {
		if !strings.HasPrefix(l.URL, "https://acme.atlassian.net/browse/") {
			t.Errorf("issue link %q", l.URL)
		}
	}
}

// The result file is data for the next steps: JSON carries every value
// exactly, HTML-escaped, each string on its own; nothing can add a field.
func TestPipeResultIsValidJSONForAnyText(t *testing.T) {
	dir := t.TempDir()
	r := New(Targets{CI: "bitbucket", PipeStorageDir: dir}, &bytes.Buffer{}, &bytes.Buffer{}, false)
	o := markupOutcome()
	o.Status = "failed"
	o.DisplayName += `", "sent": true, "x": "`
	if err := r.Finish(o); err != nil {
		t.Fatal(err)
	}
	got, raw := readPipeResult(t, dir)
	if got.Sent || got.Record.DisplayName != o.DisplayName || got.Record.Environment.Name != o.EnvironmentName || got.Message != o.Message {
		t.Errorf("result %+v", got)
	}
	if strings.ContainsAny(raw, "<>") {
		t.Errorf("unescaped HTML in the result file:\n%s", raw)
	}
	var fields map[string]any
	if err := json.Unmarshal([]byte(raw), &fields); err != nil || len(fields) != 11 {
		t.Errorf("%d fields, %v", len(fields), err)
	}
}

// 5,000 bad JUnit files gave 5,001 annotations.
func TestAnnotationsAreCapped(t *testing.T) {
	var stdout bytes.Buffer
	r := New(Targets{CI: "github"}, &stdout, &bytes.Buffer{}, false)
	for i := range 5000 {
		r.Warningf("test_results: %v", fmt.Errorf("report-%d.xml: not JUnit XML", i))
	}
	for range 3 {
		r.Warningf("another kind %d", 1)
	}
	r.Noticef("a notice")
	_ = r.Finish(Outcome{Status: "sent", Kind: "build"})
	out := stdout.String()
	if n := strings.Count(out, "::warning::test_results: "); n != MaxAnnotationsPerKind {
		t.Errorf("%d test_results annotations, want %d", n, MaxAnnotationsPerKind)
	}
	if n := strings.Count(out, "::warning::another kind 1"); n != 3 {
		t.Errorf("another kind: %d", n)
	}
	if !strings.Contains(out, "::warning::and 4990 more warnings like \"test_results…\" (not shown; run with debug to see them all)\n") {
		t.Errorf("no summary line:\n%s", out[max(0, len(out)-600):])
	}
	if n := strings.Count(out, "\n"); n != MaxAnnotationsPerKind+3+1+1+1 {
		t.Errorf("%d lines", n)
	}
	// With debug, every one shows (as a debug line, not an annotation).
	stdout.Reset()
	r = New(Targets{CI: "drone"}, &bytes.Buffer{}, &stdout, true)
	for i := range 20 {
		r.Warningf("test_results: %v", fmt.Errorf("report-%d.xml", i))
	}
	r.Flush()
	if !strings.Contains(stdout.String(), "debug: warning: test_results: report-19.xml (not annotated") ||
		strings.Count(stdout.String(), "\nwarning: test_results:") != MaxAnnotationsPerKind-1 {
		t.Errorf("debug:\n%s", stdout.String())
	}
}

// The secret and the token reach the log encoded, too: a token endpoint
// echoing the form (client_secret=SEC%2B...), JSON with escapes, base64 in
// an Authorization header.
func TestMaskCoversEncodedForms(t *testing.T) {
	const sec = `SEC+r3t/with&odd="chars"<>ü%`
	var stdout bytes.Buffer
	dir := t.TempDir()
	r := New(Targets{CI: "github", GitHubStepSummary: filepath.Join(dir, "sum"), GitHubOutput: filepath.Join(dir, "out")}, &stdout, &bytes.Buffer{}, true)
	r.Mask(sec)
	jsonQuoted, _ := json.Marshal(sec)
	forms := map[string]string{
		"raw": sec, "query": url.QueryEscape(sec), "path": url.PathEscape(sec), "json": string(jsonQuoted[1 : len(jsonQuoted)-1]),
		"base64": base64.StdEncoding.EncodeToString([]byte(sec)), "base64url": base64.URLEncoding.EncodeToString([]byte(sec)),
		"base64raw": base64.RawStdEncoding.EncodeToString([]byte(sec)), "base64rawurl": base64.RawURLEncoding.EncodeToString([]byte(sec)),
	}
	for i, prefix := range []string{"a:", "ab:", "abc:"} { // every alignment inside a longer base64 text
		forms[fmt.Sprint("basic", i)] = base64.StdEncoding.EncodeToString([]byte(prefix + sec + "tail"))
	}
	for name, f := range forms {
		r.Infof("%s: client_secret=%s&x=1", name, f)
		r.Warningf("%s: %v", name, errors.New("body: "+f))
		r.Debugf("%s: %+v", name, struct{ Body string }{f})
	}
	o := sample()
	o.Message = forms["json"]
	o.DisplayName = forms["query"]
	_ = r.Finish(o)
	sum, _ := os.ReadFile(filepath.Join(dir, "sum"))
	outs, _ := os.ReadFile(filepath.Join(dir, "out"))
	var shown []string
	for _, line := range strings.Split(stdout.String(), "\n") {
		if !strings.HasPrefix(line, "::add-mask::") {
			shown = append(shown, line)
		}
	}
	all := strings.Join(shown, "\n") + string(sum) + string(outs)
	for name, f := range forms {
		inner := f
		if strings.HasPrefix(name, "basic") {
			inner = f[6 : len(f)-8] // the part that is the secret's alone
		}
		if strings.Contains(all, inner) {
			t.Errorf("the %s form leaks: %q", name, inner)
		}
	}
	for _, s := range []string{"SEC", "r3t"} {
		if strings.Contains(all, s) {
			t.Errorf("part of the secret (%q) leaks:\n%s", s, all)
		}
	}
}

// Redaction comes before any cut: a precision that cuts inside the secret
// must not leave its first half.
func TestRedactionBeforeTruncation(t *testing.T) {
	const sec = "tok-0123456789abcdef"
	r := New(Targets{CI: "drone"}, &bytes.Buffer{}, &bytes.Buffer{}, false)
	r.Mask(sec)
	body := strings.Repeat("x", 490) + `{"access_token":"` + sec + `"}`
	for _, got := range []string{
		r.Sprintf("%.500s", body),
		r.Sprintf("%.500v", errors.New(body)),
		r.Sprintf("%.500v", struct{ B string }{body}),
		r.Sprintf("%.500q", body),
	} {
		if strings.Contains(got, "tok-0") || strings.Contains(got, "0123") {
			t.Errorf("cut before redaction: %q", got[480:])
		}
	}
}

// Every report that can't be written is named in one error; none panics.
func TestEveryUnwritableReportIsAnError(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "a-file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing")
	r := New(Targets{CI: "github", GitHubOutput: filepath.Join(missing, "out"), GitHubStepSummary: filepath.Join(missing, "sum"),
		DroneCardPath: filepath.Join(missing, "card.json"), PipeStorageDir: filepath.Join(file, "storage")},
		&bytes.Buffer{}, &bytes.Buffer{}, false)
	err := r.Finish(sample())
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"GITHUB_OUTPUT=", "GITHUB_STEP_SUMMARY=", "DRONE_CARD_PATH=", "BITBUCKET_PIPE_STORAGE_DIR="} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %s: %v", want, err)
		}
	}
}
