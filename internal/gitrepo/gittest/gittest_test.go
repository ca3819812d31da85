package gittest

import (
	"path/filepath"
	"testing"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// TestLinearBuilders checks the go-git builder (used where git is absent)
// and, with git, that the fast-import builder makes the very same commits.
func TestLinearBuilders(t *testing.T) {
	const n = 30
	dir := t.TempDir()
	if err := buildLinearWithGoGit(dir, n); err != nil {
		t.Fatal(err)
	}
	repo, err := git.PlainOpen(dir)
	if err != nil {
		t.Fatal(err)
	}
	head, err := repo.Head()
	if err != nil || head.Name() != "refs/heads/main" {
		t.Fatalf("HEAD %v, %v", head, err)
	}
	iter, err := repo.Log(&git.LogOptions{From: head.Hash()})
	if err != nil {
		t.Fatal(err)
	}
	i := n - 1
	err = iter.ForEach(func(c *object.Commit) error {
		if c.Message != LinearMessage(i) || !c.Committer.When.Equal(Base.Add(timeMinutes(i))) {
			t.Errorf("commit %d: %q at %v", i, c.Message, c.Committer.When)
		}
		i--
		return nil
	})
	if err != nil || i != -1 {
		t.Fatalf("walked to %d, %v", i, err)
	}
	base, err := repo.ResolveRevision(LinearBaseTag)
	if err != nil {
		t.Fatal(err)
	}
	if packs, _ := filepath.Glob(filepath.Join(dir, ".git", "objects", "pack", "*.pack")); len(packs) != 1 {
		t.Errorf("packs: %v", packs)
	}

	if !HasGit() {
		return
	}
	cli := t.TempDir()
	if err := buildLinearWithCLI(cli, n); err != nil {
		t.Fatal(err)
	}
	out, err := Git(cli, nil, "rev-parse", "HEAD", LinearBaseTag)
	if err != nil {
		t.Fatal(err)
	}
	if want := head.Hash().String() + "\n" + base.String() + "\n"; string(out) != want {
		t.Errorf("fast-import made\n%s\ngo-git made\n%s", out, want)
	}
	count, err := GitLogGrep(cli, LinearBaseTag)
	if err != nil || count != (n-1)*LinearKeysPerCommit {
		t.Errorf("GitLogGrep = %d, %v", count, err)
	}
}
