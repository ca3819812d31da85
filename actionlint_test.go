package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/jira-cicd/jira-cicd/internal/settings"
)

// actionlint checks GitHub workflows: this repository's own, every GitHub
// workflow example in the docs (markdownDocs: the README, CONTRIBUTING.md,
// docs.md and docs/*.md; each must be a whole workflow a user can paste),
// and a workflow that uses both actions with
// every input and output, so that actionlint also reads action.yml and
// binary/action.yml as a user's workflow would. The examples' uses of the
// published actions (<owner>/<repo>@v1, <owner>/<repo>/binary@v1) are
// pointed at the local ones, so their inputs are checked against the actions'
// metadata. .ci/run installs actionlint (go install, pinned); elsewhere the
// test is skipped when it is not installed.

// findActionlint looks on PATH, then where go install puts it.
func findActionlint(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("actionlint"); err == nil {
		return p
	}
	if out, err := exec.Command("go", "env", "GOBIN", "GOPATH").Output(); err == nil {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		dirs := []string{}
		if len(lines) > 0 && lines[0] != "" {
			dirs = append(dirs, lines[0])
		}
		if len(lines) > 1 {
			for _, p := range filepath.SplitList(lines[1]) {
				dirs = append(dirs, filepath.Join(p, "bin"))
			}
		}
		for _, d := range dirs {
			p := filepath.Join(d, "actionlint")
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	t.Skip("actionlint is not installed: go install github.com/rhysd/actionlint/cmd/actionlint@<version in .ci/run> (.ci/run does)")
	return ""
}

// yamlBlock is one ```yaml block of a markdown file.
type yamlBlock struct {
	file string
	line int // of the block's first line
	text string
}

func yamlBlocks(t *testing.T, file string) []yamlBlock {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var blocks []yamlBlock
	var cur *yamlBlock
	for i, line := range strings.Split(string(data), "\n") {
		switch {
		case cur == nil && (line == "```yaml" || line == "```yml"):
			cur = &yamlBlock{file: file, line: i + 2}
		case cur != nil && line == "```":
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			cur.text += line + "\n"
		}
	}
	if cur != nil {
		t.Fatalf("%s:%d: a yaml block is not closed", file, cur.line)
	}
	return blocks
}

var (
	// A GitHub Actions example: it runs on a GitHub runner or uses an action.
	githubExample = regexp.MustCompile(`(?m)^\s*(runs-on:|-?\s*uses: )`)
	topOn         = regexp.MustCompile(`(?m)^on:`)
	topJobs       = regexp.MustCompile(`(?m)^jobs:`)
)

// lintProject makes a directory actionlint takes for a repository (it looks
// for .git), with .github/workflows in it, and returns both paths.
func lintProject(t *testing.T) (root, workflows string) {
	t.Helper()
	root = t.TempDir()
	workflows = filepath.Join(root, ".github", "workflows")
	for _, d := range []string{filepath.Join(root, ".git"), filepath.Join(root, "binary"), workflows} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return root, workflows
}

func TestWorkflowsPassActionlint(t *testing.T) {
	actionlint := findActionlint(t)
	repo := githubRepo(t)
	root, wfDir := lintProject(t)
	copyFile := func(from, to string) {
		data, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	copyFile("action.yml", filepath.Join(root, "action.yml"))
	copyFile(filepath.Join("binary", "action.yml"), filepath.Join(root, "binary", "action.yml"))

	// temp file name -> where it came from, for messages: the file, and the
	// line of that file the temp file's first line is (0: not a copy).
	type source struct {
		file string
		line int
	}
	origin := map[string]source{}
	own, err := filepath.Glob(filepath.Join(".github", "workflows", "*.y*ml"))
	if err != nil || len(own) == 0 {
		t.Fatalf("no workflows in .github/workflows (%v)", err)
	}
	for _, f := range own {
		copyFile(f, filepath.Join(wfDir, filepath.Base(f)))
		origin[filepath.Base(f)] = source{f, 1}
	}

	local := strings.NewReplacer(repo+"/binary@", "./binary@", repo+"@", "./@")
	localRef := regexp.MustCompile(`(\./(?:binary)?)@v\d+\S*`)
	examples := map[string]int{}
	for _, doc := range markdownDocs(t) {
		for _, b := range yamlBlocks(t, doc) {
			if !githubExample.MatchString(b.text) {
				continue // Bitbucket, GitLab, Drone, Woodpecker, a fragment of action.yml
			}
			examples[doc]++
			where := fmt.Sprintf("%s:%d", b.file, b.line)
			if !topOn.MatchString(b.text) || !topJobs.MatchString(b.text) {
				t.Errorf("%s: a GitHub workflow example must be a whole workflow a user can paste (top-level on: and jobs:)", where)
				continue
			}
			name := fmt.Sprintf("example-%s-%d.yml", strings.NewReplacer("/", "-", ".md", "").Replace(strings.ToLower(b.file)), b.line)
			text := localRef.ReplaceAllString(local.Replace(b.text), "$1")
			if err := os.WriteFile(filepath.Join(wfDir, name), []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			origin[name] = source{b.file, b.line}
		}
	}
	for _, doc := range []string{"README.md", filepath.Join("docs", "github-actions.md")} {
		if examples[doc] == 0 {
			t.Errorf("%s has no GitHub workflow example", doc)
		}
	}

	// Both actions, every input and every output.
	var w strings.Builder
	w.WriteString("name: every input\non: workflow_dispatch\npermissions:\n  contents: read\njobs:\n")
	for _, job := range []struct{ id, runsOn, uses string }{
		{"container", "ubuntu-latest", "./"},
		{"binary", "windows-latest", "./binary"},
	} {
		fmt.Fprintf(&w, "  %s:\n    runs-on: %s\n    steps:\n      - uses: actions/checkout@v4\n      - id: jira\n        uses: %s\n        with:\n", job.id, job.runsOn, job.uses)
		for _, r := range settings.Table() {
			fmt.Fprintf(&w, "          %s: ${{ secrets.X }}\n", r.Name)
		}
		w.WriteString("      - shell: bash\n        env:\n")
		for _, n := range outputNames() {
			fmt.Fprintf(&w, "          OUT_%s: ${{ steps.jira.outputs.%s }}\n", strings.ToUpper(n), n)
		}
		w.WriteString("        run: env | grep '^OUT_'\n")
	}
	if err := os.WriteFile(filepath.Join(wfDir, "every-input.yml"), []byte(w.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	origin["every-input.yml"] = source{"(a workflow using ./ and ./binary with every input and output)", 0}

	cmd := exec.Command(actionlint, "-no-color", "-oneline")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		// Each finding at its place in the file it came from.
		at := regexp.MustCompile(`^\.github/workflows/([^:]+):(\d+):(\d+): (.*)$`)
		var msg strings.Builder
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			m := at.FindStringSubmatch(l)
			var src source
			ok := m != nil
			if ok {
				src, ok = origin[m[1]]
			}
			if !ok {
				msg.WriteString(l + "\n")
				continue
			}
			if src.line == 0 {
				fmt.Fprintf(&msg, "%s line %s: %s\n", src.file, m[2], m[4])
				continue
			}
			var n int
			fmt.Sscan(m[2], &n)
			fmt.Fprintf(&msg, "%s:%d:%s: %s\n", src.file, src.line+n-1, m[3], m[4])
		}
		t.Fatalf("actionlint: %v\n%s", err, msg.String())
	}
	t.Logf("actionlint: %d workflows clean (examples from the docs: %v)", len(origin), examples)
}

// The check above must be able to fail: a workflow with an input neither
// action has is an error actionlint reports.
func TestActionlintCatchesAnUnknownInput(t *testing.T) {
	actionlint := findActionlint(t)
	root, wfDir := lintProject(t)
	data, err := os.ReadFile("action.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "action.yml"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	wf := "on: push\njobs:\n  j:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: ./\n        with:\n          no_such_input: x\n"
	if err := os.WriteFile(filepath.Join(wfDir, "bad.yml"), []byte(wf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(actionlint, "-no-color", "-oneline")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "no_such_input") {
		t.Fatalf("actionlint accepted an input action.yml does not have: %v\n%s", err, out)
	}
}
