package record

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
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
	if p.Kind != settings.Build || p.State != "successful" || p.BuildNumber != 42 || p.Label != "0123456" ||
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
	if p.Kind != settings.Deployment || p.Environment.ID != "production-eu" || p.Environment.Type != "production" ||
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
	var se *settings.Error
	if !errors.As(err, &se) || se.Setting != "state" || !strings.Contains(err.Error(), "success") {
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
		{func(c *cienv.Context) { c.BuildURL = "" }, nil, "url"},
		{func(c *cienv.Context) {}, []string{"JIRA_TYPE=deployment"}, "environment"},
		{func(c *cienv.Context) { c.Environment = "---" }, nil, "environment_id"},
	}
	for _, tt := range tests {
		c := ghContext()
		tt.mod(&c)
		_, err := Resolve(mustLoad(t, tt.env...), c, now)
		var se *settings.Error
		if !errors.As(err, &se) || se.Setting != tt.setting {
			t.Errorf("want error on %s, got %v", tt.setting, err)
		}
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
	got := Keys(s, c, []string{"NEW-3 newest", "OLD-2 oldest ABC-1"})
	want := []issuekeys.Found{{Key: "ZZZ-9", Source: issuekeys.Explicit}, {Key: "ABC-1", Source: issuekeys.Branch},
		{Key: "TTT-5", Source: issuekeys.Title}, {Key: "NEW-3", Source: issuekeys.Commit}, {Key: "OLD-2", Source: issuekeys.Commit}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Keys = %v, want %v", got, want)
	}
}

func TestPRHeadNameIsNotAKey(t *testing.T) {
	c := ghContext()
	c.Branch = "PR-24"
	if got := Keys(mustLoad(t), c, nil); len(got) != 0 {
		t.Errorf("PR-24 taken for a key: %v", got)
	}
	if got := Keys(mustLoad(t, "JIRA_PROJECT_KEYS=PR"), c, nil); len(got) != 1 {
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
