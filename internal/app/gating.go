package app

import (
	"context"
	"fmt"
	"strings"

	"github.com/jira-cicd/jira-cicd/internal/jira"
	"github.com/jira-cicd/jira-cicd/internal/record"
)

// gate waits for Jira's gating decision on the deployment just sent. Only
// allowed passes: a refusal, an expiry, an invalid request, the
// gating_timeout and a failure to ask all exit 1, whatever fail_on_error
// says — a gate that never said yes must not let the deployment through.
//
// The wait is outside the submission's timeout: gating_timeout bounds it,
// and each status request is bounded by timeout.
func (r *run) gate(ctx context.Context, client *jira.Client, plan record.Plan) int {
	s, rep := r.s, r.rep
	rep.Infof("gating: waiting for Jira's decision on deployment %d to %s (every %s, at most %s)",
		plan.BuildNumber, plan.Environment.DisplayName, s.GatingInterval, s.GatingTimeout)
	res, err := client.WaitForGating(ctx, plan.PipelineID, plan.Environment.ID, plan.BuildNumber, jira.GatingWait{
		Interval:       s.GatingInterval,
		Timeout:        s.GatingTimeout,
		RequestTimeout: s.Timeout,
		Now:            r.env.Now,
		Sleep:          r.env.Sleep,
		Progress: func(p jira.GatingPoll) {
			rep.Infof("%s", progressLine(p))
		},
	})
	if r.stopping(ctx) {
		r.out.GatingStatus = "error"
		return r.stopped(ctx, "while waiting for the gating decision")
	}
	issues := gatingIssues(res.Last.Details)
	switch {
	case err != nil:
		r.out.GatingStatus = "error"
		return r.failGate(fmt.Sprintf("the gating status could not be read after %s: %v", jira.RoundDuration(res.Waited), err))
	case res.Allowed():
		r.out.GatingStatus = res.Status
		rep.Infof("gating: Jira allowed the deployment after %s", jira.RoundDuration(res.Waited))
		return r.finish(ExitOK)
	case res.Status == jira.GatingTimeout:
		r.out.GatingStatus = res.Status
		return r.failGate(fmt.Sprintf("no gating decision within gating_timeout (%s): Jira's last status was %q%s; approve or reject the change request in Jira, or raise gating_timeout",
			s.GatingTimeout, res.Last.Status, withIssues(issues)))
	}
	r.out.GatingStatus = res.Status
	why := map[string]string{
		jira.GatingPrevented: "Jira's gating prevented the deployment",
		jira.GatingExpired:   "the gating request expired in Jira before a decision",
		jira.GatingInvalid:   "Jira could not gate the deployment (status invalid): check the change management setup of the environment and its services in Jira",
	}[res.Status]
	return r.failGate(fmt.Sprintf("%s after %s%s", why, jira.RoundDuration(res.Waited), withIssues(issues)))
}

// failGate ends a gated deployment that was not allowed: exit 1, even with
// fail_on_error false.
func (r *run) failGate(msg string) int {
	r.out.Message = msg
	r.rep.Errorf("%s", msg)
	return r.finish(ExitFailure)
}

func progressLine(p jira.GatingPoll) string {
	waited := jira.RoundDuration(p.Waited)
	switch {
	case p.NotFound:
		return fmt.Sprintf("gating: poll %d, waited %s: Jira does not list the deployment yet (HTTP 404); still waiting", p.N, waited)
	case p.Unknown:
		return fmt.Sprintf("gating: poll %d, waited %s: status %q is unknown to this tool; still waiting", p.N, waited, p.Status)
	}
	return fmt.Sprintf("gating: poll %d, waited %s: %s", p.N, waited, p.Status)
}

// gatingIssues lists the issues gating a deployment, each with its link.
func gatingIssues(details []jira.GatingDetail) []string {
	var out []string
	for _, d := range details {
		switch {
		case d.IssueKey != "" && d.IssueLink != "":
			out = append(out, d.IssueKey+" "+d.IssueLink)
		case d.IssueKey != "":
			out = append(out, d.IssueKey)
		case d.IssueLink != "":
			out = append(out, d.IssueLink)
		}
	}
	return out
}

func withIssues(issues []string) string {
	if len(issues) == 0 {
		return ""
	}
	return "; gating issues: " + strings.Join(issues, ", ")
}
