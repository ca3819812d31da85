package settings

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// badValue is a value Load refuses for a setting, and what its message
// must say besides the setting's name.
type badValue struct {
	value string
	says  string
	// missing: the setting is left out (the value is ignored), for the
	// required ones.
	missing bool
	// with are other settings given along (JIRA_NAME=value).
	with []string
}

// badValues has a case for every setting that has a value Load refuses.
var badValues = map[string][]badValue{
	"client_id":        {{missing: true, says: "required"}},
	"client_secret":    {{missing: true, says: "required"}},
	"site":             {{value: "http://acme.atlassian.net", says: "only https"}, {value: "acme.atlassian.net?x=1", says: "query"}, {value: "https://acme.atlassian.net/#top", says: "fragment"}, {value: "acme.atlassian.net:99999", says: "port"}, {value: "https://acme.atlassian.net:0", says: "port"}, {value: "https://acme.atlassian.net:x1", says: "port"}, {value: "acme.atlassian.net:-1", says: "port"}, {value: "https://acme.atlassian.net/jira", says: "has a path"}, {value: "ftp://acme", says: "https URL"}, {value: "https://u:p@acme.atlassian.net", says: "credentials"}, {missing: true, says: "required unless cloud_id"}},
	"cloud_id":         {{value: "a/b", says: "tenant_info"}, {value: "a b", says: "not a cloud id"}, {value: "..", says: "UUID"}, {value: "not-a-uuid", says: "UUID"}, {value: "0b6c5d1e-7f2a-4c3b-9d8e-1a2b3c4d5e6", says: "UUID"}, {value: "0b6c5d1e7f2a4c3b9d8e1a2b3c4d5e6f", says: "UUID"}},
	"api_url":          {{value: "ftp://x", says: "https URL"}, {value: "https://api.example.com/?x=1", says: "query"}, {value: "https://api.example.com?", says: "query"}, {value: "https://api.example.com/#f", says: "fragment"}, {value: "https://api.example.com#", says: "fragment"}, {value: "https://api.example.com:99999", says: "port"}, {value: "https://api.example.com:65536", says: "port"}, {value: "https://api.example.com:0", says: "port"}, {value: "https://api.example.com:https", says: "port"}, {value: "http://api.example.com", says: "plain http"}, {value: "not a url", says: "https URL"}},
	"type":             {{value: "bulid", says: "build, deployment"}},
	"state":            {{value: "grumpy", says: "successful"}},
	"environment_type": {{value: "prod", says: "production"}},
	"issue_keys":       {{value: "ABC-1,2022-02", says: "2022-02"}, {value: "[1,2]", says: "not a Jira issue key"}, {value: `[{"key":"ABC-1"}]`, says: "JSON array items"}, {value: `["ABC-1"`, says: "JSON array"}},
	"project_keys":     {{value: "A", says: "project key"}, {value: "1ABC", says: "project key"}},
	"service_ids":      {{value: strings.Repeat("s", 256), says: "255"}},
	"build_number":     {{value: "12a", says: "whole number"}, {value: "-1", says: "0 or more"}},
	"url":              {{value: "not a url", says: "absolute URL"}, {value: "/relative", says: "absolute URL"}},
	"max_commits":      {{value: "lots", says: "whole number"}, {value: "0", says: "1 or more"}},
	"gating":           {{value: "yes please", says: "true or false"}, {value: "true", says: "deployments only", with: []string{"JIRA_TYPE=build"}}},
	"gating_interval":  {{value: "soon", says: "Go duration"}, {value: "-5s", says: "at least 1s"}, {value: "1ns", says: "at least 1s"}, {value: "999ms", says: "at least 1s"}},
	"gating_timeout":   {{value: "0s", says: "positive"}, {value: "1 hour", says: "Go duration"}},
	"dry_run":          {{value: "maybe", says: "true or false"}},
	"fail_on_error":    {{value: "nope", says: "true or false"}},
	"timeout":          {{value: "10", says: "Go duration"}, {value: "-1s", says: "at least 1s"}, {value: "1ns", says: "at least 1s"}, {value: "999ms", says: "at least 1s"}},
	"debug":            {{value: "2x", says: "true or false"}},
	"development_info": {{value: "sometimes", says: "false, true, only"}, {value: "only", says: "gating cannot apply", with: []string{"JIRA_GATING=true"}}},
	"forge":            {{value: "sourcehut", says: "gitea (also Forgejo, Codeberg)"}},
	"repository_url":   {{value: "git@github.com:a/b.git", says: "http(s) URL"}, {value: "https://u:p@git.example.com/a/b", says: "credentials"}},
	"paths":            {{value: "services/[a/**", says: "not a valid glob"}, {value: "/etc/**", says: "relative to the repository root"}, {value: "../x/**", says: "relative to the repository root"}},
}

// acceptsAnything lists the settings Load takes any value of, and why.
var acceptsAnything = map[string]string{
	"environment":    "any name; a deployment without one is refused later (the app's table covers it)",
	"environment_id": "any id; an empty slug is refused later",
	"pipeline_id":    "any id; a missing one is refused later",
	"pipeline_name":  "free text",
	"display_name":   "free text, clipped to Jira's length with a warning",
	"label":          "free text, clipped to Jira's length with a warning",
	"description":    "free text, clipped to Jira's length with a warning",
	"commits_since":  "a ref that cannot be read is a warning: the step still sends what it found",
	"test_results":   "patterns that match nothing are a warning: the build is sent without test results",
}

const badValueSecret = "canary-secret-123"

// TestEverySettingHasABadValueCase fails when a setting is added without a
// bad-value case (or a reason it accepts anything).
func TestEverySettingHasABadValueCase(t *testing.T) {
	names := map[string]bool{}
	for _, r := range Table() {
		names[r.Name] = true
		_, bad := badValues[r.Name]
		_, any := acceptsAnything[r.Name]
		if bad == any {
			t.Errorf("setting %s: add a case to badValues (or, if it takes any value, a reason to acceptsAnything)", r.Name)
		}
	}
	for name := range badValues {
		if !names[name] {
			t.Errorf("badValues names %s, which is no setting", name)
		}
	}
	for name := range acceptsAnything {
		if !names[name] {
			t.Errorf("acceptsAnything names %s, which is no setting", name)
		}
	}
}

// TestEveryBadValueNamesTheSetting gives every bad value through every
// source (--flag, INPUT_, PLUGIN_, JIRA_): the error names the setting and
// says what is accepted, and never repeats the secret.
func TestEveryBadValueNamesTheSetting(t *testing.T) {
	base := map[string]string{"client_id": "id", "client_secret": badValueSecret, "site": "acme.atlassian.net"}
	for _, r := range Table() {
		for _, bv := range badValues[r.Name] {
			sources := []string{"flag", "INPUT_", "PLUGIN_", "JIRA_"}
			if bv.missing {
				sources = []string{""}
			}
			for _, src := range sources {
				var args, environ []string
				for k, v := range base {
					if k != r.Name {
						environ = append(environ, "JIRA_"+strings.ToUpper(k)+"="+v)
					}
				}
				environ = append(environ, bv.with...)
				switch {
				case bv.missing:
				case src == "flag":
					args = []string{r.Flag() + "=" + bv.value}
				default:
					environ = append(environ, src+strings.ToUpper(r.Name)+"="+bv.value)
				}
				what := src + r.Name + "=" + clipValue(bv.value)
				_, err := Load(args, environ)
				var errs Errors
				if !errors.As(err, &errs) {
					t.Errorf("%s: err = %v, want Errors", what, err)
					continue
				}
				i := slices.IndexFunc(errs, func(e *Error) bool { return e.Setting == r.Name })
				if i < 0 || !strings.Contains(errs[i].Error(), "setting "+r.Name+":") || !strings.Contains(errs[i].Error(), bv.says) {
					t.Errorf("%s: error %q; want it to name %s and say %q", what, err, r.Name, bv.says)
				}
				if strings.Contains(err.Error(), badValueSecret) {
					t.Errorf("%s: error repeats the secret: %v", what, err)
				}
			}
		}
	}
}

func clipValue(v string) string {
	if len(v) > 20 {
		return v[:20] + "..."
	}
	return v
}

// TestAcceptsAnything: the settings said to take any value do.
func TestAcceptsAnything(t *testing.T) {
	for name := range acceptsAnything {
		for _, v := range []string{"x", "ünïcode ✓", strings.Repeat("long ", 200), "a/b?c#d", `["not","a","list"]`} {
			env := append(append([]string{}, creds...), "JIRA_"+strings.ToUpper(name)+"="+v)
			if _, err := Load(nil, env); err != nil {
				t.Errorf("%s=%q: %v", name, clipValue(v), err)
			}
		}
	}
}
