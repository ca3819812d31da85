// Package settings is the one table of the step's settings. Each field of
// Settings is a row: its `env` tag is the setting's name, `envDefault` its
// default, `help` its meaning, `doc` what the docs say about its default when
// that is not a plain value. The flags, the four environment sources, --help,
// and the docs' tables are all generated from it.
package settings

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Settings holds every setting after parsing. The zero value of an optional
// setting means "not given": the CI context or a derived default fills it.
type Settings struct {
	ClientID     string `env:"client_id" group:"Jira" doc:"required, except with dry_run" help:"Client id of the Jira OAuth credential (Jira settings > Apps > OAuth credentials)."`
	ClientSecret Secret `env:"client_secret" group:"Jira" doc:"required, except with dry_run" help:"Secret of that OAuth credential. Never printed."`
	Site         string `env:"site" group:"Jira" doc:"required unless cloud_id" help:"Jira site, acme.atlassian.net or its URL. Used to look up the cloud id and to link issues."`
	CloudID      string `env:"cloud_id" group:"Jira" help:"Cloud id of the site; skips the lookup on the site."`
	APIURL       string `env:"api_url" envDefault:"https://api.atlassian.com" group:"Jira" help:"Base URL of the token endpoint ({api_url}/oauth/token) and of the Builds and Deployments APIs."`

	Type            string  `env:"type" group:"Record" doc:"deployment when an environment is known, else build" help:"What to send: build or deployment."`
	State           string  `env:"state" group:"Record" doc:"the CI's status where it has one, else successful" help:"Jira state (pending, in_progress, successful, failed, cancelled, unknown; deployments also rolled_back) or a CI word (success, failure, cancelled, skipped, running, error, killed, aborted, ...), mapped."`
	Environment     string  `env:"environment" group:"Record" doc:"the CI's deployment environment, where it has one" help:"Deployment environment name."`
	EnvironmentID   string  `env:"environment_id" group:"Record" doc:"a slug of environment" help:"Deployment environment id; the same name gives the same id on every run."`
	EnvironmentType EnvType `env:"environment_type" group:"Record" doc:"inferred from the name, else unmapped" help:"development, testing, staging, production or unmapped. Inferred: prod/prd/live -> production; stag/stg/preprod -> staging; test/qa/uat/sit -> testing; dev -> development."`
	IssueKeys       List    `env:"issue_keys" group:"Record" help:"Extra issue keys, separated by commas, spaces or newlines."`
	ProjectKeys     List    `env:"project_keys" group:"Record" doc:"any project" help:"Only keys of these Jira projects are sent; for them, lower-case keys in branch names match too (feature/abc-12 -> ABC-12)."`
	ServiceIDs      List    `env:"service_ids" group:"Record" help:"Jira service ids or keys to associate with a deployment."`
	PipelineID      string  `env:"pipeline_id" group:"Record" doc:"from the CI (stable across runs)" help:"Pipeline id; the same workflow must give the same id on every run."`
	PipelineName    string  `env:"pipeline_name" group:"Record" doc:"from the CI" help:"Pipeline display name."`
	BuildNumber     string  `env:"build_number" group:"Record" doc:"from the CI" help:"Build number (a whole number); the deployment sequence number for deployments."`
	URL             string  `env:"url" group:"Record" doc:"the CI's run URL" help:"Link to the build or deployment run."`
	DisplayName     string  `env:"display_name" group:"Record" doc:"from the CI" help:"Display name of the record."`
	Label           string  `env:"label" group:"Record" doc:"the tag, else the short commit sha" help:"Label of the record (a version, a tag)."`
	Description     string  `env:"description" group:"Record" doc:"from the CI" help:"Description of the record."`

	CommitsSince   string        `env:"commits_since" group:"Commits and tests" doc:"the CI's previous commit, where it has one" help:"Scan every commit message since this sha, tag or ref (last_tag: the nearest tag before HEAD)."`
	MaxCommits     int           `env:"max_commits" envDefault:"1000" group:"Commits and tests" help:"At most this many commits are scanned."`
	Paths          List          `env:"paths" group:"Commits and tests" doc:"every file" help:"Monorepos: only commits that change a file matching one of these globs (relative to the repository root, ** allowed, such as services/cart/**) give their keys, to the record and to development information; a merge counts by its diff against its first parent."`
	TestResults    List          `env:"test_results" group:"Commits and tests" help:"Glob patterns (** allowed, relative to the workspace) of JUnit XML files whose totals are sent with a build."`
	Gating         bool          `env:"gating" envDefault:"false" group:"Gating" help:"Ask Jira to gate the deployment and wait until it is allowed; anything else fails the step, whatever fail_on_error says."`
	GatingInterval time.Duration `env:"gating_interval" envDefault:"30s" group:"Gating" help:"How often to ask for the gating status (Go duration)."`
	GatingTimeout  time.Duration `env:"gating_timeout" envDefault:"30m" group:"Gating" help:"How long to wait for a gating decision (Go duration); each status request is bounded by timeout."`

	DevelopmentInfo DevInfoMode `env:"development_info" envDefault:"false" group:"Development information" help:"Also send the commits, branch and pull request whose messages, name or title name issue keys to Jira's development panel (true), or only them and no build or deployment (only). The credential needs the Development information permission."`
	Forge           string      `env:"forge" group:"Development information" doc:"inferred from the CI and the repository URL" help:"Where the repository lives, for the links sent: github (also Enterprise), gitlab, gitea (also Forgejo, Codeberg), bitbucket (Cloud) or bitbucket_dc (Data Center)."`
	RepositoryURL   string      `env:"repository_url" group:"Development information" doc:"the CI's repository web URL" help:"Web URL of the repository, for the development information's id and links."`

	DryRun      bool          `env:"dry_run" envDefault:"false" group:"Behaviour" help:"Print the exact body that would be sent, as JSON on stdout; contact nothing, need no credentials."`
	FailOnError bool          `env:"fail_on_error" envDefault:"true" group:"Behaviour" help:"A Jira or network failure fails the step; false: warn and exit 0."`
	Timeout     time.Duration `env:"timeout" envDefault:"60s" group:"Behaviour" help:"Bound on the submission's network work, and on each gating status request (Go duration)."`
	Debug       bool          `env:"debug" envDefault:"false" group:"Behaviour" help:"Verbose log (never a secret or a token)."`
}

// Types are the accepted values of the type setting ("" = infer). The
// record package turns the value into its own Kind.
var Types = []string{"build", "deployment"}

// EnvType is a Jira environment type ("" = infer from the name).
type EnvType string

// EnvTypes are Jira's environment types.
var EnvTypes = []string{"development", "testing", "staging", "production", "unmapped"}

// UnmarshalText accepts one of EnvTypes.
func (t *EnvType) UnmarshalText(b []byte) error {
	v := strings.ToLower(strings.TrimSpace(string(b)))
	if v == "" || slices.Contains(EnvTypes, v) {
		*t = EnvType(v)
		return nil
	}
	return acceptErr(string(b), strings.Join(EnvTypes, ", "))
}

// DevInfoMode is the development_info setting.
type DevInfoMode string

// Values of development_info.
const (
	DevInfoOff  DevInfoMode = "false"
	DevInfoOn   DevInfoMode = "true"
	DevInfoOnly DevInfoMode = "only"
)

// On reports whether development information is sent (true or only).
func (m DevInfoMode) On() bool { return m == DevInfoOn || m == DevInfoOnly }

// UnmarshalText accepts true, false (and the other spellings of a boolean
// setting) or only.
func (m *DevInfoMode) UnmarshalText(b []byte) error {
	v := strings.ToLower(strings.TrimSpace(string(b)))
	switch v {
	case "", "false", "0", "f", "no", "off":
		*m = DevInfoOff
	case "true", "1", "t", "yes", "on":
		*m = DevInfoOn
	case "only":
		*m = DevInfoOnly
	default:
		return acceptErr(string(b), "false, true, only")
	}
	return nil
}

// Secret is a string that never prints itself.
type Secret string

// String hides the value.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "***"
}

// GoString hides the value from %#v.
func (s Secret) GoString() string { return s.String() }

// Value returns the secret itself, for the one place that needs it.
func (s Secret) Value() string { return string(s) }

// UnmarshalText keeps the value as it is.
func (s *Secret) UnmarshalText(b []byte) error { *s = Secret(strings.TrimSpace(string(b))); return nil }

// List is a list setting. It accepts values separated by commas, spaces or
// newlines (Drone and Woodpecker join a YAML list of plain values with
// commas; a GitHub input is one string) or a JSON array (what Drone and
// Woodpecker send when a list holds anything else, such as a from_secret
// entry, which Woodpecker replaces by the secret's value).
type List []string

// UnmarshalText splits the value.
func (l *List) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	if strings.HasPrefix(s, "[") {
		var arr []any
		d := json.NewDecoder(strings.NewReader(s))
		d.UseNumber()
		if err := d.Decode(&arr); err != nil || d.More() {
			if err == nil {
				err = fmt.Errorf("text after the array")
			}
			return fmt.Errorf("%q looks like a JSON array but is not one (%v)", s, err)
		}
		out := List{}
		for _, v := range arr {
			switch v := v.(type) {
			case string:
				out = append(out, splitList(v)...)
			case json.Number:
				out = append(out, v.String())
			case bool:
				out = append(out, fmt.Sprint(v))
			case nil:
				// YAML's empty list item.
			default:
				return fmt.Errorf("JSON array items must be strings, numbers or booleans, got %v", v)
			}
		}
		*l = out
		return nil
	}
	*l = splitList(s)
	return nil
}

func splitList(s string) List {
	out := List{}
	for _, f := range strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' || r == ';'
	}) {
		out = append(out, f)
	}
	return out
}

type acceptError struct{ value, accepts string }

func (e *acceptError) Error() string {
	return fmt.Sprintf("%q is not accepted; use one of: %s", e.value, e.accepts)
}

func acceptErr(v, accepts string) error { return &acceptError{value: v, accepts: accepts} }

// Error is an invalid setting. It names the setting and what is accepted; it
// never repeats a secret's value.
type Error struct {
	Setting string
	Msg     string
}

func (e *Error) Error() string { return fmt.Sprintf("setting %s: %s", e.Setting, e.Msg) }

// Errors is every invalid setting found at once.
type Errors []*Error

func (es Errors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}
