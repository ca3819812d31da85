package gitrepo

import (
	"fmt"
	"math/rand"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jira-cicd/jira-cicd/internal/gitrepo/gittest"
)

// skewedDAG is randomDAG with commit dates that often go back in time
// (rebases, wrong clocks): about one commit in five is dated hours or days
// before its parents, some far enough to outlast git's slop.
func skewedDAG(seed int64, n int) []gittest.Commit {
	cs := randomDAG(seed, n, 0)
	rng := rand.New(rand.NewSource(seed * 7919))
	when := gittest.Base
	for i := range cs {
		switch r := rng.Intn(20); {
		case r < 3:
			when = when.Add(-time.Duration(1+rng.Intn(48)) * time.Hour)
		case r < 4:
			when = when.Add(-time.Duration(1+rng.Intn(30)) * 24 * time.Hour)
		case r < 6:
			// equal to the previous commit
		default:
			when = when.Add(time.Duration(1+rng.Intn(90)) * time.Minute)
		}
		cs[i].When = when
	}
	return cs
}

// TestRangeClockSkewMatchesGitLog: on histories whose dates go back in
// time, since..HEAD lists exactly what git log lists, in git's order (the
// walk before git's painting and slop were copied listed commits git
// excludes on seeds 4 and 6).
func TestRangeClockSkewMatchesGitLog(t *testing.T) {
	needGit(t)
	for seed := int64(1); seed <= 8; seed++ {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			t.Parallel()
			repo := gittest.Build(t, skewedDAG(seed, 160))
			if seed%2 == 1 {
				// Uninteresting commits are then read from the graph.
				runGit(t, repo.Dir, "commit-graph", "write", "--reachable")
			}
			r := open(t, repo.Dir)
			if (r.graph != nil) != (seed%2 == 1) {
				t.Fatalf("commit-graph opened: %v", r.graph != nil)
			}
			rng := rand.New(rand.NewSource(seed))
			for k := 0; k < 25; k++ {
				since := repo.SHAs[rng.Intn(len(repo.SHAs)-1)]
				want := strings.Fields(runGit(t, repo.Dir, "log", "--format=%H", since+"..HEAD"))
				if len(want) == 0 {
					want = []string{repo.SHAs[len(repo.SHAs)-1]}
				}
				res := mustRange(t, r, since, 0)
				if !reflect.DeepEqual(res.SHAs, want) {
					t.Errorf("since %s: got %d commits, git log %d\n got %v\nwant %v", since[:7], len(res.SHAs), len(want), res.SHAs, want)
				}
				for _, max := range []int{1, 3, 10} {
					if len(want) <= max {
						continue
					}
					capped := mustRange(t, r, since, max)
					if !reflect.DeepEqual(capped.SHAs, want[:max]) || !capped.Capped {
						t.Errorf("since %s max %d: got %v (capped %v), want git log's first %v", since[:7], max, capped.SHAs, capped.Capped, want[:max])
					}
				}
			}
		})
	}
}
