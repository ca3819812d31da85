// Package record turns the settings and the CI context into the one build or
// deployment record Jira receives. It is pure: the clock and every input come
// in as values.
package record

import (
	"cmp"
	"fmt"
	"net/url"
	"path"
	"slices"
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

// Kind is the record type: a build or a deployment.
type Kind string

// Record kinds.
const (
	Build      Kind = "build"
	Deployment Kind = "deployment"
)

// Error is a value the record needs and cannot have: missing, or given (by
// the settings or the CI) in a form Jira cannot take. It names the settings
// that would fix it.
type Error struct {
	Settings []string
	Msg      string
}

func (e *Error) Error() string {
	if len(e.Settings) == 1 {
		return "setting " + e.Settings[0] + ": " + e.Msg
	}
	return "settings " + strings.Join(e.Settings, ", ") + ": " + e.Msg
}

// Errors is every problem Resolve found, so that one run names them all.
type Errors []*Error

func (es Errors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "; ")
}

// Unwrap lets errors.As find each *Error.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// Plan is everything the record needs except the issue keys: resolved from
// settings first, then the CI, then derived defaults.
type Plan struct {
	Kind         Kind
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

// missing is a value neither the settings nor the CI gave.
type missing struct{ setting, what string }

// Resolve decides every field of the record. Its error is Errors: every
// value that is missing or that the CI gave in a form Jira cannot take, the
// values the CI does not give named together in one *Error.
func Resolve(s *settings.Settings, c cienv.Context, now time.Time) (Plan, error) {
	p := Plan{Now: now, SHA: c.SHA, RepoURL: c.RepoURL, ServiceIDs: s.ServiceIDs, Gating: s.Gating}
	p.Ref = cmp.Or(c.Tag, c.Branch)
	var (
		errs   Errors
		absent []missing
	)
	fail := func(setting, format string, a ...any) {
		errs = append(errs, &Error{Settings: []string{setting}, Msg: fmt.Sprintf(format, a...)})
	}

	envName := cmp.Or(s.Environment, c.Environment)
	p.Kind = Kind(s.Type)
	if p.Kind == "" {
		p.Kind = Build
		if envName != "" {
			p.Kind = Deployment
		}
	}
	deployment := p.Kind == Deployment

	switch {
	case s.State != "":
		st, err := state.Map(s.State, deployment)
		if err != nil {
			fail("state", "%v", err)
		}
		p.State = st
	case c.Status != "":
		st, err := state.Map(c.Status, deployment)
		if err != nil {
			fail("state", "%s reported a status this tool cannot map (%v); set state", c.Name, err)
		}
		p.State = st
	default:
		p.State = state.Successful
	}

	p.PipelineID = cmp.Or(s.PipelineID, c.PipelineID)
	if p.PipelineID == "" {
		absent = append(absent, missing{"pipeline_id", "pipeline id"})
	}
	p.PipelineName = cmp.Or(s.PipelineName, c.PipelineName, c.RepoName, p.PipelineID)

	switch n := cmp.Or(s.BuildNumber, c.BuildNumber); {
	case n != "":
		v, err := strconv.ParseInt(n, 10, 64)
		if err != nil || v < 0 {
			fail("build_number", "%q from %s is not a whole number; set build_number", n, c.Name)
		}
		p.BuildNumber = v
	case c.CI == cienv.CILocal:
		// Outside a CI there is no run number: seconds since the epoch
		// increase from run to run, as Jira needs.
		p.BuildNumber = now.Unix()
		p.Notes = append(p.Notes, "no CI run number outside a CI: build_number is the current time in seconds")
	default:
		absent = append(absent, missing{"build_number", "build number"})
	}

	p.URL = cmp.Or(s.URL, c.BuildURL)
	if p.URL == "" {
		if link, what := fallbackLink(c); link != "" {
			p.URL = link
			p.Notes = append(p.Notes, fmt.Sprintf("%s gives no link to this run: the record links to the %s instead; set url to link the run", c.Name, what))
		} else {
			absent = append(absent, missing{"url", "link to this run"})
		}
	}

	short := p.SHA
	if len(short) > 7 {
		short = short[:7]
	}
	p.Label = cmp.Or(s.Label, c.Tag, short)
	p.DisplayName = cmp.Or(s.DisplayName, fmt.Sprintf("%s #%d", p.PipelineName, p.BuildNumber))

	if deployment {
		p.Environment = jira.Environment{
			ID:          cmp.Or(s.EnvironmentID, Slug(envName)),
			DisplayName: envName,
			Type:        cmp.Or(string(s.EnvironmentType), validEnvType(c.EnvironmentType), InferEnvType(envName)),
		}
		switch {
		case envName == "":
			fail("environment", "a deployment needs an environment name; set environment (or type: build)")
		case p.Environment.ID == "":
			fail("environment_id", "environment %q gives an empty id; set environment_id", envName)
		}
	}
	p.Description = cmp.Or(s.Description, describe(p, c))

	if len(absent) > 0 {
		e := &Error{}
		var whats []string
		for _, m := range absent {
			e.Settings = append(e.Settings, m.setting)
			whats = append(whats, "no "+m.what)
		}
		hint := ""
		if e.Settings[0] == "pipeline_id" {
			hint = " (pipeline_id: a name that stays the same across runs)"
		}
		e.Msg = fmt.Sprintf("%s gives %s; set %s%s", c.Name, and(whats), and(e.Settings), hint)
		errs = append(Errors{e}, errs...)
	}
	if len(errs) > 0 {
		return p, errs
	}
	return p, nil
}

// and joins words as a sentence does: "a", "a and b", "a, b and c".
func and(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}

// fallbackLink is the link a record gets when the CI gives none to the run:
// the commit's page where the CI says which forge hosts it, else the
// repository's. Only web (http or https) links count.
func fallbackLink(c cienv.Context) (link, what string) {
	u, err := url.Parse(c.RepoURL)
	if c.RepoURL == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", ""
	}
	repo := strings.TrimRight(c.RepoURL, "/")
	if c.SHA != "" && !strings.ContainsAny(c.SHA, "/?#") {
		switch c.CI {
		case cienv.CIGitHub:
			return repo + "/commit/" + c.SHA, "commit"
		case cienv.CIGitLab:
			return repo + "/-/commit/" + c.SHA, "commit"
		case cienv.CIBitbucket:
			return repo + "/commits/" + c.SHA, "commit"
		}
	}
	return repo, "repository"
}

func describe(p Plan, c cienv.Context) string {
	what := cmp.Or(c.RepoName, p.PipelineName)
	if p.Ref != "" {
		what += " " + p.Ref
	}
	if p.Label != "" && p.Label != p.Ref {
		what += " (" + p.Label + ")"
	}
	if p.Kind == Deployment {
		return fmt.Sprintf("Deploy %s to %s", what, p.Environment.DisplayName)
	}
	return "Build " + what
}

// Slug makes a stable environment id from its name: lower case, runs of other
// characters as one dash, at most 255 characters. The same name always gives
// the same id, so Jira keeps one row per environment.
func Slug(name string) string {
	s := strings.Trim(slugRuns(strings.ToLower(name)), "-")
	if len(s) > maxText {
		s = strings.TrimRight(s[:maxText], "-")
	}
	return s
}

// slugRuns replaces each run of bytes other than a-z, 0-9, '_' and '.' with
// one '-'. Byte by byte is the same as the regexp [^a-z0-9_.]+ over runes:
// every byte of a multi-byte UTF-8 character is >= 0x80, outside the set. A
// loop, not a regexp, so that no run compiles one at init (issue 12).
func slugRuns(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	run := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '.' {
			b.WriteByte(c)
			run = false
		} else if !run {
			b.WriteByte('-')
			run = true
		}
	}
	return b.String()
}

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
	if slices.Contains(settings.EnvTypes, t) {
		return t
	}
	return ""
}

// Keys gathers the issue keys in order of relevance: issue_keys, the branch,
// the pull request title, then commit messages (newest first). The warnings
// name the values that looked like keys but break Jira's pattern: they are
// left out, so that the rest can be sent.
func Keys(s *settings.Settings, c cienv.Context, commits []string) ([]issuekeys.Found, []string) {
	set := issuekeys.New(s.ProjectKeys).NewSet()
	set.AddKeys(issuekeys.Explicit, s.IssueKeys...)
	if BranchNamesKeys(s, c.Branch) {
		set.Add(issuekeys.Branch, c.Branch)
	}
	set.Add(issuekeys.Title, c.PRTitle)
	set.Add(issuekeys.Commit, commits...)
	var warnings []string
	if dropped, more := set.Dropped(); len(dropped) > 0 {
		shown := make([]string, len(dropped))
		for i, d := range dropped {
			shown[i] = shortKey(d)
		}
		list := strings.Join(shown, ", ")
		if more > 0 {
			list += fmt.Sprintf(" and %d more", more)
		}
		warnings = append(warnings, fmt.Sprintf("left out what looks like an issue key but is longer than Jira takes (255 characters before or after the dash), so that the rest can be sent: %s", list))
	}
	return set.Found(), warnings
}

// shortKey shows a long key-shaped value by its ends and its length.
func shortKey(v string) string {
	if len(v) <= 40 {
		return v
	}
	return fmt.Sprintf("%s...%s (%d characters)", v[:20], v[len(v)-10:], len(v))
}

// BranchNamesKeys reports whether the branch's name is a source of issue
// keys: not when it is a name CIs make up for pull requests (PR-24, MR-3),
// key-shaped but no issue key, unless project_keys names the projects meant.
// The record and the development information ask the same question.
func BranchNamesKeys(s *settings.Settings, branch string) bool {
	return !prHeadName(branch) || len(s.ProjectKeys) > 0
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
