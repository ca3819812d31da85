package app

import (
	"context"

	"github.com/jira-cicd/jira-cicd/internal/jira"
	"github.com/jira-cicd/jira-cicd/internal/record"
	"github.com/jira-cicd/jira-cicd/internal/testresults"
)

// testInfo sums the JUnit files of test_results for a build: nil when the
// setting is empty, the record is a deployment (Jira's deployments carry no
// test results) or no file could be counted. Every unreadable pattern or
// file is a warning naming it, never a failure.
func (r *run) testInfo(ctx context.Context, kind record.Kind) (*jira.TestInfo, error) {
	patterns := r.s.TestResults
	if len(patterns) == 0 {
		return nil, nil
	}
	if kind != record.Build {
		r.rep.Warningf("test_results is ignored: Jira takes test results with builds only, and this record is a %s", kind)
		return nil, nil
	}
	totals, warnings, err := testresults.Collect(ctx, r.workspace(), patterns)
	if err != nil {
		return nil, err
	}
	for _, w := range warnings {
		r.rep.Warningf("test_results: %v", w)
	}
	if len(totals.Files) == 0 {
		r.rep.Warningf("test_results: no JUnit XML report found for %v (patterns are relative to %s); the build is sent without test results", []string(patterns), r.workspace())
		return nil, nil
	}
	r.out.TestsTotal, r.out.TestsFailed = totals.Total, totals.Failed
	r.rep.Infof("tests: %d total, %d passed, %d failed, %d skipped (%d JUnit file(s))",
		totals.Total, totals.Passed, totals.Failed, totals.Skipped, len(totals.Files))
	return &jira.TestInfo{
		TotalNumber:   totals.Total,
		NumberPassed:  totals.Passed,
		NumberFailed:  totals.Failed,
		NumberSkipped: totals.Skipped,
	}, nil
}

// workspace is where the repository and relative paths are: the CI's
// workspace, else the working directory.
func (r *run) workspace() string {
	if r.c.Workspace != "" {
		return r.c.Workspace
	}
	return r.env.WorkDir
}
