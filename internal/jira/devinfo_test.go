package jira_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jira-cicd/jira-cicd/internal/devinfo"
	"github.com/jira-cicd/jira-cicd/internal/issuekeys"
	"github.com/jira-cicd/jira-cicd/internal/jira"
	"github.com/jira-cicd/jira-cicd/internal/jira/fakejira"
)

const (
	headSHA  = "0123456789abcdef0123456789abcdef01234567"
	otherSHA = "89abcdef0123456789abcdef0123456789abcdef"
)

var devNow = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

func devinfoOutput(t *testing.T) devinfo.Output {
	t.Helper()
	head := devinfo.Commit{Hash: headSHA, Parents: []string{otherSHA}, AuthorName: "Jane", AuthorEmail: "jane@example.com",
		AuthorTime: devNow.Add(-time.Hour), Message: "ABC-1 login", FileCount: 1}
	other := head
	other.Hash, other.Message = otherSHA, "DEF-2 setup"
	out, err := devinfo.Build(devinfo.Input{
		Repo:        devinfo.Repo{WebURL: "https://codeberg.org/team/app"},
		Commits:     []devinfo.Commit{head, other},
		Branch:      &devinfo.Branch{Name: "feature/ABC-1", Head: head},
		PullRequest: &devinfo.PullRequest{Number: 7, Title: "ABC-1 login"},
		Keys:        issuekeys.New(nil).Find,
		Now:         devNow,
		Product:     "jira-cicd test",
	})
	if err != nil || len(out.Requests) != 1 {
		t.Fatalf("Build: %v, %d requests", err, len(out.Requests))
	}
	return out
}

func TestSubmitDevInfo(t *testing.T) {
	srv := fakejira.New(t)
	c := newClient(t, srv, srv.CloudID, nil)
	out := devinfoOutput(t)
	res, err := c.SubmitDevInfo(context.Background(), out.Requests[0])
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 4 || len(res.Failed) != 0 || len(res.UnknownIssueKeys) != 0 {
		t.Errorf("result %+v, want 4 accepted (2 commits, a branch, a pull request)", res)
	}
	want, _ := json.Marshal(out.Requests[0])
	if got := srv.LastBody(fakejira.EndpointDevInfo); string(got) != string(want) {
		t.Errorf("sent\n%s\nwant\n%s", got, want)
	}
	if got := endpoints(srv); !slices.Equal(got, []fakejira.Endpoint{fakejira.EndpointToken, fakejira.EndpointDevInfo}) {
		t.Errorf("requests %v", got)
	}
	if got := srv.DevInfoStored(out.RepositoryID, fakejira.EntityCommit); !slices.Equal(got, []string{headSHA, otherSHA}) {
		t.Errorf("stored commits %v", got)
	}
}

// With cloud_id and development_info: true, a run is exactly three requests
// on one token: the token, the record and devinfo (the last two at once).
func TestDevInfoWithBuildThreeRequests(t *testing.T) {
	srv := fakejira.New(t)
	c := newClient(t, srv, srv.CloudID, nil)
	if err := c.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	out := devinfoOutput(t)
	var wg sync.WaitGroup
	var buildErr, devErr error
	wg.Add(2)
	go func() { defer wg.Done(); _, buildErr = c.SubmitBuilds(context.Background(), buildRequest()) }()
	go func() { defer wg.Done(); _, devErr = c.SubmitDevInfo(context.Background(), out.Requests[0]) }()
	wg.Wait()
	if buildErr != nil || devErr != nil {
		t.Fatalf("builds %v, devinfo %v", buildErr, devErr)
	}
	if n := len(srv.Requests()); n != 3 || srv.TokensIssued() != 1 {
		t.Errorf("%d requests, %d tokens; want 3 and 1: %v", n, srv.TokensIssued(), endpoints(srv))
	}
}

func TestSubmitDevInfo403NamesPermission(t *testing.T) {
	srv := fakejira.New(t, fakejira.WithScript(fakejira.EndpointDevInfo,
		fakejira.JSONResponse(http.StatusForbidden, `{"errorMessages":[{"message":"The app is not installed"}]}`)))
	c := newClient(t, srv, srv.CloudID, nil)
	_, err := c.SubmitDevInfo(context.Background(), devinfoOutput(t).Requests[0])
	var je *jira.Error
	if !errors.As(err, &je) || je.Status != http.StatusForbidden || je.Op != jira.OpSubmitDevInfo {
		t.Fatalf("error %v, want a 403 *jira.Error", err)
	}
	msg := err.Error()
	for _, want := range []string{"development information submission failed (HTTP 403)", "The app is not installed", `"Development information" permission`} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not say %q", msg, want)
		}
	}
	// The builds 403 hint is unchanged.
	srv.Script(fakejira.EndpointBuilds, fakejira.ErrorResponse(http.StatusForbidden, "no"))
	_, err = c.SubmitBuilds(context.Background(), buildRequest())
	if err == nil || !strings.Contains(err.Error(), "Builds permission") {
		t.Errorf("builds 403: %v", err)
	}
}

func TestSubmitDevInfoFailedAndUnknown(t *testing.T) {
	srv := fakejira.New(t, fakejira.WithUnknownIssueKeys("DEF-2"))
	srv.FailDevInfo(fakejira.EntityBranch, devinfo.BranchID("feature/ABC-1"), "branch refused\nfor "+srv.ClientSecret)
	c := newClient(t, srv, srv.CloudID, nil)
	out := devinfoOutput(t)
	res, err := c.SubmitDevInfo(context.Background(), out.Requests[0])
	if err != nil {
		t.Fatal(err)
	}
	// The commit linked only to DEF-2 is not stored; the branch failed.
	if res.Accepted != 2 {
		t.Errorf("accepted %d, want 2 (a commit and the pull request)", res.Accepted)
	}
	if !slices.Equal(res.UnknownIssueKeys, []string{"DEF-2"}) {
		t.Errorf("unknown keys %v", res.UnknownIssueKeys)
	}
	if len(res.Failed) != 1 {
		t.Fatalf("failed %+v", res.Failed)
	}
	f := res.Failed[0]
	if f.Repository != out.RepositoryID || f.EntityType != jira.EntityBranch || f.ID != devinfo.BranchID("feature/ABC-1") ||
		!slices.Equal(f.Messages, []string{"branch refused for ***"}) {
		t.Errorf("failure %+v (messages one line, secret redacted)", f)
	}
	if s := f.String(); !strings.Contains(s, "branch ~") || !strings.Contains(s, "branch refused") {
		t.Errorf("String() = %q", s)
	}
}

func TestSubmitDevInfoAnswers(t *testing.T) {
	for _, c := range []struct {
		name string
		resp fakejira.Response
		want string // "" for success
	}{
		// Success is a 202 whose body is the API's answer (issue 9): an
		// empty or foreign body is not Jira's.
		{"empty 202", fakejira.Response{Status: http.StatusAccepted}, "so it is not Jira's"},
		{"202 with {}", fakejira.JSONResponse(http.StatusAccepted, `{}`), "so it is not Jira's"},
		{"repository failure", fakejira.JSONResponse(http.StatusAccepted,
			`{"failedDevinfoEntities":{"r1":{"errorMessages":[{"message":"repo bad"}]}}}`), ""},
		{"not an object", fakejira.JSONResponse(http.StatusAccepted, `[1]`), "so it is not Jira's"},
		{"400", fakejira.JSONResponse(http.StatusBadRequest, `{"errorMessages":[{"message":"commits[0].id is invalid"}]}`), "commits[0].id is invalid"},
		{"413", fakejira.JSONResponse(http.StatusRequestEntityTooLarge, `{"errorMessages":[{"message":"Data is too large"}]}`), "send fewer commits"},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := fakejira.New(t, fakejira.WithScript(fakejira.EndpointDevInfo, c.resp))
			cl := newClient(t, srv, srv.CloudID, nil)
			res, err := cl.SubmitDevInfo(context.Background(), devinfoOutput(t).Requests[0])
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if c.name == "repository failure" && (len(res.Failed) != 1 || res.Failed[0].EntityType != jira.EntityRepository ||
					res.Failed[0].Repository != "r1" || res.Failed[0].Messages[0] != "repo bad") {
					t.Errorf("failed %+v", res.Failed)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want %q", err, c.want)
			}
		})
	}
}

func TestDeleteBranch(t *testing.T) {
	srv := fakejira.New(t)
	c := newClient(t, srv, srv.CloudID, nil)
	out := devinfoOutput(t)
	if _, err := c.SubmitDevInfo(context.Background(), out.Requests[0]); err != nil {
		t.Fatal(err)
	}
	repoID, branchID, err := devinfo.DeleteBranch(devinfo.Repo{WebURL: "https://codeberg.org/team/app.git"}, "", "feature/ABC-1")
	if err != nil {
		t.Fatal(err)
	}
	if got := srv.DevInfoStored(repoID, fakejira.EntityBranch); !slices.Equal(got, []string{branchID}) {
		t.Fatalf("stored branches %v, want %q", got, branchID)
	}
	if err := c.DeleteBranch(context.Background(), repoID, branchID, devNow.UnixMilli()+1); err != nil {
		t.Fatal(err)
	}
	if got := srv.DevInfoStored(repoID, fakejira.EntityBranch); len(got) != 0 {
		t.Errorf("branch still stored: %v", got)
	}
	last := srv.Requests()[len(srv.Requests())-1]
	if last.Method != http.MethodDelete || last.RawQuery != "_updateSequenceId=1795953600001" ||
		last.RawPath != "/jira/devinfo/0.1/cloud/"+srv.CloudID+"/repository/codeberg.org~team~app/branch/"+branchID {
		t.Errorf("sent %s %s?%s", last.Method, last.RawPath, last.RawQuery)
	}
	// No sequence id: no query.
	if err := c.DeleteBranch(context.Background(), repoID, branchID, 0); err != nil {
		t.Fatal(err)
	}
	if last := srv.Requests()[len(srv.Requests())-1]; last.RawQuery != "" {
		t.Errorf("query %q", last.RawQuery)
	}
	srv.Script(fakejira.EndpointDevInfoDelete, fakejira.ErrorResponse(http.StatusForbidden, "nope"))
	err = c.DeleteBranch(context.Background(), repoID, branchID, 0)
	if err == nil || !strings.Contains(err.Error(), "branch deletion failed (HTTP 403)") || !strings.Contains(err.Error(), `"Development information" permission`) {
		t.Errorf("403: %v", err)
	}
}
