package devinfo_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/jira-cicd/jira-cicd/internal/devinfo"
	"github.com/jira-cicd/jira-cicd/internal/issuekeys"
	"github.com/jira-cicd/jira-cicd/internal/jira/fakejira"
)

// FuzzBuild feeds attacker-writable text (commit messages, branch names,
// pull request titles, repository URLs) to Build: it never panics, and every
// body it makes satisfies the schema and its prose (lengths, ids, key
// patterns), each commit carrying only keys its own message names.
func FuzzBuild(f *testing.F) {
	f.Add("ABC-1 fix", "feature/ABC-1", "ABC-1 title", "https://github.com/a/b", uint8(0), "")
	f.Add("Merge DEF-2\n\n"+strings.Repeat("🙂", 700), "DEF-2/%zz?#", "", "https://gitlab.example.com/g/s/p.git", uint8(1), "abc")
	f.Add("\xff\xfeABC-1\x00", "ABC-1\xff", "\u2028ABC-2\t", "https://git.acme.com/scm/team/app.git", uint8(4), "ABC")
	f.Add(strings.Repeat("ABC-1 ", 400), strings.Repeat("b", 600)+"-ABC-1", strings.Repeat("t", 2000)+" ABC-3", "https://codeberg.org/x/y", uint8(2), "")
	f.Add("X-1 ÄBC-12 abc-1", "ab c ABC-1", "AB-"+strings.Repeat("9", 300), "https://bitbucket.org/w/r", uint8(3), "abc")
	forges := devinfo.Forges()
	f.Fuzz(func(t *testing.T, message, branch, title, webURL string, forge uint8, project string) {
		find := issuekeys.New(strings.Split(project, ",")).Find
		head := commit(1, message)
		head.Files = []devinfo.File{{Path: branch, Change: title, Counted: true}, {Path: message, Counted: true}}
		in := devinfo.Input{
			Repo:        devinfo.Repo{WebURL: webURL, Name: title},
			Forge:       forges[int(forge)%len(forges)],
			Commits:     []devinfo.Commit{commit(0, title), head, commit(2, message+" "+branch)},
			Branch:      &devinfo.Branch{Name: branch, Head: head},
			PullRequest: &devinfo.PullRequest{Number: int64(forge) + 1, Title: title, SourceBranch: branch, DestinationBranch: message, CommitMessages: []string{message}},
			Keys:        find,
			Now:         now,
		}
		out, err := devinfo.Build(in)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "repository_url: ") {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		msgs := map[string]string{sha(0): title, sha(1): message, sha(2): message + " " + branch}
		for i, r := range out.Requests {
			b, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			if err := fakejira.ValidateBody("devinfo", b); err != nil {
				t.Fatalf("request %d does not validate: %v\n%s", i, err, b)
			}
			for _, c := range r.Repositories[0].Commits {
				own := find(msgs[c.ID])
				for _, k := range c.IssueKeys {
					if !slices.Contains(own, k) {
						t.Fatalf("commit %s carries %s, not in its message %q", c.ID, k, msgs[c.ID])
					}
				}
			}
		}
	})
}
