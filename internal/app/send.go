package app

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/jira-cicd/jira-cicd/internal/devinfo"
	"github.com/jira-cicd/jira-cicd/internal/jira"
	"github.com/jira-cicd/jira-cicd/internal/record"
)

// newClient builds the run's one Jira client: one token serves every
// request.
func (r *run) newClient(ctx context.Context) *jira.Client {
	s := r.s
	return jira.New(ctx, jira.Config{
		APIURL:       s.APIURL,
		Site:         s.Site,
		CloudID:      s.CloudID,
		ClientID:     s.ClientID,
		ClientSecret: s.ClientSecret.Value(),
		HTTPClient:   r.httpClient(),
		OnToken:      r.rep.Mask,
		UserAgent:    r.product(),
	})
}

// readyClient returns the run's client, once a signal can stop its
// requests (see Env.SignalsReady): the one made early, once the token and cloud
// id it was taking are in (see prepareEarly), or a new one. When that early
// work failed, ok is false and code is the run's exit.
func (r *run) readyClient(ctx context.Context) (client *jira.Client, code int, ok bool) {
	if r.signalsReady(ctx) != nil {
		return nil, r.stopped(ctx, "before the send"), false
	}
	if r.client == nil {
		return r.newClient(ctx), 0, true
	}
	if r.prepared != nil {
		err := <-r.prepared
		r.prepared = nil // read once: a second call must not wait for it
		if err != nil {
			if r.stopping(ctx) {
				return nil, r.stopped(ctx, "during the send"), false
			}
			return nil, r.fail(err.Error()), false
		}
	}
	return r.client, 0, true
}

// devinfoSent is what became of the development information requests.
type devinfoSent struct {
	commits  int // commits of the requests Jira took, less those it refused
	failed   []jira.DevInfoFailure
	more     int // failures past those listed
	unknown  []string
	err      error // the request that failed (the later ones were not sent)
	requests int   // requests Jira took
}

// sendDevinfo sends the bodies in order, each bounded by timeout; the first
// failure stops the rest (a backfill's later parts would only repeat it).
func (r *run) sendDevinfo(ctx context.Context, client *jira.Client, dev *devinfo.Output) devinfoSent {
	var out devinfoSent
	for _, req := range dev.Requests {
		rctx, cancel := context.WithTimeout(ctx, r.s.Timeout)
		res, err := client.SubmitDevInfo(rctx, req)
		cancel()
		if err != nil {
			out.err = err
			return out
		}
		out.requests++
		refused := 0
		for _, f := range res.Failed {
			if f.EntityType == jira.EntityCommit {
				refused++
			}
		}
		for _, repo := range req.Repositories {
			out.commits += len(repo.Commits)
		}
		out.commits -= refused
		out.failed = append(out.failed, res.Failed...)
		out.more += res.FailedMore
		out.unknown = append(out.unknown, res.UnknownIssueKeys...)
	}
	return out
}

// send submits the record and the development information (concurrently,
// after the token both use), reports Jira's answers, and waits for the gate
// when gating is on.
func (r *run) send(ctx context.Context, plan record.Plan, body *record.Body, dev *devinfo.Output) int {
	s, rep := r.s, r.rep
	if r.stopping(ctx) {
		return r.stopped(ctx, "before the send")
	}
	// Encoded while the early token request may still be in flight.
	var enc jira.Encoded
	if body != nil {
		var err error
		if body.Deployments != nil {
			enc, err = jira.EncodeDeployments(*body.Deployments)
		} else {
			enc, err = jira.EncodeBuilds(*body.Builds)
		}
		if err != nil {
			return r.fail(err.Error())
		}
	}
	// The client lives for the run; each submission has its own timeout,
	// and the gating wait, after them, its own bounds (see gate).
	client, code, ok := r.readyClient(ctx)
	if !ok {
		return code
	}
	var (
		res    jira.Result
		recErr error
		sent   devinfoSent
	)
	if body != nil && dev != nil {
		// The token (and the cloud id) first, once; then both at once.
		pctx, cancel := context.WithTimeout(ctx, s.Timeout)
		err := client.Prepare(pctx)
		cancel()
		if err != nil {
			if r.stopping(ctx) {
				return r.stopped(ctx, "during the send")
			}
			return r.fail(err.Error())
		}
	}
	var wg sync.WaitGroup
	if dev != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sent = r.sendDevinfo(ctx, client, dev)
		}()
	}
	if body != nil {
		submitCtx, cancel := context.WithTimeout(ctx, s.Timeout)
		res, recErr = client.Submit(submitCtx, enc)
		cancel()
	}
	wg.Wait()
	if (recErr != nil || sent.err != nil) && r.stopping(ctx) {
		// A request was cut short (it may or may not have reached Jira).
		return r.stopped(ctx, "during the send")
	}

	unknown := append(append([]string(nil), res.UnknownIssueKeys...), sent.unknown...)
	if len(unknown) > 0 {
		r.out.UnknownKeys = uniqStrings(unknown)
		rep.Warningf("Jira does not know these issue keys: %s (check the keys, and that the credential's site has those projects)", strings.Join(r.out.UnknownKeys, ", "))
	}
	var devFailure string
	if dev != nil {
		r.out.CommitsSent = max(sent.commits, 0)
		switch {
		case sent.err != nil:
			devFailure = sent.err.Error()
			if sent.requests > 0 {
				devFailure += fmt.Sprintf(" (after %d of %d requests were taken)", sent.requests, len(dev.Requests))
			}
		case len(sent.failed) > 0:
			msgs := make([]string, len(sent.failed))
			for i, f := range sent.failed {
				msgs[i] = f.String()
			}
			if sent.more > 0 {
				msgs = append(msgs, fmt.Sprintf("and %d more", sent.more))
			}
			devFailure = "Jira rejected development information: " + strings.Join(msgs, "; ")
		default:
			r.out.DevInfoSent = true
			rep.Infof("development information sent: %d commit(s)", r.out.CommitsSent)
		}
	}

	if body == nil {
		// development_info: only
		if devFailure != "" {
			return r.fail(devFailure)
		}
		r.out.Status = "sent"
		return r.finish(ExitOK)
	}
	if recErr != nil {
		return r.fail(joinFailures(recErr.Error(), devFailure))
	}
	if res.AllKeysUnknown && len(s.ProjectKeys) == 0 && !plan.Gating && devFailure == "" {
		// Words that look like keys (UTF-8, SHA-256) and nothing else:
		// nothing could be linked, nothing is broken. With project_keys the
		// keys were meant, and a gate must be asked: both stay failures.
		r.out.Status = "skipped"
		r.out.UnknownKeys = r.out.Keys
		r.out.Message = fmt.Sprintf("Jira knows none of the issue keys of the %s (%s), so it linked nothing and took nothing; "+
			"this is not a failure because project_keys is not set (set it to send only your projects' keys, and to fail when Jira knows none of them)",
			plan.Kind, strings.Join(r.out.Keys, ", "))
		rep.Warningf("%s", r.out.Message)
		return r.finish(ExitOK)
	}
	if len(res.Rejected) > 0 {
		var msgs []string
		for _, rj := range res.Rejected {
			for _, m := range rj.Errors {
				msgs = append(msgs, m.Message)
			}
		}
		return r.fail(joinFailures(fmt.Sprintf("Jira rejected the %s: %s", plan.Kind, strings.Join(msgs, "; ")), devFailure))
	}
	r.out.Status = "sent"
	if devFailure != "" {
		// The record went: gating, if on, still decides the deployment;
		// the development information's failure fails the step only with
		// fail_on_error.
		r.out.Message = devFailure
		if s.FailOnError {
			rep.Errorf("%s", devFailure)
			if plan.Gating {
				if code := r.gate(ctx, client, plan); code != ExitOK {
					return code
				}
				return ExitFailure
			}
			return r.finish(ExitFailure)
		}
		rep.Warningf("%s (fail_on_error is false: the step passes)", devFailure)
	}
	if plan.Gating {
		return r.gate(ctx, client, plan)
	}
	return r.finish(ExitOK)
}

func joinFailures(a, b string) string {
	if b == "" {
		return a
	}
	return a + "; and " + b
}

func uniqStrings(in []string) []string {
	seen := make(map[string]bool, len(in))
	out := in[:0:0]
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// deleteBranch removes the deleted branch (a GitHub delete event) from
// Jira's development information. The run sends nothing else: a delete
// event builds no commit.
func (r *run) deleteBranch(ctx context.Context) int {
	s, c, rep := r.s, r.c, r.rep
	name := c.DeletedBranch
	repo, forge, err := devinfoRepo(s, c)
	if err != nil {
		rep.Errorf("%v", err)
		return ExitUsage
	}
	repoID, branchID, err := devinfo.DeleteBranch(repo, forge, name)
	if err != nil {
		rep.Errorf("%v", devinfoSettingError(err))
		return ExitUsage
	}
	if s.DryRun {
		rep.Infof("dry run: branch %s of repository %s would be removed from Jira's development information", name, repoID)
		r.out.Status = "dry-run"
		return r.finish(ExitOK)
	}
	client, code, ok := r.readyClient(ctx)
	if !ok {
		return code
	}
	dctx, cancel := context.WithTimeout(ctx, s.Timeout)
	err = client.DeleteBranch(dctx, repoID, branchID, r.env.Now().UnixMilli())
	cancel()
	if err != nil && r.stopping(ctx) {
		return r.stopped(ctx, "during the branch deletion")
	}
	if err != nil {
		return r.fail(err.Error())
	}
	rep.Infof("branch %s removed from Jira's development information (repository %s)", name, repoID)
	r.out.Status = "sent"
	r.out.Message = "branch " + name + " deleted from Jira's development information"
	r.out.DevInfoSent = true
	return r.finish(ExitOK)
}
