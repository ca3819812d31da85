// Package record turns the settings and the CI context into the one build or
// deployment record Jira receives. It is pure: the clock and every input come
// in as values.
package record

import (
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jira-cicd/jira-cicd/internal/cienv"
	"github.com/jira-cicd/jira-cicd/internal/issuekeys"
	"github.com/jira-cicd/jira-cicd/internal/jira"
	"github.com/jira-cicd/jira-cicd/internal/settings"
	"github.com/jira-cicd/jira-cicd/internal/state"
)

// Jira's limits (the OpenAPI document and CONTRACT.md).
const (
	maxText             = 255  // displayName, description, label, ids
	maxURL              = 2000 // url fields
	MaxBuildKeys        = 100  // issueKeys per build
	MaxAssociationTotal = 500  // association values per deployment, all types
)

// Plan is everything the record needs except the issue keys: resolved from
// settings first, then the CI, then derived defaults.
type Plan struct {
	Kind         settings.Kind
	State        string // a Jira state
	PipelineID   string
	PipelineName string
	BuildNumber  int64
	URL          string
	DisplayName  string
	Label        string
	Description  string
	SHA          string
	Ref          string // branch or tag
	RepoURL      string
	Environment  jira.Environment // deployments only
	ServiceIDs   []string
	Gating       bool
	Now          time.Time
	Notes        []string // derived defaults worth telling the user
}

// Resolve decides every field of the record. Its errors are *settings.Error:
// a value that is missing or that the CI gave in a form Jira cannot take.
func Resolve(s *settings.Settings, c cienv.Context, now time.Time) (Plan, error) {
	p := Plan{Now: now, SHA: c.SHA, RepoURL: c.RepoURL, ServiceIDs: s.ServiceIDs, Gating: s.Gating}
	p.Ref = c.Branch
	if c.Tag != "" {
		p.Ref = c.Tag
	}

	envName := or(s.Environment, c.Environment)
	p.Kind = s.Type
	if p.Kind == "" {
		p.Kind = settings.Build
		if envName != "" {
			p.Kind = settings.Deployment
		}
	}
	deployment := p.Kind == settings.Deployment

	switch {
	case s.State != "":
		st, err := state.Map(s.State, deployment)
		if err != nil {
			return p, &settings.Error{Setting: "state", Msg: err.Error()}
		}
		p.State = st
	case c.Status != "":
		st, err := state.Map(c.Status, deployment)
		if err != nil {
			return p, &settings.Error{Setting: "state", Msg: fmt.Sprintf("%s reported a status this tool cannot map (%v); set state", c.Name, err)}
		}
		p.State = st
	default:
		p.State = state.Successful
	}

	p.PipelineID = or(s.PipelineID, c.PipelineID)
	if p.PipelineID == "" {
		return p, &settings.Error{Setting: "pipeline_id", Msg: fmt.Sprintf("%s gives no pipeline id; set pipeline_id to a name that stays the same across runs", c.Name)}
	}
	p.PipelineName = or(s.PipelineName, c.PipelineName, c.RepoName, p.PipelineID)

	switch n := or(s.BuildNumber, c.BuildNumber); {
	case n != "":
		v, err := strconv.ParseInt(strings.TrimSpace(n), 10, 64)
		if err != nil || v < 0 {
			return p, &settings.Error{Setting: "build_number", Msg: fmt.Sprintf("%q from %s is not a whole number; set build_number", n, c.Name)}
		}
		p.BuildNumber = v
	case c.CI == cienv.CILocal:
		// Outside a CI there is no run number: seconds since the epoch
		// increase from run to run, as Jira needs.
		p.BuildNumber = now.Unix()
		p.Notes = append(p.Notes, "no CI run number outside a CI: build_number is the current time in seconds")
	default:
		return p, &settings.Error{Setting: "build_number", Msg: fmt.Sprintf("%s gives no build number; set build_number", c.Name)}
	}

	p.URL = or(s.URL, c.BuildURL)
	if p.URL == "" {
		return p, &settings.Error{Setting: "url", Msg: fmt.Sprintf("%s gives no link to this run; set url", c.Name)}
	}

	short := p.SHA
	if len(short) > 7 {
		short = short[:7]
	}
	p.Label = or(s.Label, c.Tag, short)
	p.DisplayName = or(s.DisplayName, fmt.Sprintf("%s #%d", p.PipelineName, p.BuildNumber))

	if deployment {
		if envName == "" {
			return p, &settings.Error{Setting: "environment", Msg: "a deployment needs an environment name; set environment (or type: build)"}
		}
		p.Environment = jira.Environment{
			ID:          or(s.EnvironmentID, Slug(envName)),
			DisplayName: envName,
			Type:        or(string(s.EnvironmentType), validEnvType(c.EnvironmentType), InferEnvType(envName)),
		}
		if p.Environment.ID == "" {
			return p, &settings.Error{Setting: "environment_id", Msg: fmt.Sprintf("environment %q gives an empty id; set environment_id", envName)}
		}
	}
	p.Description = or(s.Description, describe(p, c))
	return p, nil
}

func describe(p Plan, c cienv.Context) string {
	what := or(c.RepoName, p.PipelineName)
	if p.Ref != "" {
		what += " " + p.Ref
	}
	if p.Label != "" && p.Label != p.Ref {
		what += " (" + p.Label + ")"
	}
	if p.Kind == settings.Deployment {
		return fmt.Sprintf("Deploy %s to %s", what, p.Environment.DisplayName)
	}
	return "Build " + what
}

// Slug makes a stable environment id from its name: lower case, runs of other
// characters as one dash, at most 255 characters. The same name always gives
// the same id, so Jira keeps one row per environment.
func Slug(name string) string {
	s := nonSlug.ReplaceAllString(strings.ToLower(name), "-")
	s = strings.Trim(s, "-")
	if len(s) > maxText {
		s = strings.TrimRight(s[:maxText], "-")
	}
	return s
}

var nonSlug = regexp.MustCompile(`[^a-z0-9_.]+`)

// InferEnvType guesses Jira's environment type from a name, word by word:
// stag/stg/preprod -> staging; prod/prd/live -> production; test/qa/uat/sit
// -> testing; dev -> development; else unmapped.
func InferEnvType(name string) string {
	words := strings.FieldsFunc(strings.ToLower(name), func(r rune) bool {
		return !(r >= 'a' && r <= 'z')
	})
	has := func(match func(w string, i int) bool) bool {
		for i, w := range words {
			if match(w, i) {
				return true
			}
		}
		return false
	}
	switch {
	case has(func(w string, i int) bool {
		return strings.HasPrefix(w, "stag") || w == "stg" || strings.HasPrefix(w, "preprod") ||
			(w == "pre" && i+1 < len(words) && strings.HasPrefix(words[i+1], "prod"))
	}):
		return "staging"
	case has(func(w string, _ int) bool { return strings.HasPrefix(w, "prod") || w == "prd" || w == "live" }):
		return "production"
	case has(func(w string, _ int) bool {
		return strings.HasPrefix(w, "test") || w == "qa" || w == "uat" || w == "sit"
	}):
		return "testing"
	case has(func(w string, _ int) bool { return strings.HasPrefix(w, "dev") }):
		return "development"
	}
	return "unmapped"
}

func validEnvType(t string) string {
	t = strings.ToLower(strings.TrimSpace(t))
	for _, e := range settings.EnvTypes {
		if t == e {
			return t
		}
	}
	return ""
}

func or(vals ...string) string {
	for _, v := range vals {
		if strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// Keys gathers the issue keys in order of relevance: issue_keys, the branch,
// the pull request title, then commit messages (newest first).
func Keys(s *settings.Settings, c cienv.Context, commits []string) []issuekeys.Found {
	set := issuekeys.New(s.ProjectKeys).NewSet()
	set.AddKeys(issuekeys.Explicit, s.IssueKeys...)
	if !prHeadName(c.Branch) || len(s.ProjectKeys) > 0 {
		set.Add(issuekeys.Branch, c.Branch)
	}
	set.Add(issuekeys.Title, c.PRTitle)
	set.Add(issuekeys.Commit, commits...)
	return set.Found()
}

// prHeadName reports branch names that CIs make up for pull requests
// (PR-24, MR-3): key-shaped, but not issue keys.
func prHeadName(branch string) bool {
	b := path.Base(branch)
	for _, p := range []string{"PR-", "MR-", "pr-", "mr-"} {
		if n, ok := strings.CutPrefix(b, p); ok {
			if _, err := strconv.Atoi(n); err == nil {
				return true
			}
		}
	}
	return false
}
