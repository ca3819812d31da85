package settings

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bmatcuk/doublestar/v4"
	env "github.com/caarlos0/env/v10"

	"github.com/jira-cicd/jira-cicd/internal/cienv"
	"github.com/jira-cicd/jira-cicd/internal/devinfo"
	"github.com/jira-cicd/jira-cicd/internal/issuekeys"
	"github.com/jira-cicd/jira-cicd/internal/netrule"
	"github.com/jira-cicd/jira-cicd/internal/state"
)

// ErrHelp is returned by Load when --help was asked for.
var ErrHelp = errors.New("help requested")

// ErrVersion is returned by Load when --version was asked for.
var ErrVersion = errors.New("version requested")

// Load reads every setting from the flags in args and the variables in
// environ ("NAME=value" pairs, as os.Environ gives them), first non-empty
// source winning: --flag, INPUT_NAME, PLUGIN_NAME, JIRA_NAME. It checks every
// value and returns all invalid settings at once as Errors, along with what
// could be read (so the caller can still mask the secret it holds).
func Load(args []string, environ []string) (*Settings, error) {
	vars := cienv.EnvironMap(environ)
	flags, err := parseFlags(args)
	if err != nil {
		return nil, err
	}
	merged := map[string]string{}
	var errs Errors
	for _, r := range table {
		v, ok, err := lookup(r, flags, vars)
		if err != nil {
			errs = append(errs, &Error{Setting: r.Name, Msg: err.Error()})
			continue
		}
		if ok {
			// Surrounding whitespace (a YAML block's last newline) is never
			// part of a value.
			merged[r.Name] = strings.TrimSpace(v)
		}
	}
	s := &Settings{}
	if err := env.ParseWithOptions(s, env.Options{Environment: merged}); err != nil {
		errs = append(errs, parseErrors(err, merged)...)
	}
	errs = append(errs, s.validate()...)
	if len(errs) > 0 {
		return s, errs
	}
	return s, nil
}

// lookup finds a setting's value in the sources, in order. Empty values count
// as unset (GitHub passes every declared input, empty when not given).
func lookup(r Row, flags map[string]string, vars map[string]string) (string, bool, error) {
	if v, ok := flags[r.Name]; ok {
		return v, true, nil
	}
	for _, name := range r.EnvNames() {
		if v := strings.TrimSpace(vars[name]); v != "" {
			return vars[name], true, nil
		}
		// Bitbucket pipes pass a list variable as NAME_COUNT, NAME_0, ...
		if r.List {
			if v, ok, err := bitbucketList(name, vars); ok || err != nil {
				return v, ok, err
			}
		}
	}
	// Bitbucket pipes document DEBUG=true for every pipe.
	if r.Name == "debug" && strings.TrimSpace(vars["DEBUG"]) != "" {
		return vars["DEBUG"], true, nil
	}
	return "", false, nil
}

// MaxListItems caps a list given as NAME_COUNT, NAME_0, ...: the count is
// read before any item, so without a cap it sizes an allocation and a loop
// (4611686018427387904 panicked, 1000000000 ran for minutes). 1000 is above
// every limit a list meets on the way to Jira: 100 issue keys per build, 500
// association values (keys and service ids together) per deployment, and a
// handful of projects or test report patterns.
const MaxListItems = 1000

func bitbucketList(name string, vars map[string]string) (string, bool, error) {
	raw, given := vars[name+"_COUNT"]
	raw = strings.TrimSpace(raw)
	if !given || raw == "" {
		return "", false, nil
	}
	n, err := strconv.ParseUint(raw, 10, 64)
	switch {
	case err != nil && errors.Is(err, strconv.ErrRange), err == nil && n > MaxListItems:
		return "", false, fmt.Errorf("%s_COUNT=%s: a list takes at most %d items", name, clip(raw, 30), MaxListItems)
	case err != nil:
		return "", false, fmt.Errorf("%s_COUNT=%q is not a whole number of items (0 to %d)", name, clip(raw, 30), MaxListItems)
	case n == 0:
		return "", false, nil
	}
	items := make([]string, 0, n)
	for i := range int(n) {
		if v := strings.TrimSpace(vars[name+"_"+strconv.Itoa(i)]); v != "" {
			items = append(items, v)
		}
	}
	// A JSON array keeps items with commas or spaces whole.
	b, _ := json.Marshal(items)
	return string(b), len(items) > 0, nil
}

// clip shortens a value quoted in a message.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// flagValue records what was given on the command line.
type flagValue struct {
	name   string
	isBool bool
	into   map[string]string
}

func (f *flagValue) String() string     { return "" }
func (f *flagValue) Set(v string) error { f.into[f.name] = v; return nil }
func (f *flagValue) IsBoolFlag() bool   { return f.isBool }

func parseFlags(args []string) (map[string]string, error) {
	got := map[string]string{}
	if len(args) == 0 {
		// A CI step has no arguments: no flag set to build.
		return got, nil
	}
	fs := flag.NewFlagSet("jira-cicd", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	for _, r := range table {
		fs.Var(&flagValue{name: r.Name, isBool: r.Bool, into: got}, strings.TrimPrefix(r.Flag(), "--"), r.Help)
	}
	version := fs.Bool("version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, ErrHelp
		}
		return nil, Errors{{Setting: "flags", Msg: err.Error() + "; run with --help for the settings"}}
	}
	if *version {
		return nil, ErrVersion
	}
	if fs.NArg() > 0 {
		return nil, Errors{{Setting: "flags", Msg: fmt.Sprintf("unexpected argument %q; every setting is a --flag or an environment variable (see --help)", fs.Arg(0))}}
	}
	return got, nil
}

// parseErrors turns caarlos0/env's errors into Errors naming the setting.
func parseErrors(err error, merged map[string]string) Errors {
	var agg env.AggregateError
	if !errors.As(err, &agg) {
		return Errors{{Setting: "settings", Msg: err.Error()}}
	}
	var out Errors
	for _, e := range agg.Errors {
		var pe env.ParseError
		if errors.As(e, &pe) {
			r, ok := rowByField(pe.Name)
			if ok {
				msg := describe(r, merged[r.Name], pe.Err)
				out = append(out, &Error{Setting: r.Name, Msg: msg})
				continue
			}
		}
		out = append(out, &Error{Setting: "settings", Msg: e.Error()})
	}
	return out
}

func describe(r Row, value string, err error) string {
	var ae *acceptError
	if errors.As(err, &ae) {
		return ae.Error()
	}
	if r.Secret {
		return "invalid value"
	}
	k := kindOf(r.field)
	if k == "a valid value" {
		return fmt.Sprintf("%q: %v", value, err)
	}
	return fmt.Sprintf("%q is not %s", value, k)
}

// validate checks what parsing cannot: required settings, shapes, ranges.
func (s *Settings) validate() Errors {
	var errs Errors
	add := func(setting, format string, a ...any) {
		errs = append(errs, &Error{Setting: setting, Msg: fmt.Sprintf(format, a...)})
	}
	if !s.DryRun {
		if strings.TrimSpace(s.ClientID) == "" {
			add("client_id", "required: the client id of a Jira OAuth credential (or set dry_run to only print the record)")
		}
		if s.ClientSecret == "" {
			add("client_secret", "required: the secret of that Jira OAuth credential (or set dry_run)")
		}
		if s.Site == "" && s.CloudID == "" {
			add("site", "required unless cloud_id is given: your Jira site, such as acme.atlassian.net")
		}
	}
	if s.Site != "" {
		site, err := NormalizeSite(s.Site)
		if err != nil {
			add("site", "%v", err)
		} else {
			s.Site = site
		}
	}
	if u, err := checkURL(s.APIURL); err != nil {
		add("api_url", "%v", err)
	} else {
		s.APIURL = u
	}
	if s.CloudID != "" && !ValidCloudID(s.CloudID) {
		add("cloud_id", "%q is not a cloud id (a UUID such as 0b6c5d1e-7f2a-4c3b-9d8e-1a2b3c4d5e6f); use the cloudId from https://<site>/_edge/tenant_info", s.CloudID)
	}
	if s.Type = strings.ToLower(s.Type); s.Type != "" && !slices.Contains(Types, s.Type) {
		add("type", "%q is not accepted; use one of: %s", s.Type, strings.Join(Types, ", "))
	}
	if s.State != "" && !state.Known(s.State) {
		add("state", "%q is not a known state; accepted: %s", s.State, strings.Join(state.Accepted(), ", "))
	}
	if s.BuildNumber != "" {
		if n, err := strconv.ParseInt(strings.TrimSpace(s.BuildNumber), 10, 64); err != nil || n < 0 {
			add("build_number", "%q is not a whole number of 0 or more", s.BuildNumber)
		}
	}
	if s.URL != "" {
		if u, err := url.Parse(s.URL); err != nil || !u.IsAbs() || u.Host == "" {
			add("url", "%q is not an absolute URL such as https://ci.example.com/build/1", s.URL)
		}
	}
	for _, k := range s.IssueKeys {
		if !issuekeys.Valid(strings.ToUpper(k)) {
			add("issue_keys", "%q is not a Jira issue key such as ABC-123", k)
		}
	}
	for i, p := range s.ProjectKeys {
		p = strings.ToUpper(p)
		if !issuekeys.ValidProject(p) {
			add("project_keys", "%q is not a Jira project key such as ABC (a letter, then letters, digits or _)", s.ProjectKeys[i])
		}
		s.ProjectKeys[i] = p
	}
	for _, id := range s.ServiceIDs {
		if len(id) > 255 {
			add("service_ids", "%q is longer than Jira's 255 characters", id[:40]+"...")
		}
	}
	if s.MaxCommits < 1 {
		add("max_commits", "%d is not accepted; use a whole number of 1 or more", s.MaxCommits)
	}
	// A shorter timeout cannot hold one request, and a shorter interval
	// polls Jira thousands of times a minute.
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"timeout", s.Timeout}, {"gating_interval", s.GatingInterval}} {
		if d.v < minDuration {
			add(d.name, "%v is too short; use a Go duration of at least 1s, such as 30s or 5m", d.v)
		}
	}
	if s.GatingTimeout <= 0 {
		add("gating_timeout", "must be a positive Go duration such as 30s or 5m")
	}
	if s.Forge != "" {
		if f, err := devinfo.ParseForge(s.Forge); err != nil {
			add("forge", "%q is not accepted; use one of: github (also Enterprise), gitlab, gitea (also Forgejo, Codeberg), bitbucket (Cloud), bitbucket_dc (Data Center)", clip(s.Forge, 40))
		} else {
			s.Forge = string(f)
		}
	}
	if s.RepositoryURL != "" {
		if u, err := url.Parse(s.RepositoryURL); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			add("repository_url", "%q is not an http(s) URL such as https://git.example.com/team/app", clip(s.RepositoryURL, 100))
		} else if u.User != nil {
			add("repository_url", "a URL with credentials in it is not accepted; give the repository's web page, such as https://git.example.com/team/app")
		}
	}
	for i, p := range s.Paths {
		p = strings.TrimPrefix(strings.TrimSpace(p), "./")
		switch {
		case strings.HasPrefix(p, "/") || p == ".." || strings.HasPrefix(p, "../"):
			add("paths", "%q is not relative to the repository root; give globs such as services/cart/**", clip(s.Paths[i], 100))
		case !doublestar.ValidatePattern(p):
			add("paths", "%q is not a valid glob; give globs such as services/cart/** (* within a directory, ** across directories, {a,b}, [abc])", clip(s.Paths[i], 100))
		default:
			s.Paths[i] = p
		}
	}
	if s.DevelopmentInfo == DevInfoOnly && s.Gating {
		add("development_info", "only sends no deployment, so gating cannot apply; remove gating or set development_info: true")
	}
	if s.Gating && s.Type == "build" {
		add("gating", "applies to deployments only; remove it or set type: deployment")
	}
	return errs
}

// NormalizeSite turns `acme`, `acme.atlassian.net` or a URL into the site's
// base URL (scheme and host, no path). Plain http is accepted for loopback
// hosts only.
func NormalizeSite(site string) (string, error) {
	s := strings.TrimRight(strings.TrimSpace(site), "/")
	if !strings.Contains(s, "://") {
		if !strings.Contains(s, ".") && !strings.Contains(s, ":") {
			s += ".atlassian.net"
		}
		s = "https://" + s
	}
	u, err := checkURL(s)
	if err != nil {
		return "", err
	}
	p, _ := url.Parse(u)
	if p.Path != "" && p.Path != "/" {
		return "", fmt.Errorf("%q has a path; give the site only, such as acme.atlassian.net", site)
	}
	return p.Scheme + "://" + p.Host, nil
}

// minDuration is the shortest timeout and gating_interval accepted.
const minDuration = time.Second

// ValidCloudID reports whether id is a cloud id: a UUID such as
// 0b6c5d1e-7f2a-4c3b-9d8e-1a2b3c4d5e6f. The id goes into request paths, so
// nothing else (`..`, `/`, `%2F`) is ever accepted.
func ValidCloudID(id string) bool { return netrule.IsCloudID(id) }

// checkURL accepts https URLs, and http ones whose host is loopback. Neither
// may carry credentials, a query, a fragment or a port outside 1-65535.
func checkURL(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		shown := raw
		if err == nil {
			shown = u.Redacted()
		} else if strings.Contains(raw, "@") {
			shown = "(a value with credentials)"
		}
		if err != nil && strings.Contains(err.Error(), "invalid port") {
			return "", fmt.Errorf("%q has an invalid port; a port is a number from 1 to 65535", shown)
		}
		return "", fmt.Errorf("%q is not an https URL", shown)
	}
	if u.User != nil {
		return "", fmt.Errorf("a URL with credentials in it is not accepted; use client_id and client_secret")
	}
	if u.RawQuery != "" || u.ForceQuery {
		return "", fmt.Errorf("%q has a query (?...); give the URL without one", u.Redacted())
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return "", fmt.Errorf("%q has a fragment (#...); give the URL without one", raw)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "", fmt.Errorf("%q has port %s; a port is a number from 1 to 65535", raw, p)
		}
	}
	if u.Scheme == "http" && !netrule.IsLoopback(u.Hostname()) {
		return "", fmt.Errorf("%q uses plain http; only https is accepted (http only for loopback hosts)", raw)
	}
	return strings.TrimRight(u.String(), "/"), nil
}
