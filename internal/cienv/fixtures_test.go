package cienv

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// loadEnv reads testdata/env/<name> ("KEY=VALUE" lines after a comment
// line) and applies overrides: "KEY=VALUE" sets, a bare "KEY" removes.
func loadEnv(t *testing.T, name string, overrides ...string) []string {
	t.Helper()
	b, err := os.ReadFile(testdata(t, "env", name))
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{}
	var order []string
	set := func(k, v string) {
		if _, ok := vars[k]; !ok {
			order = append(order, k)
		}
		vars[k] = v
	}
	for _, line := range strings.Split(string(b), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s: bad line %q", name, line)
		}
		set(k, unquote(t, v))
	}
	for _, o := range overrides {
		if k, v, ok := strings.Cut(o, "="); ok {
			set(k, v)
		} else {
			delete(vars, o)
		}
	}
	out := make([]string, 0, len(vars))
	for _, k := range order {
		if v, ok := vars[k]; ok {
			out = append(out, k+"="+v)
		}
	}
	return out
}

// unquote reads a value the real captures write as a Go string literal
// (a message with newlines); other values are as they are.
func unquote(t *testing.T, v string) string {
	t.Helper()
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		u, err := strconv.Unquote(v)
		if err != nil {
			t.Fatalf("bad quoted value %s: %v", v, err)
		}
		return u
	}
	return v
}

func envOf(t *testing.T, name string, overrides ...string) Getenv {
	t.Helper()
	return FromEnviron(loadEnv(t, name, overrides...))
}

// checkContext compares every field; warnings are matched by a fragment
// each, in order.
func checkContext(t *testing.T, name string, got, want Context, warnings ...string) {
	t.Helper()
	gotWarnings := got.Warnings
	got.Warnings, want.Warnings = nil, nil
	if !reflect.DeepEqual(got, want) {
		gv, wv := reflect.ValueOf(got), reflect.ValueOf(want)
		for i := 0; i < gv.NumField(); i++ {
			if !reflect.DeepEqual(gv.Field(i).Interface(), wv.Field(i).Interface()) {
				t.Errorf("%s: %s = %#v, want %#v", name, gv.Type().Field(i).Name, gv.Field(i).Interface(), wv.Field(i).Interface())
			}
		}
	}
	if len(gotWarnings) != len(warnings) {
		t.Errorf("%s: warnings %q, want %d matching %q", name, gotWarnings, len(warnings), warnings)
		return
	}
	for i, w := range warnings {
		if !strings.Contains(gotWarnings[i], w) {
			t.Errorf("%s: warning %q lacks %q", name, gotWarnings[i], w)
		}
	}
}

// Every sample in testdata/env is read by the CI it comes from; the subsets
// that lack the CI's marker variable fall back to the local repository.
func TestDetectEveryFixture(t *testing.T) {
	want := map[string]string{
		"bitbucket-deploy.env": CIBitbucket, "bitbucket-pr.env": CIBitbucket, "bitbucket-push-envci.env": CIBitbucket,
		"bitbucket-push-failed.env": CIBitbucket, "bitbucket-push.env": CIBitbucket, "bitbucket-tag.env": CIBitbucket,
		"drone-pr-cidetector.env": CIDrone, "drone-pr-envci.env": CIDrone, "drone-pr.env": CILocal, // runner-go's map has no DRONE=true
		"drone-pr-reviewdog.env": CILocal, "drone-promote.env": CIDrone, "drone-push-cidetector.env": CIDrone,
		"drone-push-envci.env": CIDrone, "drone-push-failed.env": CIDrone, "drone-push.env": CIDrone,
		"drone-tag-push.env": CIDrone, "drone-tag.env": CILocal,
		"gitlab-deploy.env": CIGitLab, "gitlab-mr.env": CIGitLab, "gitlab-pr-envci.env": CIGitLab,
		"gitlab-pr-external.env": CIGitLab, "gitlab-pr.env": CIGitLab, "gitlab-push-envci.env": CIGitLab,
		"gitlab-push-failed.env": CIGitLab, "gitlab-push-legacy.env": CIGitLab, "gitlab-push.env": CIGitLab,
		"gitlab-tag-job.env": CIGitLab, "gitlab-tag.env": CILocal, // the docs' example has no GITLAB_CI
		"woodpecker-deploy.env": CIWoodpecker, "woodpecker-pr-current.env": CIWoodpecker,
		"woodpecker-pr-drone-compat.env": CIWoodpecker, "woodpecker-pr-envci.env": CIWoodpecker,
		"woodpecker-pr.env": CIWoodpecker, "woodpecker-push-current.env": CIWoodpecker,
		"woodpecker-push-envci.env": CIWoodpecker, "woodpecker-push-failed.env": CIWoodpecker,
		"woodpecker-push.env": CIWoodpecker, "woodpecker-release.env": CILocal, // CI=wp: a test's system name
		"woodpecker-tag.env": CIWoodpecker,
	}
	files, err := filepath.Glob(testdata(t, "env", "*.env"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	sort.Strings(names)
	if len(names) != len(want) {
		t.Errorf("%d fixtures, %d expectations: %v", len(names), len(want), names)
	}
	for _, n := range names {
		w, ok := want[n]
		if !ok {
			t.Errorf("%s: no expectation", n)
			continue
		}
		if got := Detect(envOf(t, n), t.TempDir()).CI; got != w {
			t.Errorf("%s: detected %q, want %q", n, got, w)
		}
	}
}

func TestAmbiguousEnvironments(t *testing.T) {
	tests := []struct {
		name, file string
		extra      []string
		ci         string
		check      func(Context) bool
	}{
		{"GitLab job with Woodpecker-like variables", "gitlab-push.env",
			[]string{"CI_SYSTEM_NAME=woodpecker", "CI_PIPELINE_NUMBER=99", "CI_PIPELINE_EVENT=pull_request", "CI_WORKFLOW_NAME=build",
				"CI_REPO=someone/else", "CI_COMMIT_PULL_REQUEST=4", "CI_WORKSPACE=/woodpecker/src"},
			CIGitLab, func(c Context) bool {
				return c.BuildNumber == "5" && c.RepoName == "OndraM/ci-detector" && c.PRNumber == "" && c.Workspace == "/builds/OndraM/ci-detector"
			}},
		{"Woodpecker step with GitLab-like variables", "woodpecker-push-current.env",
			[]string{"CI_PROJECT_DIR=/builds/x", "CI_JOB_STATUS=failed", "CI_PIPELINE_IID=77", "CI_MERGE_REQUEST_IID=3", "CI_PROJECT_PATH=a/b"},
			CIWoodpecker, func(c Context) bool {
				return c.BuildNumber == "24" && c.Status == "" && c.PRNumber == "" && c.RepoName == "test/woodpecker-test"
			}},
		{"Woodpecker step whose environment carries GITLAB_CI", "woodpecker-pr-current.env",
			[]string{"GITLAB_CI=true"}, CIWoodpecker, func(c Context) bool { return c.PRNumber == "9" }},
		{"Woodpecker with Drone's DRONE_* names (no DRONE=true)", "woodpecker-pr-drone-compat.env", nil,
			CIWoodpecker, func(c Context) bool {
				// Not DRONE_COMMIT_BEFORE: another pull request's commit.
				return c.PreviousSHA == "" && c.Status == "success" && c.Branch == "fix_fail-on-err" && c.DroneCardPath == ""
			}},
		{"Woodpecker with DRONE=true set by hand is still Woodpecker", "woodpecker-pr-drone-compat.env", []string{"DRONE=true"},
			CIWoodpecker, func(c Context) bool { return c.BuildNumber == "41" }},
		{"Drone 0.8 with CI_* names", "drone-push-cidetector.env", nil,
			CIDrone, func(c Context) bool { return c.BuildURL == "http://drone.local/OndraM/ci-detector/2" }},
		{"Drone 1.0 with CI=true and CI_* names", "drone-push.env", nil,
			CIDrone, func(c Context) bool { return c.Workspace == "/drone/src" }},
		{"GitHub wins over anything else", "drone-push.env", []string{"GITHUB_ACTIONS=true", "GITHUB_RUN_NUMBER=3"},
			CIGitHub, func(c Context) bool { return c.BuildNumber == "3" }},
	}
	for _, tt := range tests {
		c := Detect(envOf(t, tt.file, tt.extra...), t.TempDir())
		if c.CI != tt.ci || !tt.check(c) {
			t.Errorf("%s: detected %q: %+v", tt.name, c.CI, c)
		}
	}
}

func TestUnknownCIFallsBackToLocal(t *testing.T) {
	dir := t.TempDir()
	c := Detect(FromEnviron([]string{"CI=true", "HOME=/root"}), dir)
	if c.CI != CILocal || c.Workspace != dir {
		t.Errorf("got %q in %q", c.CI, c.Workspace)
	}
}

func TestHelpers(t *testing.T) {
	if got := pipelineLabel("a/b", "default", "default"); got != "a/b" {
		t.Errorf("label = %q", got)
	}
	if got := pipelineLabel("a/b", "deploy", "default"); got != "a/b (deploy)" {
		t.Errorf("label = %q", got)
	}
	if got := pipelineLabel("", "deploy"); got != "deploy" {
		t.Errorf("label = %q", got)
	}
	if got := pipelineKey("", "x"); got != "x" {
		t.Errorf("key = %q", got)
	}
	for _, tt := range [][3]string{
		{"0000000000000000000000000000000000000000", "abc", ""},
		{"abc", "ABC", ""},
		{" def ", "abc", "def"},
	} {
		if got := rangeStart(tt[0], tt[1]); got != tt[2] {
			t.Errorf("rangeStart(%q, %q) = %q", tt[0], tt[1], got)
		}
	}
}
