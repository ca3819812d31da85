package fakejira_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/jira-cicd/jira-cicd/internal/jira/fakejira"
)

const devSHA = "a7727ee6350c33cdf90826dc21abaa26a5704370"

// A body written by hand from the spec's DevInformation example fields.
func validCommit(id string, keys ...any) map[string]any {
	if len(keys) == 0 {
		keys = []any{"ABC-1"}
	}
	return map[string]any{
		"id": id, "hash": id, "displayId": id[:7], "issueKeys": keys, "updateSequenceId": 1523494301248,
		"message": "ABC-1 README.md edited online", "author": map[string]any{"name": "Jane Doe", "email": "jane_doe@atlassian.com"},
		"authorTimestamp": "2016-10-31T23:27:25+00:00", "fileCount": 1, "flags": []any{"MERGE_COMMIT"},
		"url": "https://git.example.com/team/app/commit/" + id,
		"files": []any{map[string]any{"path": "README.md", "url": "https://git.example.com/team/app/src/x/README.md",
			"changeType": "MODIFIED", "linesAdded": 0, "linesRemoved": 1}},
	}
}

func validRepo() map[string]any {
	return map[string]any{
		"id": "git.example.com~team~app", "name": "app", "url": "https://git.example.com/team/app", "updateSequenceId": 1523494301248,
		"commits": []any{validCommit(devSHA)},
		"branches": []any{map[string]any{
			"id": "~666561747572652f4142432d31", "name": "feature/ABC-1", "issueKeys": []any{"ABC-1"}, "updateSequenceId": 1523494301248,
			"url": "https://git.example.com/team/app/src/branch/feature/ABC-1", "createPullRequestUrl": "https://git.example.com/team/app/compare/feature/ABC-1",
			"lastCommit": validCommit(devSHA),
		}},
		"pullRequests": []any{map[string]any{
			"id": "12", "displayId": "#12", "issueKeys": []any{"ABC-1"}, "updateSequenceId": 1523494301248, "status": "OPEN",
			"title": "ABC-1 login", "author": map[string]any{"name": "Jane"}, "commentCount": 0, "sourceBranch": "feature/ABC-1",
			"sourceBranchUrl": "https://git.example.com/team/app/src/branch/feature/ABC-1", "destinationBranch": "main",
			"lastUpdate": "2026-11-29T12:00:00Z", "url": "https://git.example.com/team/app/pulls/12",
			"reviewers": []any{map[string]any{"name": "Rev", "approvalStatus": "APPROVED", "email": "rev@example.com"}},
		}},
	}
}

func devinfoBody(repos ...map[string]any) map[string]any {
	list := make([]any, len(repos))
	for i, r := range repos {
		list[i] = r
	}
	return map[string]any{"repositories": list, "preventTransitions": true, "operationType": "BACKFILL",
		"providerMetadata": map[string]any{"product": "jira-cicd test"}}
}

func TestDevInfoValidBody(t *testing.T) {
	if err := fakejira.ValidateBody("devinfo", mustJSON(devinfoBody(validRepo()))); err != nil {
		t.Fatal(err)
	}
}

func TestDevInfoInvalidBodies(t *testing.T) {
	type mut func(body map[string]any, repo map[string]any)
	commit0 := func(repo map[string]any) map[string]any { return repo["commits"].([]any)[0].(map[string]any) }
	for _, c := range []struct {
		name string
		mut  mut
		want string
	}{
		{"no repositories", func(b, r map[string]any) { b["repositories"] = []any{} }, "no repositories"},
		{"no entities", func(b, r map[string]any) { delete(r, "commits"); delete(r, "branches"); delete(r, "pullRequests") }, "no development information entities"},
		{"repository id charset", func(b, r map[string]any) { r["id"] = "github.com/a/b" }, "/repositories/0/id"},
		{"commit id charset", func(b, r map[string]any) { commit0(r)["id"] = "abc def" }, "/repositories/0/commits/0/id"},
		{"branch id charset", func(b, r map[string]any) {
			r["branches"].([]any)[0].(map[string]any)["id"] = "feature/ABC-1"
		}, "/repositories/0/branches/0/id"},
		{"duplicate commit", func(b, r map[string]any) { r["commits"] = []any{validCommit(devSHA), validCommit(devSHA)} }, "duplicate commit"},
		{"401 commits", func(b, r map[string]any) {
			var cs []any
			for i := range 401 {
				cs = append(cs, validCommit(fmt.Sprintf("%040x", i)))
			}
			r["commits"] = cs
		}, "/repositories/0/commits"},
		{"bad issue key", func(b, r map[string]any) { commit0(r)["issueKeys"] = []any{"ABC-1", "not a key"} }, "/repositories/0/commits/0/issueKeys/1"},
		{"no issue key", func(b, r map[string]any) { commit0(r)["issueKeys"] = []any{} }, "/repositories/0/commits/0/issueKeys"},
		{"message too long", func(b, r map[string]any) { commit0(r)["message"] = strings.Repeat("m", 1025) }, "/repositories/0/commits/0/message"},
		{"11 files", func(b, r map[string]any) {
			f := commit0(r)["files"].([]any)[0]
			commit0(r)["files"] = slices.Repeat([]any{f}, 11)
		}, "/repositories/0/commits/0/files"},
		{"missing author", func(b, r map[string]any) { delete(commit0(r), "author") }, "author"},
		{"bad flag", func(b, r map[string]any) { commit0(r)["flags"] = []any{"SQUASH"} }, "/repositories/0/commits/0/flags/0"},
		{"bad timestamp", func(b, r map[string]any) { commit0(r)["authorTimestamp"] = "yesterday" }, "/repositories/0/commits/0/authorTimestamp"},
		{"bad url", func(b, r map[string]any) { commit0(r)["url"] = "/team/app/commit/x" }, "/repositories/0/commits/0/url"},
		{"bad status", func(b, r map[string]any) {
			r["pullRequests"].([]any)[0].(map[string]any)["status"] = "CLOSED"
		}, "/repositories/0/pullRequests/0/status"},
		{"long source branch", func(b, r map[string]any) {
			r["pullRequests"].([]any)[0].(map[string]any)["sourceBranch"] = strings.Repeat("b", 256)
		}, "/repositories/0/pullRequests/0/sourceBranch"},
		{"unknown field", func(b, r map[string]any) { commit0(r)["sha"] = devSHA }, "/repositories/0/commits/0/sha"},
		{"bad operation", func(b, r map[string]any) { b["operationType"] = "FULL" }, "/operationType"},
	} {
		t.Run(c.name, func(t *testing.T) {
			repo := validRepo()
			body := devinfoBody(repo)
			c.mut(body, repo)
			err := fakejira.ValidateBody("devinfo", mustJSON(body))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one naming %q", err, c.want)
			}
		})
	}
}

func devinfoDeleteURL(srv *fakejira.Server, repo, typ, id, query string) string {
	u := srv.URL + "/jira/devinfo/0.1/cloud/" + srv.CloudID + "/repository/" + repo + "/" + typ + "/" + id
	if query != "" {
		u += "?" + query
	}
	return u
}

func TestDevInfoSubmitAndDelete(t *testing.T) {
	srv := fakejira.New(t, fakejira.WithUnknownIssueKeys("ZZZ-9"), fakejira.WithDevInfoFailure(fakejira.EntityPullRequest, "12", "pull request rejected"))
	tok := token(t, srv)
	repo := validRepo()
	other := fmt.Sprintf("%040x", 7)
	repo["commits"] = []any{validCommit(devSHA, "ABC-1", "ZZZ-9"), validCommit(other, "ZZZ-9")}
	res := postBulk(t, srv, "devinfo", tok, mustJSON(devinfoBody(repo)))
	if res.status != http.StatusAccepted {
		t.Fatalf("status %d: %s", res.status, res.body)
	}
	var ans struct {
		Accepted map[string]struct{ Commits, Branches, PullRequests []string } `json:"acceptedDevinfoEntities"`
		Failed   map[string]struct {
			PullRequests []struct {
				ID            string
				ErrorMessages []struct{ Message string }
			}
		} `json:"failedDevinfoEntities"`
		Unknown []string `json:"unknownIssueKeys"`
	}
	if err := json.Unmarshal(res.body, &ans); err != nil {
		t.Fatal(err)
	}
	acc := ans.Accepted["git.example.com~team~app"]
	// The commit linked only to an unknown key is not stored.
	if !slices.Equal(acc.Commits, []string{devSHA}) || len(acc.Branches) != 1 || len(acc.PullRequests) != 0 {
		t.Errorf("accepted %+v", acc)
	}
	f := ans.Failed["git.example.com~team~app"].PullRequests
	if len(f) != 1 || f[0].ID != "12" || f[0].ErrorMessages[0].Message != "pull request rejected" {
		t.Errorf("failed %+v", f)
	}
	if !slices.Equal(ans.Unknown, []string{"ZZZ-9"}) {
		t.Errorf("unknown %v", ans.Unknown)
	}
	if got := srv.DevInfoStored("git.example.com~team~app", fakejira.EntityBranch); !slices.Equal(got, []string{"~666561747572652f4142432d31"}) {
		t.Fatalf("stored branches %v", got)
	}
	if len(srv.DevInfoBodies()) != 1 || srv.LastDevInfo()["operationType"] != "BACKFILL" {
		t.Errorf("bodies not recorded")
	}

	// A delete with an older sequence id leaves the branch; a newer one removes it.
	for _, c := range []struct {
		query string
		left  int
	}{{"_updateSequenceId=1", 1}, {"_updateSequenceId=1523494301248", 0}} {
		r := do(t, http.MethodDelete, devinfoDeleteURL(srv, "git.example.com~team~app", "branch", "~666561747572652f4142432d31", c.query), tok, "", nil)
		if r.status != http.StatusAccepted {
			t.Fatalf("delete: status %d: %s", r.status, r.body)
		}
		if got := srv.DevInfoStored("git.example.com~team~app", fakejira.EntityBranch); len(got) != c.left {
			t.Errorf("after %s: stored %v", c.query, got)
		}
	}
	if n := srv.Count(fakejira.EndpointDevInfoDelete); n != 2 {
		t.Errorf("Count(devinfo_delete) = %d", n)
	}
}

func TestDevInfoDeleteInvalid(t *testing.T) {
	rec := &recorder{TB: t}
	srv := fakejira.New(rec)
	tok := token(t, srv)
	for _, u := range []string{
		devinfoDeleteURL(srv, "r", "tag", "x", ""),
		devinfoDeleteURL(srv, "r", "branch", "feature%2Fx", ""),
		devinfoDeleteURL(srv, "r", "branch", "x", "_updateSequenceId=soon"),
	} {
		if r := do(t, http.MethodDelete, u, tok, "", nil); r.status != http.StatusBadRequest {
			t.Errorf("%s: status %d", u, r.status)
		}
	}
	if errs := rec.errors(); len(errs) != 3 {
		t.Errorf("reported %q, want 3 errors", errs)
	}
	if r := do(t, http.MethodDelete, devinfoDeleteURL(srv, "r", "branch", "x", ""), "", "", nil); r.status != http.StatusUnauthorized {
		t.Errorf("no token: status %d", r.status)
	}
}

func TestDevInfoInvalidAndScripted(t *testing.T) {
	rec := &recorder{TB: t}
	srv := fakejira.New(rec)
	tok := token(t, srv)
	repo := validRepo()
	repo["id"] = "a/b"
	res := postBulk(t, srv, "devinfo", tok, mustJSON(devinfoBody(repo)))
	var eb struct{ ErrorMessages []struct{ Message string } }
	if res.status != http.StatusBadRequest || json.Unmarshal(res.body, &eb) != nil || len(eb.ErrorMessages) == 0 ||
		!strings.Contains(eb.ErrorMessages[0].Message, "/repositories/0/id") {
		t.Errorf("status %d body %s, want 400 with devinfo's errorMessages", res.status, res.body)
	}
	// A scripted 403 still validates (and reports) the body.
	srv.Script(fakejira.EndpointDevInfo, fakejira.JSONResponse(http.StatusForbidden, `{"errorMessages":[{"message":"Forbidden"}]}`))
	if res := postBulk(t, srv, "devinfo", tok, mustJSON(devinfoBody(repo))); res.status != http.StatusForbidden {
		t.Errorf("scripted: status %d", res.status)
	}
	if errs := rec.errors(); len(errs) != 2 {
		t.Errorf("reported %q, want 2 errors", errs)
	}
}
