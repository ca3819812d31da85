package settings

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

var creds = []string{"JIRA_CLIENT_ID=id", "JIRA_CLIENT_SECRET=canary-secret-123", "JIRA_SITE=acme.atlassian.net"}

func load(t *testing.T, args []string, environ ...string) *Settings {
	t.Helper()
	s, err := Load(args, append(append([]string{}, creds...), environ...))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return s
}

func TestDefaults(t *testing.T) {
	s := load(t, nil)
	if s.APIURL != "https://api.atlassian.com" || !s.FailOnError || s.DryRun || s.Timeout != 60*time.Second ||
		s.MaxCommits != 1000 || s.GatingInterval != 30*time.Second || s.GatingTimeout != 30*time.Minute {
		t.Errorf("defaults wrong: %+v", s)
	}
	if s.Site != "https://acme.atlassian.net" {
		t.Errorf("site = %q", s.Site)
	}
}

func TestPrecedence(t *testing.T) {
	env := []string{"INPUT_LABEL=from-input", "PLUGIN_LABEL=from-plugin", "JIRA_LABEL=from-jira"}
	if s := load(t, []string{"--label", "from-flag"}, env...); s.Label != "from-flag" {
		t.Errorf("flag should win, got %q", s.Label)
	}
	if s := load(t, nil, env...); s.Label != "from-input" {
		t.Errorf("INPUT_ should win over PLUGIN_, got %q", s.Label)
	}
	if s := load(t, nil, env[1:]...); s.Label != "from-plugin" {
		t.Errorf("PLUGIN_ should win over JIRA_, got %q", s.Label)
	}
	// GitHub passes undeclared inputs as empty strings: empty is unset.
	if s := load(t, nil, "INPUT_LABEL=", "PLUGIN_LABEL=  ", "JIRA_LABEL=from-jira"); s.Label != "from-jira" {
		t.Errorf("empty sources must be skipped, got %q", s.Label)
	}
}

func TestFlags(t *testing.T) {
	s := load(t, []string{"--dry-run", "--fail-on-error=false", "--timeout=5s", "--issue-keys", "ABC-1,DEF-2"})
	if !s.DryRun || s.FailOnError || s.Timeout != 5*time.Second || !reflect.DeepEqual([]string(s.IssueKeys), []string{"ABC-1", "DEF-2"}) {
		t.Errorf("flags not applied: %+v", s)
	}
}

func TestLists(t *testing.T) {
	tests := []struct {
		env  []string
		want []string
	}{
		{[]string{"INPUT_ISSUE_KEYS=ABC-1, DEF-2\nGHI-3"}, []string{"ABC-1", "DEF-2", "GHI-3"}},
		{[]string{"PLUGIN_ISSUE_KEYS=ABC-1,DEF-2"}, []string{"ABC-1", "DEF-2"}},
		{[]string{`PLUGIN_ISSUE_KEYS=["ABC-1","DEF-2"]`}, []string{"ABC-1", "DEF-2"}},
		{[]string{"JIRA_ISSUE_KEYS_COUNT=2", "JIRA_ISSUE_KEYS_0=ABC-1", "JIRA_ISSUE_KEYS_1=DEF-2"}, []string{"ABC-1", "DEF-2"}},
	}
	for _, tt := range tests {
		s := load(t, nil, tt.env...)
		if !reflect.DeepEqual([]string(s.IssueKeys), tt.want) {
			t.Errorf("%v: issue_keys = %q, want %q", tt.env, s.IssueKeys, tt.want)
		}
	}
}

// How Drone and Woodpecker encode a YAML list in PLUGIN_*: plain values
// (strings, numbers, booleans) comma-joined; a list holding anything else as
// JSON, which for Woodpecker is a list with a from_secret entry, replaced by
// the secret's value (pipeline/frontend/yaml/compiler/settings/params.go).
func TestPluginListEncodings(t *testing.T) {
	tests := []struct {
		yaml, env string
		want      []string
	}{
		{"[svc-a, svc-b]", "PLUGIN_SERVICE_IDS=svc-a,svc-b", []string{"svc-a", "svc-b"}},
		{"[123, 456]", "PLUGIN_SERVICE_IDS=123,456", []string{"123", "456"}},
		{"[svc-a, ~, svc-b] (Woodpecker keeps an empty slot)", "PLUGIN_SERVICE_IDS=svc-a,,svc-b", []string{"svc-a", "svc-b"}},
		{"[123, {from_secret: svc}]", `PLUGIN_SERVICE_IDS=[123,"svc-b"]`, []string{"123", "svc-b"}},
		{"[svc-a, {from_secret: svc}, ~]", `PLUGIN_SERVICE_IDS=["svc-a","svc-b",null]`, []string{"svc-a", "svc-b"}},
		{"[true]", `PLUGIN_SERVICE_IDS=[true]`, []string{"true"}},
	}
	for _, tt := range tests {
		s := load(t, nil, tt.env)
		if !reflect.DeepEqual([]string(s.ServiceIDs), tt.want) {
			t.Errorf("%s as %s: service_ids = %q, want %q", tt.yaml, tt.env, s.ServiceIDs, tt.want)
		}
	}
}

func TestBitbucketDebug(t *testing.T) {
	if s := load(t, nil, "DEBUG=true"); !s.Debug {
		t.Error("DEBUG=true should turn on debug")
	}
}

func TestDryRunNeedsNoCredentials(t *testing.T) {
	s, err := Load([]string{"--dry-run"}, nil)
	if err != nil || !s.DryRun {
		t.Fatalf("dry run without credentials: %v", err)
	}
}

func TestSiteForms(t *testing.T) {
	for in, want := range map[string]string{
		"acme":                          "https://acme.atlassian.net",
		"acme.atlassian.net":            "https://acme.atlassian.net",
		"https://acme.atlassian.net/":   "https://acme.atlassian.net",
		"http://127.0.0.1:8080":         "http://127.0.0.1:8080",
		"http://localhost:1":            "http://localhost:1",
		"https://jira.example.com:8443": "https://jira.example.com:8443",
	} {
		got, err := NormalizeSite(in)
		if err != nil || got != want {
			t.Errorf("NormalizeSite(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

// Every setting with a wrong value exits 2 with a message naming it.
func TestBadValuesNameTheSetting(t *testing.T) {
	tests := []struct {
		env     string
		setting string
		says    string
	}{
		{"JIRA_TYPE=bulid", "type", "build, deployment"},
		{"JIRA_STATE=grumpy", "state", "successful"},
		{"JIRA_ENVIRONMENT_TYPE=prod", "environment_type", "production"},
		{"JIRA_TIMEOUT=10", "timeout", "Go duration"},
		{"JIRA_TIMEOUT=-1s", "timeout", "at least 1s"},
		{"JIRA_GATING_INTERVAL=soon", "gating_interval", "Go duration"},
		{"JIRA_GATING_TIMEOUT=0s", "gating_timeout", "positive"},
		{"JIRA_DRY_RUN=maybe", "dry_run", "true or false"},
		{"JIRA_FAIL_ON_ERROR=nope", "fail_on_error", "true or false"},
		{"JIRA_DEBUG=2x", "debug", "true or false"},
		{"JIRA_GATING=yes please", "gating", "true or false"},
		{"JIRA_MAX_COMMITS=lots", "max_commits", "whole number"},
		{"JIRA_MAX_COMMITS=0", "max_commits", "1 or more"},
		{"JIRA_BUILD_NUMBER=12a", "build_number", "whole number"},
		{"JIRA_URL=not a url", "url", "absolute URL"},
		{"JIRA_SITE=http://acme.atlassian.net", "site", "only https"},
		{"JIRA_SITE=https://acme.atlassian.net/jira", "site", "has a path"},
		{"JIRA_API_URL=ftp://x", "api_url", "https URL"},
		{"JIRA_API_URL=http://api.example.com", "api_url", "plain http"},
		{"JIRA_ISSUE_KEYS=ABC-1,2022-02", "issue_keys", "2022-02"},
		{"JIRA_PROJECT_KEYS=A", "project_keys", "project key"},
		{`JIRA_ISSUE_KEYS=[["ABC-1"]]`, "issue_keys", "strings, numbers or booleans"},
		{`JIRA_ISSUE_KEYS=["ABC-1"] x`, "issue_keys", "not one"},
		{"JIRA_CLOUD_ID=a/b", "cloud_id", "tenant_info"},
		{"JIRA_SERVICE_IDS=" + strings.Repeat("s", 256), "service_ids", "255"},
	}
	for _, tt := range tests {
		_, err := Load(nil, append(append([]string{}, creds...), tt.env))
		var errs Errors
		if !errors.As(err, &errs) {
			t.Errorf("%s: err = %v, want Errors", tt.env, err)
			continue
		}
		if errs[0].Setting != tt.setting || !strings.Contains(err.Error(), tt.says) || !strings.Contains(err.Error(), "setting "+tt.setting) {
			t.Errorf("%s: error %q; want it to name %s and say %q", tt.env, err, tt.setting, tt.says)
		}
	}
}

func TestMissingRequired(t *testing.T) {
	_, err := Load(nil, nil)
	for _, want := range []string{"setting client_id", "setting client_secret", "setting site"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v should contain %q", err, want)
		}
	}
	if _, err := Load(nil, []string{"JIRA_CLIENT_ID=i", "JIRA_CLIENT_SECRET=s", "JIRA_CLOUD_ID=0b6c5d1e-7f2a-4c3b-9d8e-1a2b3c4d5e6f"}); err != nil {
		t.Errorf("cloud_id should make site optional: %v", err)
	}
}

func TestFlagErrors(t *testing.T) {
	for _, args := range [][]string{{"--no-such"}, {"stray"}} {
		_, err := Load(args, creds)
		var errs Errors
		if !errors.As(err, &errs) || errs[0].Setting != "flags" {
			t.Errorf("%v: err = %v", args, err)
		}
	}
	if _, err := Load([]string{"--help"}, nil); !errors.Is(err, ErrHelp) {
		t.Errorf("--help: %v", err)
	}
	if _, err := Load([]string{"--version"}, nil); !errors.Is(err, ErrVersion) {
		t.Errorf("--version: %v", err)
	}
}

func TestSecretNeverPrinted(t *testing.T) {
	s := load(t, nil)
	for _, out := range []string{fmt.Sprintf("%v", s), fmt.Sprintf("%+v", *s), fmt.Sprintf("%#v", s)} {
		if strings.Contains(out, "canary-secret-123") {
			t.Fatalf("secret printed: %s", out)
		}
	}
	if s.ClientSecret.Value() != "canary-secret-123" {
		t.Fatal("Value() must return the secret")
	}
	_, err := Load(nil, []string{"JIRA_CLIENT_ID=i", "JIRA_CLIENT_SECRET=canary-secret-123", "JIRA_SITE=http://user:canary-secret-123@x.example.com"})
	if err == nil || strings.Contains(err.Error(), "canary-secret-123") {
		t.Fatalf("error leaks secret: %v", err)
	}
}

func TestUsageListsEverySetting(t *testing.T) {
	var b bytes.Buffer
	Usage(&b, "test")
	for _, r := range Table() {
		if !strings.Contains(b.String(), r.Flag()) || !strings.Contains(b.String(), r.Help) {
			t.Errorf("--help lacks %s", r.Flag())
		}
	}
	md := MarkdownTable(JiraEnv)
	if !strings.Contains(md, "`JIRA_CLIENT_ID`") || !strings.Contains(md, "`60s`") {
		t.Errorf("markdown table: %s", md)
	}
}

// Bitbucket's NAME_COUNT is a count someone else wrote: a huge one must not
// allocate (4611686018427387904 panicked in makeslice) or loop for minutes.
func TestListCountIsCapped(t *testing.T) {
	for _, count := range []string{"4611686018427387904", "1000000000", strconv.Itoa(MaxListItems + 1)} {
		for _, prefix := range []string{"INPUT_", "PLUGIN_", "JIRA_"} {
			env := append(append([]string{}, creds...), prefix+"ISSUE_KEYS_COUNT="+count, prefix+"ISSUE_KEYS_0=ABC-1")
			start := time.Now()
			_, err := Load(nil, env)
			var errs Errors
			if !errors.As(err, &errs) || errs[0].Setting != "issue_keys" || !strings.Contains(err.Error(), prefix+"ISSUE_KEYS_COUNT") ||
				!strings.Contains(err.Error(), "at most 1000") {
				t.Errorf("%sISSUE_KEYS_COUNT=%s: err = %v, want an issue_keys error naming the variable and the cap", prefix, count, err)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("%sISSUE_KEYS_COUNT=%s took %v", prefix, count, d)
			}
		}
	}
	for _, count := range []string{"many", "-3", "0x10"} {
		_, err := Load(nil, append(append([]string{}, creds...), "JIRA_SERVICE_IDS_COUNT="+count))
		if err == nil || !strings.Contains(err.Error(), "setting service_ids: ") || !strings.Contains(err.Error(), "JIRA_SERVICE_IDS_COUNT") {
			t.Errorf("JIRA_SERVICE_IDS_COUNT=%s: err = %v, want a service_ids error", count, err)
		}
	}
	// At the cap, every item is read.
	env := append([]string{}, creds...)
	env = append(env, "JIRA_SERVICE_IDS_COUNT="+strconv.Itoa(MaxListItems))
	for i := range MaxListItems {
		env = append(env, fmt.Sprintf("JIRA_SERVICE_IDS_%d=svc-%d", i, i))
	}
	s := load(t, nil, env[len(creds):]...)
	if len(s.ServiceIDs) != MaxListItems || s.ServiceIDs[MaxListItems-1] != "svc-999" {
		t.Errorf("at the cap: %d service ids", len(s.ServiceIDs))
	}
	// COUNT=0 is an empty list: not given.
	if s := load(t, nil, "JIRA_ISSUE_KEYS_COUNT=0"); len(s.IssueKeys) != 0 {
		t.Errorf("COUNT=0: %q", s.IssueKeys)
	}
}
