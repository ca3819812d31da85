// Package app runs the step: settings + CI context -> record -> Jira ->
// report. It returns an exit code; only main exits.
package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/jira-cicd/jira-cicd/internal/cienv"
	"github.com/jira-cicd/jira-cicd/internal/devinfo"
	"github.com/jira-cicd/jira-cicd/internal/issuekeys"
	"github.com/jira-cicd/jira-cicd/internal/jira"
	"github.com/jira-cicd/jira-cicd/internal/record"
	"github.com/jira-cicd/jira-cicd/internal/report"
	"github.com/jira-cicd/jira-cicd/internal/settings"
)

// Exit codes.
const (
	ExitOK      = 0 // sent, skipped (no keys) or dry run
	ExitFailure = 1 // Jira or network failure, rejection, gating refusal
	ExitUsage   = 2 // invalid settings
)

// Env is everything the step reads from the outside world, injectable for
// tests.
type Env struct {
	Args    []string
	Environ []string // "NAME=value" pairs, as os.Environ gives them
	WorkDir string
	Stdout  io.Writer
	Stderr  io.Writer
	Now     func() time.Time
	// Sleep waits between gating polls; nil: a timer that stops early when
	// ctx ends. Tests pass one that advances a fake Now.
	Sleep func(ctx context.Context, d time.Duration) error
	// HTTPClient, when set, replaces the client built from the settings.
	HTTPClient *http.Client
	// Retry is the retry policy of the client built from the settings
	// (zero: jira.DefaultRetry); tests give it a fake clock.
	Retry   jira.Retry
	Version string
	// SignalsReady, when set, is closed once main stops the run on SIGTERM
	// and SIGINT (by cancelling its context). The run's first request waits
	// for it, so that a signal stops every request gracefully, one that hangs
	// included.
	SignalsReady <-chan struct{}
}

// Run runs the step once and returns its exit code.
func Run(ctx context.Context, e Env) int {
	if e.Now == nil {
		e.Now = time.Now
	}
	if e.Sleep == nil {
		e.Sleep = jira.SleepContext
	}
	s, err := settings.Load(e.Args, e.Environ)
	switch {
	case errors.Is(err, settings.ErrHelp):
		settings.Usage(e.Stdout, e.Version)
		return ExitOK
	case errors.Is(err, settings.ErrVersion):
		fmt.Fprintf(e.Stdout, "jira-cicd %s\n", e.Version)
		return ExitOK
	}
	if s == nil {
		s = &settings.Settings{}
	}
	c := cienv.Detect(cienv.FromEnviron(e.Environ), e.WorkDir)
	rep := report.New(report.Targets{
		CI:                c.CI,
		GitHubOutput:      c.GitHubOutput,
		GitHubStepSummary: c.GitHubStepSummary,
		DroneCardPath:     c.DroneCardPath,
		PipeStorageDir:    c.PipeStorageDir,
	}, e.Stdout, e.Stderr, s.Debug)
	// Before anything else is printed.
	rep.Mask(s.ClientSecret.Value())
	if err != nil {
		var errs settings.Errors
		if errors.As(err, &errs) && c.Untrusted != "" && onlyCredentialsMissing(s, errs) {
			return (&run{s: s, c: c, rep: rep, env: e}).untrusted()
		}
		if errors.As(err, &errs) {
			for _, se := range errs {
				rep.Errorf("%s", se.Error())
			}
		} else {
			rep.Errorf("%v", err)
		}
		rep.Infof("jira-cicd: invalid settings; run with --help for every setting and its accepted values")
		rep.Flush()
		return ExitUsage
	}
	w := openWorkspace(&c)
	defer w.close()
	r := &run{s: s, c: c, rep: rep, env: e, git: w}
	defer r.dropEarly()
	code := r.run(ctx)
	rep.Flush() // a no-op after Finish
	return code
}

type run struct {
	s   *settings.Settings
	c   cienv.Context
	rep *report.Reporter
	env Env
	git *workspaceRepo // the workspace's repository, and the keys' scan of it
	out report.Outcome
	// devCommits caches the development information of commits read.
	devCommits   map[string]devinfo.Commit
	linesCounted int // commits whose files' lines were counted
	// client, when set, is the run's Jira client, made early so that its
	// token and cloud id are taken while the commits' files are read.
	client   *jira.Client
	prepared chan error // the early Prepare's outcome, when there is one
	// cancelEarly ends the early Prepare (see dropEarly).
	cancelEarly context.CancelFunc
}

func (r *run) run(ctx context.Context) int {
	s, c, rep := r.s, r.c, r.rep
	rep.Debugf("CI: %s; settings: %+v", c.Name, *s)
	rep.Debugf("context: sha=%s branch=%s tag=%s pr=%s build=%s url=%s pipeline=%s status=%s environment=%s",
		c.SHA, c.Branch, c.Tag, c.PRNumber, c.BuildNumber, c.BuildURL, c.PipelineID, c.Status, c.Environment)
	for _, w := range c.Warnings {
		rep.Warningf("%s", w)
	}
	if s.DevelopmentInfo.On() && c.DeletedBranch != "" {
		// A delete event builds nothing: its one message to Jira is
		// that the branch is gone.
		return r.deleteBranch(ctx)
	}

	only := s.DevelopmentInfo == settings.DevInfoOnly
	plan, err := record.Resolve(s, c, r.env.Now())
	if err != nil && only {
		// No record is sent: what it would lack does not matter.
		plan, err = record.Plan{}, nil
	}
	if err != nil {
		var errs record.Errors
		if !errors.As(err, &errs) {
			errs = record.Errors{{Settings: []string{"settings"}, Msg: err.Error()}}
		}
		for _, e := range errs {
			rep.Errorf("%v", e)
		}
		return ExitUsage
	}
	for _, n := range plan.Notes {
		rep.Noticef("%s", n)
	}
	if s.Gating && !only && plan.Kind != record.Deployment {
		rep.Errorf("%v", &settings.Error{Setting: "gating", Msg: "applies to deployments only, and this record is a build (no environment is known); set environment, or remove gating"})
		return ExitUsage
	}
	if !s.DryRun && len(s.IssueKeys) > 0 {
		// The record is valid and has keys: it will be sent. The token
		// and cloud id are taken while the commits are scanned and the
		// body is built.
		r.prepareEarly(ctx)
	}
	r.out = report.Outcome{
		Kind: string(plan.Kind), State: plan.State, DisplayName: plan.DisplayName, URL: plan.URL,
		PipelineID: plan.PipelineID, EnvironmentID: plan.Environment.ID, EnvironmentName: plan.Environment.DisplayName,
		Site: s.Site,
	}

	if r.stopping(ctx) {
		return r.stopped(ctx, "before the commit scan")
	}
	keys := r.keys(ctx)
	if r.stopping(ctx) {
		return r.stopped(ctx, "during the commit scan")
	}
	if !s.DryRun && r.client == nil && (len(keys) > 0 || s.DevelopmentInfo.On() || plan.Kind == record.Deployment && len(s.ServiceIDs) > 0) {
		// Something may be sent: take the token and cloud id while the
		// commits' files, the test results and the body are read.
		r.prepareEarly(ctx)
	}
	var dev *devinfo.Output
	if s.DevelopmentInfo.On() {
		in, err := r.devinfoInput(ctx)
		var out devinfo.Output
		if err == nil {
			out, err = devinfo.Build(in)
		}
		if err != nil {
			var se *settings.Error
			if !errors.As(err, &se) {
				se = devinfoSettingError(err)
			}
			rep.Errorf("%v", se)
			return ExitUsage
		}
		for _, w := range out.Warnings {
			rep.Warningf("development information: %s", w)
		}
		if len(out.Requests) > 0 {
			dev = &out
			rep.Infof("development information: %s", describeDevinfo(out))
		}
		if r.stopping(ctx) {
			return r.stopped(ctx, "while reading the commits' files")
		}
	}
	sendRecord := !only && (len(keys) > 0 || plan.Kind == record.Deployment && len(s.ServiceIDs) > 0)
	if only {
		r.out.Kind, r.out.State, r.out.DisplayName, r.out.URL = "", "", "", ""
		r.out.PipelineID, r.out.EnvironmentID, r.out.EnvironmentName = "", "", ""
	}
	if !sendRecord && (dev == nil || !only && s.Gating && !s.DryRun) {
		r.out.Status = "skipped"
		r.out.Message = noKeysMessage(s, c, r.git)
		if only {
			r.out.Message = "no commit, branch or pull request names a Jira issue key: no development information to send"
		}
		if !only && s.Gating && !s.DryRun {
			// A gate that was never asked must not pass.
			r.out.Message += "; with gating, the deployment cannot pass a gate Jira was never asked about: give issue keys or service_ids"
			rep.Errorf("%s", r.out.Message)
			return r.finish(ExitFailure)
		}
		rep.Noticef("%s; nothing is sent to Jira", r.out.Message)
		return r.finish(ExitOK)
	}

	if !sendRecord && !only {
		rep.Noticef("%s: no build or deployment is sent, only development information", noKeysMessage(s, c, r.git))
	}
	var body *record.Body
	if sendRecord {
		tests, err := r.testInfo(ctx, plan.Kind)
		if err != nil || r.stopping(ctx) {
			return r.stopped(ctx, "while reading the test results")
		}
		product := r.product()
		var b record.Body
		if plan.Kind == record.Deployment {
			b = plan.Deployment(keys, product)
		} else {
			b = plan.Build(keys, tests, product)
		}
		for _, w := range b.Warnings {
			rep.Warningf("%s", w)
		}
		r.out.Keys = b.Keys
		body = &b
	}

	if s.DryRun {
		return r.dryRun(ctx, body, dev)
	}
	return r.send(ctx, plan, body, dev)
}

// prepareEarly makes the run's client and starts taking its token and cloud
// id, as soon as the run knows it may send, so that the network's round trips
// overlap the local work: the commit scan, the body and, the costly part of
// development information, the commits' changed files (on a 1,000-commit
// range whose every commit names a key, ~15 ms of tree diffs against a ~5 ms
// walk: BenchmarkChangesVsWalk1000, internal/gitrepo), while a token and a
// tenant_info lookup from a runner to Atlassian take 100 ms and more. send
// uses the same client and waits for this outcome: a failure is reported
// there, once, and not tried again (the retries were this one's).
func (r *run) prepareEarly(ctx context.Context) {
	ectx, cancel := context.WithCancel(ctx)
	r.client = r.newClient(ectx)
	r.prepared = make(chan error, 1)
	r.cancelEarly = cancel
	go func() {
		if err := r.signalsReady(ectx); err != nil {
			r.prepared <- err
			return
		}
		pctx, cancel := context.WithTimeout(ectx, r.s.Timeout)
		defer cancel()
		r.prepared <- r.client.Prepare(pctx)
	}()
}

// signalsReady waits until a signal can stop the run's requests (see
// Env.SignalsReady). By the time a run knows it will send, main has
// usually installed the handlers: the wait is for the rare run that gets
// there first.
func (r *run) signalsReady(ctx context.Context) error {
	if r.env.SignalsReady == nil {
		return nil
	}
	select {
	case <-r.env.SignalsReady:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// dropEarly ends the early Prepare when the run ended without using it (a
// skipped or invalid run): its requests stop, and the run returns only once
// they have.
func (r *run) dropEarly() {
	if r.prepared != nil {
		r.cancelEarly()
		<-r.prepared
		r.prepared = nil
	}
}

// devinfoSettingError names the setting a Build error is about.
func devinfoSettingError(err error) *settings.Error {
	msg := err.Error()
	for _, name := range []string{"forge", "repository_url"} {
		if rest, ok := strings.CutPrefix(msg, name+": "); ok {
			return &settings.Error{Setting: name, Msg: rest}
		}
	}
	return &settings.Error{Setting: "repository_url", Msg: msg + "; set repository_url (and forge) to the repository's web page"}
}

// describeDevinfo says what the development information holds.
func describeDevinfo(out devinfo.Output) string {
	parts := []string{fmt.Sprintf("%d commit(s)", out.Commits)}
	if out.Branch {
		parts = append(parts, "the branch")
	}
	if out.PullRequest {
		parts = append(parts, "the pull request")
	}
	what := strings.Join(parts, ", ")
	if len(out.Requests) > 1 {
		what += fmt.Sprintf(", in %d requests", len(out.Requests))
	}
	return what + " of repository " + out.RepositoryID
}

// stopping reports whether the run was told to stop: main cancels ctx on
// the first SIGTERM or SIGINT, with the signal as its cause. The run checks
// between phases and after anything that waits, and stops there.
func (r *run) stopping(ctx context.Context) bool { return ctx.Err() != nil }

// stopped ends a run whose context ended: nothing more is done or sent, the
// outcome says where it stopped, and the exit is a failure (main exits
// 128+signal for a signal: 130 for SIGINT, 143 for SIGTERM).
func (r *run) stopped(ctx context.Context, where string) int {
	why := "stopped"
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		why = cause.Error()
	}
	if r.out.Status != "sent" { // a gated deployment stays sent
		r.out.Status = "failed"
	}
	r.out.Message = fmt.Sprintf("%s %s; nothing more is sent", why, where)
	r.rep.Errorf("%s", r.out.Message)
	return r.finish(ExitFailure)
}

// product names this tool to Jira (providerMetadata, User-Agent).
func (r *run) product() string { return "jira-cicd " + r.env.Version }

// keys scans the commits and returns the issue keys found, most relevant
// first, after printing them with where each came from.
func (r *run) keys(ctx context.Context) []string {
	scan := scanCommits(ctx, r.s, r.c, r.git)
	r.git.scan = scan
	for _, w := range scan.Warnings {
		r.rep.Warningf("%s", w)
	}
	for _, n := range scan.Notices {
		r.rep.Noticef("%s", n)
	}
	if scan.Info != "" {
		r.rep.Infof("%s", scan.Info)
	}
	r.out.CommitsScanned = len(scan.Messages)

	found, warnings := record.Keys(r.s, r.c, scan.Messages)
	for _, w := range warnings {
		r.rep.Warningf("%s", w)
	}
	keys := make([]string, len(found))
	for i, f := range found {
		keys[i] = f.Key
	}
	r.out.Keys = keys
	if len(found) > 0 {
		r.rep.Infof("issue keys: %s", describeKeys(found))
	}
	return keys
}

// dryRun prints the exact body that would be sent, alone on stdout; not
// once the run was told to stop.
func (r *run) dryRun(ctx context.Context, body *record.Body, dev *devinfo.Output) int {
	if r.stopping(ctx) {
		return r.stopped(ctx, "before the dry run's output")
	}
	// Each body a JSON value, in the order they would be sent: the record,
	// then the development information.
	var values []any
	if body != nil {
		var v any = body.Builds
		if body.Deployments != nil {
			v = body.Deployments
		}
		values = append(values, v)
	}
	if dev != nil {
		for _, req := range dev.Requests {
			values = append(values, req)
		}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	for _, v := range values {
		if err := enc.Encode(v); err != nil {
			r.rep.Errorf("writing the record: %v", err)
			return ExitFailure
		}
	}
	// The record is JSON: its text can't add a line, and indented, no line
	// starts with "::". GitHub's runner also takes "##[" anywhere in a line
	// as a command; '#' occurs only inside strings, where \u0023 is the same
	// JSON.
	out := bytes.ReplaceAll(b.Bytes(), []byte("##["), []byte(`#\u0023[`))
	if _, err := r.env.Stdout.Write(out); err != nil {
		r.rep.Errorf("writing the record: %v", err)
		return ExitFailure
	}
	r.out.Status = "dry-run"
	return r.finish(ExitOK)
}

// fail reports a Jira or network failure: exit 1, or a warning and exit 0
// when fail_on_error is false.
func (r *run) fail(msg string) int {
	r.out.Status = "failed"
	r.out.Message = msg
	if r.s.Gating && r.out.Kind == string(record.Deployment) {
		// Nothing was allowed: fail_on_error cannot open the gate.
		r.rep.Errorf("%s (gating is on: a deployment Jira has not allowed fails the step, whatever fail_on_error says)", msg)
		return r.finish(ExitFailure)
	}
	if !r.s.FailOnError {
		r.rep.Warningf("%s (fail_on_error is false: the step passes)", msg)
		return r.finish(ExitOK)
	}
	r.rep.Errorf("%s", msg)
	return r.finish(ExitFailure)
}

func (r *run) finish(code int) int {
	if err := r.rep.Finish(r.out); err != nil {
		r.rep.Warningf("%v", err)
	}
	return code
}

func (r *run) httpClient() *http.Client {
	if r.env.HTTPClient != nil {
		return r.env.HTTPClient
	}
	// Each retry is a log line: a run that waits on Jira says why.
	return jira.NewHTTPClient(jira.WithRetry(r.env.Retry), jira.WithLog(func(line string) { r.rep.Infof("%s", line) }))
}

// describeKeys lists the keys found with where each came from; past
// maxListed, only how many more.
func describeKeys(found []issuekeys.Found) string {
	const maxListed = 50
	n := min(len(found), maxListed)
	parts := make([]string, n, n+1)
	for i, f := range found[:n] {
		parts[i] = fmt.Sprintf("%s (%s)", f.Key, f.Source)
	}
	if len(found) > n {
		parts = append(parts, fmt.Sprintf("and %d more", len(found)-n))
	}
	return strings.Join(parts, ", ")
}
