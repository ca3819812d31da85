package record

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jira-cicd/jira-cicd/internal/cienv"
	"github.com/jira-cicd/jira-cicd/internal/issuekeys"
	"github.com/jira-cicd/jira-cicd/internal/jira"
	"github.com/jira-cicd/jira-cicd/internal/jira/fakejira"
	"github.com/jira-cicd/jira-cicd/internal/settings"
)

var now = time.Date(2026, 11, 29, 10, 0, 0, 123e6, time.UTC)

func ghContext() cienv.Context {
	return cienv.Context{
		CI: cienv.CIGitHub, Name: "GitHub Actions", SHA: "0123456789abcdef0123456789abcdef01234567",
		Branch: "feature/ABC-1-x", BuildNumber: "42", BuildURL: "https://github.com/o/r/actions/runs/9",
		RepoName: "o/r", RepoURL: "https://github.com/o/r", PipelineID: "o/r/.github/workflows/ci.yml", PipelineName: "CI",
	}
}

func mustLoad(t *testing.T, environ ...string) *settings.Settings {
	t.Helper()
	s, err := settings.Load(nil, append([]string{"JIRA_DRY_RUN=true"}, environ...))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestResolveBuildDefaults(t *testing.T) {
	p, err := Resolve(mustLoad(t), ghContext(), now)
	if err != nil {
		t.Fatal(err)
	}
	if p.Kind != Build || p.State != "successful" || p.BuildNumber != 42 || p.Label != "0123456" ||
		p.DisplayName != "CI #42" || p.Description != "Build o/r feature/ABC-1-x (0123456)" {
		t.Errorf("plan = %+v", p)
	}
}

func TestResolveDeploymentFromEnvironment(t *testing.T) {
	c := ghContext()
	c.Environment = "Production EU"
	c.Tag, c.Branch = "v1.2.3", ""
	p, err := Resolve(mustLoad(t), c, now)
	if err != nil {
		t.Fatal(err)
	}
	if p.Kind != Deployment || p.Environment.ID != "production-eu" || p.Environment.Type != "production" ||
		p.Label != "v1.2.3" || p.Description != "Deploy o/r v1.2.3 to Production EU" {
		t.Errorf("plan = %+v", p)
	}
	// The CI's tier wins over the guess; settings win over both.
	c.EnvironmentType = "staging"
	if p, _ := Resolve(mustLoad(t), c, now); p.Environment.Type != "staging" {
		t.Errorf("CI tier ignored: %q", p.Environment.Type)
	}
	if p, _ := Resolve(mustLoad(t, "JIRA_ENVIRONMENT_TYPE=testing", "JIRA_ENVIRONMENT_ID=eu1"), c, now); p.Environment.Type != "testing" || p.Environment.ID != "eu1" {
		t.Errorf("settings ignored: %+v", p.Environment)
	}
}

func TestResolveState(t *testing.T) {
	c := ghContext()
	c.Status = "failure"
	if p, _ := Resolve(mustLoad(t), c, now); p.State != "failed" {
		t.Errorf("CI failure -> %q", p.State)
	}
	if p, _ := Resolve(mustLoad(t, "JIRA_STATE=in_progress"), c, now); p.State != "in_progress" {
		t.Errorf("setting must win: %q", p.State)
	}
	c.Status = "exploded"
	_, err := Resolve(mustLoad(t), c, now)
	var se *Error
	if !errors.As(err, &se) || !slices.Equal(se.Settings, []string{"state"}) || !strings.Contains(err.Error(), "success") {
		t.Errorf("unmapped CI status: %v", err)
	}
	if _, err := Resolve(mustLoad(t, "JIRA_STATE=rolled_back"), ghContext(), now); err == nil {
		t.Error("rolled_back accepted for a build")
	}
}

func TestResolveMissing(t *testing.T) {
	tests := []struct {
		mod     func(*cienv.Context)
		env     []string
		setting string
	}{
		{func(c *cienv.Context) { c.PipelineID = "" }, nil, "pipeline_id"},
		{func(c *cienv.Context) { c.BuildNumber = "" }, nil, "build_number"},
		{func(c *cienv.Context) { c.BuildNumber = "12.5" }, nil, "build_number"},
		{func(c *cienv.Context) { c.BuildURL, c.RepoURL = "", "" }, nil, "url"},
		{func(c *cienv.Context) {}, []string{"JIRA_TYPE=deployment"}, "environment"},
		{func(c *cienv.Context) { c.Environment = "---" }, nil, "environment_id"},
	}
	for _, tt := range tests {
		c := ghContext()
		tt.mod(&c)
		_, err := Resolve(mustLoad(t, tt.env...), c, now)
		var se *Error
		if !errors.As(err, &se) || !slices.Equal(se.Settings, []string{tt.setting}) {
			t.Errorf("want error on %s, got %v", tt.setting, err)
		}
	}
}

// Every value the CI does not give is named in one message, not one per
// run (build_number, then on the next run url).
func TestResolveNamesEveryMissingValueAtOnce(t *testing.T) {
	c := cienv.Context{CI: cienv.CIGitLab, Name: "GitLab CI", SHA: "de81359aff84ef37ac165ee39d4275e2d14837bd"}
	_, err := Resolve(mustLoad(t), c, now)
	var errs Errors
	if !errors.As(err, &errs) || len(errs) != 1 {
		t.Fatalf("err = %v, want one Error", err)
	}
	want := "settings pipeline_id, build_number, url: GitLab CI gives no pipeline id, no build number and no link to this run; " +
		"set pipeline_id, build_number and url (pipeline_id: a name that stays the same across runs)"
	if got := errs[0].Error(); got != want {
		t.Errorf("error\n  %s\nwant\n  %s", got, want)
	}

	// Other problems come along in the same run.
	c.Status = "exploded"
	_, err = Resolve(mustLoad(t, "JIRA_PIPELINE_ID=p", "JIRA_TYPE=deployment"), c, now)
	if !errors.As(err, &errs) || len(errs) != 3 || !slices.Equal(errs[0].Settings, []string{"build_number", "url"}) ||
		!slices.Equal(errs[1].Settings, []string{"state"}) || !slices.Equal(errs[2].Settings, []string{"environment"}) {
		t.Errorf("err = %v", err)
	}
	// Settings fill what the CI lacks.
	if _, err := Resolve(mustLoad(t, "JIRA_PIPELINE_ID=p", "JIRA_BUILD_NUMBER=3", "JIRA_URL=https://ci.example.com/3"), cienv.Context{CI: cienv.CIGitLab, Name: "GitLab CI"}, now); err != nil {
		t.Errorf("with the settings: %v", err)
	}
}

// Without a run link, the record links to the commit (where the CI says
// which forge hosts it) or to the repository, with a notice; without either
// it is refused.
func TestResolveFallsBackToACommitOrRepositoryLink(t *testing.T) {
	sha := "0123456789abcdef0123456789abcdef01234567"
	tests := []struct {
		ci, repo, want string
	}{
		{cienv.CIGitHub, "https://github.com/o/r", "https://github.com/o/r/commit/" + sha},
		{cienv.CIGitLab, "https://gitlab.example.com/g/r/", "https://gitlab.example.com/g/r/-/commit/" + sha},
		{cienv.CIBitbucket, "https://bitbucket.org/w/r", "https://bitbucket.org/w/r/commits/" + sha},
		{cienv.CIDrone, "http://127.0.0.1:3000/acme/widgets", "http://127.0.0.1:3000/acme/widgets"},
		{cienv.CIWoodpecker, "https://gitea.example.com/acme/widgets", "https://gitea.example.com/acme/widgets"},
	}
	for _, tt := range tests {
		c := ghContext()
		c.CI, c.Name, c.RepoURL, c.BuildURL = tt.ci, tt.ci, tt.repo, ""
		p, err := Resolve(mustLoad(t), c, now)
		if err != nil || p.URL != tt.want || len(p.Notes) != 1 || !strings.Contains(p.Notes[0], "set url") {
			t.Errorf("%s: url %q, notes %q, err %v; want %q", tt.ci, p.URL, p.Notes, err, tt.want)
		}
	}
	// A repository that is not on the web is no link.
	c := ghContext()
	c.CI, c.RepoURL, c.BuildURL = cienv.CIGitLab, "file:///builds/repo", ""
	if _, err := Resolve(mustLoad(t), c, now); err == nil || !strings.Contains(err.Error(), "setting url") {
		t.Errorf("file repository: %v", err)
	}
	// The url setting always wins.
	c = ghContext()
	c.BuildURL = ""
	if p, _ := Resolve(mustLoad(t, "JIRA_URL=https://ci.example.com/9"), c, now); p.URL != "https://ci.example.com/9" || len(p.Notes) != 0 {
		t.Errorf("url setting: %q %q", p.URL, p.Notes)
	}
}

func TestErrorText(t *testing.T) {
	if got := (&Error{Settings: []string{"url"}, Msg: "m"}).Error(); got != "setting url: m" {
		t.Errorf("%q", got)
	}
	if got := (Errors{{Settings: []string{"a", "b"}, Msg: "m"}, {Settings: []string{"c"}, Msg: "n"}}).Error(); got != "settings a, b: m; setting c: n" {
		t.Errorf("%q", got)
	}
}

func TestLocalBuildNumberIsTime(t *testing.T) {
	c := ghContext()
	c.CI, c.BuildNumber = cienv.CILocal, ""
	p, err := Resolve(mustLoad(t), c, now)
	if err != nil || p.BuildNumber != now.Unix() || len(p.Notes) != 1 {
		t.Errorf("local build number: %v %d %q", err, p.BuildNumber, p.Notes)
	}
}

func TestSlugIsStable(t *testing.T) {
	for in, want := range map[string]string{
		"Production": "production", "production": "production", "Prod EU / west": "prod-eu-west",
		"staging_2": "staging_2", "  QA  ": "qa", strings.Repeat("a", 300): strings.Repeat("a", 255),
	} {
		if got := Slug(in); got != want {
			t.Errorf("Slug(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestInferEnvType(t *testing.T) {
	for in, want := range map[string]string{
		"production": "production", "prod-eu": "production", "PRD": "production", "live": "production",
		"staging": "staging", "stg": "staging", "preprod": "staging", "pre-prod": "staging", "Stage 2": "staging",
		"test": "testing", "qa": "testing", "UAT": "testing", "sit": "testing", "testing-1": "testing",
		"dev": "development", "development": "development", "feature-dev": "development",
		"sandbox": "unmapped", "site": "unmapped", "product-demo": "production", "liveness": "unmapped",
	} {
		if got := InferEnvType(in); got != want {
			t.Errorf("InferEnvType(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestKeysOrder(t *testing.T) {
	s := mustLoad(t, "JIRA_ISSUE_KEYS=ZZZ-9")
	c := ghContext()
	c.PRTitle = "TTT-5 title"
	got, warnings := Keys(s, c, []string{"NEW-3 newest", "OLD-2 oldest ABC-1"})
	want := []issuekeys.Found{{Key: "ZZZ-9", Source: issuekeys.Explicit}, {Key: "ABC-1", Source: issuekeys.Branch},
		{Key: "TTT-5", Source: issuekeys.Title}, {Key: "NEW-3", Source: issuekeys.Commit}, {Key: "OLD-2", Source: issuekeys.Commit}}
	if !reflect.DeepEqual(got, want) || warnings != nil {
		t.Errorf("Keys = %v %q, want %v", got, warnings, want)
	}
}

// A 260-letter "key" in a commit message is left out with a warning; the
// good keys are still sent.
func TestKeysDropOverLongValues(t *testing.T) {
	long := strings.Repeat("X", 260) + "-1"
	got, warnings := Keys(mustLoad(t), ghContext(), []string{"ABC-2 and " + long, "DEF-3"})
	if !reflect.DeepEqual(got, []issuekeys.Found{{Key: "ABC-1", Source: issuekeys.Branch}, {Key: "ABC-2", Source: issuekeys.Commit}, {Key: "DEF-3", Source: issuekeys.Commit}}) {
		t.Errorf("Keys = %v", got)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "XXXXXXXXXXXXXXXXXXXX...XXXXXXXX-1 (262 characters)") || strings.Contains(warnings[0], long) {
		t.Errorf("warnings %q", warnings)
	}
}

func TestPRHeadNameIsNotAKey(t *testing.T) {
	c := ghContext()
	c.Branch = "PR-24"
	if got, _ := Keys(mustLoad(t), c, nil); len(got) != 0 {
		t.Errorf("PR-24 taken for a key: %v", got)
	}
	if got, _ := Keys(mustLoad(t, "JIRA_PROJECT_KEYS=PR"), c, nil); len(got) != 1 {
		t.Errorf("with PR in project_keys, PR-24 is a key: %v", got)
	}
}

func TestBuildCapsKeys(t *testing.T) {
	p, _ := Resolve(mustLoad(t), ghContext(), now)
	keys := make([]string, 130)
	for i := range keys {
		keys[i] = fmt.Sprintf("ABC-%d", i+1)
	}
	b := p.Build(keys, nil, "jira-cicd test")
	got := b.Builds.Builds[0].IssueKeys
	if len(got) != 100 || got[0] != "ABC-1" || got[99] != "ABC-100" || len(b.Warnings) != 1 || !strings.Contains(b.Warnings[0], "30") {
		t.Errorf("cap: %d keys, warnings %q", len(got), b.Warnings)
	}
}

func TestDeploymentCapsAssociations(t *testing.T) {
	c := ghContext()
	c.Environment = "prod"
	p, _ := Resolve(mustLoad(t, "JIRA_SERVICE_IDS=svc-1,svc-2"), c, now)
	keys := make([]string, 600)
	for i := range keys {
		keys[i] = fmt.Sprintf("ABC-%d", i+1)
	}
	b := p.Deployment(keys, "x")
	d := b.Deployments.Deployments[0]
	total := 0
	for _, a := range d.Associations {
		total += len(a.Values)
	}
	if total != 500 || len(d.Associations[0].Values) != 498 || !strings.Contains(b.Warnings[0], "102") {
		t.Errorf("associations total %d, warnings %q", total, b.Warnings)
	}
}

func TestClipLongFields(t *testing.T) {
	s := mustLoad(t, "JIRA_DISPLAY_NAME="+strings.Repeat("é", 300))
	p, _ := Resolve(s, ghContext(), now)
	b := p.Build([]string{"ABC-1"}, nil, "x")
	if n := len([]rune(b.Builds.Builds[0].DisplayName)); n != 255 || len(b.Warnings) != 1 {
		t.Errorf("display name %d runes, warnings %q", n, b.Warnings)
	}
}

func TestSequenceNumbersIncrease(t *testing.T) {
	s := mustLoad(t)
	p1, _ := Resolve(s, ghContext(), now)
	p2, _ := Resolve(s, ghContext(), now.Add(time.Millisecond))
	a := p1.Build([]string{"ABC-1"}, nil, "x").Builds.Builds[0]
	b := p2.Build([]string{"ABC-1"}, nil, "x").Builds.Builds[0]
	if b.UpdateSequenceNumber <= a.UpdateSequenceNumber || a.LastUpdated != "2026-11-29T10:00:00.123Z" {
		t.Errorf("usn %d then %d, lastUpdated %s", a.UpdateSequenceNumber, b.UpdateSequenceNumber, a.LastUpdated)
	}
}

// Every body this package makes validates against Atlassian's published
// schema, including at the caps and limits.
func TestBodiesValidateAgainstSpec(t *testing.T) {
	many := make([]string, 700)
	for i := range many {
		many[i] = fmt.Sprintf("ABC-%d", i+1)
	}
	long := strings.Repeat("x", 400)
	c := ghContext()
	s := mustLoad(t, "JIRA_DISPLAY_NAME="+long, "JIRA_DESCRIPTION="+long, "JIRA_LABEL="+long)
	p, err := Resolve(s, c, now)
	if err != nil {
		t.Fatal(err)
	}
	bodies := map[string]any{
		"build":          p.Build(many, &jira.TestInfo{TotalNumber: 5, NumberPassed: 3, NumberFailed: 1, NumberSkipped: 1}, "jira-cicd test").Builds,
		"build, one key": p.Build([]string{"AB-1"}, nil, "x").Builds,
		"build, no repo": withoutRepo(p).Build([]string{"AB-1"}, nil, "x").Builds,
	}
	c.Environment = "UAT (eu)"
	for _, env := range [][]string{nil, {"JIRA_GATING=true", "JIRA_SERVICE_IDS=svc-1,b2c3"}} {
		p, err := Resolve(mustLoad(t, env...), c, now)
		if err != nil {
			t.Fatal(err)
		}
		bodies[fmt.Sprintf("deployment %v", env)] = p.Deployment(many, "x").Deployments
	}
	for name, body := range bodies {
		raw, _ := json.Marshal(body)
		kind := "builds"
		if strings.HasPrefix(name, "deployment") {
			kind = "deployments"
		}
		if err := fakejira.ValidateBody(kind, raw); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func withoutRepo(p Plan) Plan { p.RepoURL = ""; return p }

// gitlab-runner 16.10's `exec shell` (captured, ../shared/fixtures/real)
// gives neither a run number nor any web link: both are named in one run.
func TestResolveRealGitLabExecNamesBothMissingValues(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "gitlab-runner-16.10-exec-plain.env"))
	if err != nil {
		t.Fatal(err)
	}
	var environ []string
	for _, line := range strings.Split(string(raw), "\n") {
		if line != "" && !strings.HasPrefix(line, "#") && !strings.HasPrefix(line, "JIRA_") {
			environ = append(environ, line)
		}
	}
	c := cienv.Detect(cienv.FromEnviron(environ), t.TempDir())
	if c.CI != cienv.CIGitLab {
		t.Fatalf("detected %q", c.CI)
	}
	_, err = Resolve(mustLoad(t), c, now)
	var errs Errors
	if !errors.As(err, &errs) || len(errs) != 1 || !slices.Equal(errs[0].Settings, []string{"build_number", "url"}) ||
		!strings.Contains(err.Error(), "gives no build number and no link to this run; set build_number and url") {
		t.Errorf("err = %v", err)
	}
}
