// Command rangekeys is jira-cicd's commits_since path on its own: open the
// repository, walk since..HEAD (internal/gitrepo), and find the issue keys
// in every commit message (internal/issuekeys). The benchmark builds it like
// the image's binary and times it against
//
//	git log --format=%B since..HEAD | grep -oE '[A-Z][A-Z0-9_]+-[0-9]+'
//
// Usage: rangekeys DIR SINCE. It prints "N commits, K keys" (K distinct).
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/jira-cicd/jira-cicd/internal/gitrepo"
	"github.com/jira-cicd/jira-cicd/internal/issuekeys"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: rangekeys DIR SINCE")
		os.Exit(2)
	}
	n, k, err := scan(os.Args[1], os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, "rangekeys:", err)
		os.Exit(1)
	}
	fmt.Printf("%d commits, %d keys\n", n, k)
}

func scan(dir, since string) (commits, keys int, err error) {
	r, err := gitrepo.Open(dir)
	if err != nil {
		return 0, 0, err
	}
	defer r.Close()
	res, err := r.Range(context.Background(), since, 0)
	if err != nil {
		return 0, 0, err
	}
	if res.Warning != "" {
		return 0, 0, fmt.Errorf("%s", res.Warning)
	}
	set := issuekeys.New(nil).NewSet()
	set.Add(issuekeys.Commit, res.Messages...)
	return len(res.Messages), len(set.Found()), nil
}
