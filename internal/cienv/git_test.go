package cienv

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

const (
	headSHA  = "47082f658576f3c8a0e7b2a9d1c5e4f3a2b1c0d9"
	otherSHA = "c4f71a535de986600303936780f815721ebbe0c5"
)

func facts() GitFacts {
	return GitFacts{
		HeadSHA: headSHA, Branch: "feature/ABC-1-x", OriginURL: "git@github.com:acme/app.git",
		HeadMessage: "DEF-2 second change\n\nwith a body\n", WorkTree: "/src/app",
	}
}

// A local run takes everything from git.
func TestFillFromGitLocal(t *testing.T) {
	c := Detect(FromEnviron(nil), "/src/app")
	c.FillFromGit(facts())
	want := Context{
		CI: CILocal, Name: "local run", SHA: headSHA, Branch: "feature/ABC-1-x",
		CommitMessages: []string{"DEF-2 second change\n\nwith a body"},
		RepoName:       "acme/app", RepoURL: "https://github.com/acme/app", BuildURL: "https://github.com/acme/app",
		PipelineID: "acme/app", PipelineName: "acme/app", Workspace: "/src/app",
		Forge: ForgeGitHub, RepoID: "github.com~acme~app",
	}
	checkContext(t, "local", c, want)

	// No origin: the directory names the pipeline and the checkout is the
	// link; a tag at HEAD is the ref.
	c = Detect(FromEnviron(nil), "/src/app/sub")
	f := facts()
	f.OriginURL, f.Branch, f.Tag = "", "", "v1.0"
	c.FillFromGit(f)
	if c.RepoName != "app" || c.PipelineID != "app" || c.BuildURL != "file:///src/app" || c.Tag != "v1.0" || c.Branch != "" || c.RepoID != "" {
		t.Errorf("no origin: %+v", c)
	}

	c = Detect(FromEnviron(nil), "/nowhere")
	c.GitUnreadable(errors.New("not a git repository"))
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "no CI detected and no git repository readable in /nowhere") {
		t.Errorf("warnings %q", c.Warnings)
	}
}

// Bitbucket gives no message: the named commit's comes from git, and an
// abbreviated BITBUCKET_COMMIT becomes the full sha.
func TestFillFromGitBitbucket(t *testing.T) {
	bb := func(extra ...string) Context {
		return Detect(envOf(t, "bitbucket-pr.env", extra...), "/wd")
	}
	c := bb("BITBUCKET_COMMIT=" + headSHA[:12])
	f := facts()
	f.CISHA, f.CIMessage = headSHA, f.HeadMessage
	c.FillFromGit(f)
	if c.SHA != headSHA || c.PRHeadSHA != headSHA || !reflect.DeepEqual(c.CommitMessages, []string{"DEF-2 second change\n\nwith a body"}) || len(c.Warnings) != 0 {
		t.Errorf("abbreviated: sha %q messages %q warnings %q", c.SHA, c.CommitMessages, c.Warnings)
	}
	// The branch is Bitbucket's, not git's; the repository too.
	if c.Branch != "feature/bitbucket" || c.RepoURL != "https://bitbucket.org/ondrejmachulda/ci-detector" {
		t.Errorf("branch %q repo %q", c.Branch, c.RepoURL)
	}

	// The commit named is not HEAD: its message first, then HEAD's.
	c = bb("BITBUCKET_COMMIT=" + otherSHA)
	f = facts()
	f.CISHA, f.CIMessage = otherSHA, "ABC-1 first change\n"
	c.FillFromGit(f)
	if c.SHA != otherSHA || !reflect.DeepEqual(c.CommitMessages, []string{"ABC-1 first change", "DEF-2 second change\n\nwith a body"}) {
		t.Errorf("named commit: sha %q messages %q", c.SHA, c.CommitMessages)
	}

	// A commit the clone lacks: a warning, HEAD's message only.
	c = bb("BITBUCKET_COMMIT=" + otherSHA)
	c.FillFromGit(facts())
	if c.SHA != otherSHA || len(c.CommitMessages) != 1 || len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "is not in the repository") {
		t.Errorf("missing commit: sha %q messages %q warnings %q", c.SHA, c.CommitMessages, c.Warnings)
	}

	// No BITBUCKET_COMMIT: HEAD.
	c = Detect(envOf(t, "bitbucket-push.env", "BITBUCKET_COMMIT"), "/wd")
	c.FillFromGit(facts())
	if c.SHA != headSHA || c.Branch != "main" || len(c.CommitMessages) != 1 {
		t.Errorf("no commit: sha %q branch %q messages %q", c.SHA, c.Branch, c.CommitMessages)
	}

	c = bb()
	c.GitUnreadable(errors.New("no such directory"))
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "Bitbucket gives no commit message") {
		t.Errorf("warnings %q", c.Warnings)
	}
}

// Elsewhere git adds HEAD's message beside the CI's and fills only what
// the CI left empty.
func TestFillFromGitKeepsTheCIsValues(t *testing.T) {
	c := Detect(envOf(t, "real/woodpecker-3.17-pr.env"), "/wd")
	f := facts()
	f.HeadSHA = "af22212496642c70878ce84088b94c899bdc8976"
	f.HeadMessage = realMessage + "\n"
	c.FillFromGit(f)
	if !reflect.DeepEqual(c.CommitMessages, []string{realMessage}) || c.PRTitle != "Merge ABC-13 work" {
		t.Errorf("pr: messages %q title %q", c.CommitMessages, c.PRTitle)
	}
	if c.Branch != "feature/ABC-12-thing" || c.RepoURL != "http://127.0.0.1:3000/acme/widgets" || c.PipelineID != "acme/widgets/woodpecker" {
		t.Errorf("the CI's values changed: %+v", c)
	}
	// The same message twice counts once.
	c = Detect(envOf(t, "real/woodpecker-3.17-push.env"), "/wd")
	c.FillFromGit(f)
	if len(c.CommitMessages) != 1 {
		t.Errorf("push: %q", c.CommitMessages)
	}
	// HEAD is another commit than the CI's (GitHub's merge commit for a
	// pull request): both messages.
	c = Detect(envOf(t, "drone-push.env"), "/wd")
	c.FillFromGit(facts())
	if !reflect.DeepEqual(c.CommitMessages, []string{"add envvar", "DEF-2 second change\n\nwith a body"}) || c.SHA != "05818a52403e07b2cab4d980522e7264be4aa18c" {
		t.Errorf("drone: %q %q", c.SHA, c.CommitMessages)
	}
	// A CI without a repository link gets origin's.
	c = Detect(envOf(t, "real/gitlab-runner-16.10-exec-plain.env"), "/wd")
	c.FillFromGit(facts())
	if c.RepoURL != "https://github.com/acme/app" || c.RepoID != "github.com~acme~app" || c.Forge != ForgeGitLab {
		t.Errorf("gitlab exec: %q %q %q", c.RepoURL, c.RepoID, c.Forge)
	}
	c.GitUnreadable(errors.New("x"))
	if len(c.Warnings) != 0 {
		t.Errorf("a CI with its own messages needs no warning: %q", c.Warnings)
	}
}

func TestForgeAndRepoID(t *testing.T) {
	for url, want := range map[string]string{
		"https://github.com/a/b": ForgeGitHub, "https://github.example.com/a/b": ForgeGitHub,
		"https://gitlab.com/g/s/p": ForgeGitLab, "https://gitlab.acme.io/p": ForgeGitLab,
		"https://codeberg.org/a/b": ForgeGitea, "https://gitea.acme.io/a/b": ForgeGitea, "https://forgejo.acme.io/a/b": ForgeGitea,
		"https://bitbucket.org/w/r": ForgeBitbucket, "https://bitbucket.acme.io/projects/P/repos/r": ForgeBitbucketDC,
		"https://git.acme.io/a/b": "", "": "", "not a url": "",
	} {
		if got := ForgeFromURL(url); got != want {
			t.Errorf("ForgeFromURL(%q) = %q, want %q", url, got, want)
		}
	}
	for typ, want := range map[string]string{"gitea": ForgeGitea, "forgejo": ForgeGitea, "github": ForgeGitHub, "gitlab": ForgeGitLab, "bitbucket": ForgeBitbucket, "bitbucket-dc": ForgeBitbucketDC, "other": ""} {
		if got := forgeFromType(typ); got != want {
			t.Errorf("forgeFromType(%q) = %q", typ, got)
		}
	}
	for url, want := range map[string]string{
		"https://GitHub.com/Acme/App":          "github.com~acme~app",
		"https://github.com/acme/app.git/":     "github.com~acme~app",
		"http://127.0.0.1:3000/acme/widgets":   "127.0.0.1_3a3000~acme~widgets",
		"https://codeberg.org/Epsilon_02/todo": "codeberg.org~epsilon_5f02~todo",
		"https://x.org/a~b/c":                  "x.org~a_7eb~c",
		"":                                     "",
	} {
		if got := RepoID(url); got != want {
			t.Errorf("RepoID(%q) = %q, want %q", url, got, want)
		}
	}
	// The same repository from two CIs has one id; two repositories never
	// share one.
	if RepoID("https://github.com/a_b/c") == RepoID("https://github.com/a/b_c") {
		t.Error("ids collide")
	}
}
