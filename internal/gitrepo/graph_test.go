package gitrepo

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestCommitGraphMatchesGit reads every commit of a two-layer split
// commit-graph holding an octopus merge (EDGE chunk) and compares parents
// and times with git log.
func TestCommitGraphMatchesGit(t *testing.T) {
	needGit(t)
	t.Parallel()
	dir := cliRepo(t, 4)
	for _, b := range []string{"a", "b", "c"} {
		runGit(t, dir, "checkout", "-q", "-b", b, "main~1")
		runGit(t, dir, "-c", "core.hooksPath=/dev/null", "commit", "-q", "--allow-empty", "-m", "on "+b)
	}
	runGit(t, dir, "checkout", "-q", "main")
	runGit(t, dir, "-c", "core.hooksPath=/dev/null", "merge", "-q", "--no-edit", "a", "b", "c")
	runGit(t, dir, "commit-graph", "write", "--reachable", "--split")
	runGit(t, dir, "-c", "core.hooksPath=/dev/null", "commit", "-q", "--allow-empty", "-m", "after")
	runGit(t, dir, "commit-graph", "write", "--reachable", "--split=no-merge")
	chain, err := os.ReadFile(filepath.Join(dir, ".git", "objects", "info", "commit-graphs", "commit-graph-chain"))
	if err != nil || len(strings.Fields(string(chain))) != 2 {
		t.Fatalf("want a two-layer chain: %q %v", chain, err)
	}
	r := open(t, dir)
	if r.graph == nil {
		t.Fatal("no graph")
	}
	octopus := false
	for _, line := range strings.Split(strings.TrimSpace(runGit(t, dir, "log", "--all", "--format=%H %ct %P")), "\n") {
		f := strings.Fields(line)
		ct, _ := strconv.ParseInt(f[1], 10, 64)
		when, parents, ok := r.graph.lookup(NewHash(f[0]), nil)
		if !ok || when != ct || len(parents) != len(f)-2 {
			t.Errorf("%s: %d %v %v, git says %v", f[0][:7], when, parents, ok, f[1:])
			continue
		}
		for i, p := range parents {
			if p.String() != f[2+i] {
				t.Errorf("%s: parent %d is %s, git says %s", f[0][:7], i, p, f[2+i])
			}
		}
		octopus = octopus || len(parents) > 2
	}
	if !octopus {
		t.Error("no octopus merge read")
	}
	if _, _, ok := r.graph.lookup(NewHash(strings.Repeat("ab", 20)), nil); ok {
		t.Error("an unknown commit was found")
	}
}

// FuzzCommitGraph: a damaged commit-graph file never panics the reader.
func FuzzCommitGraph(f *testing.F) {
	if seed, err := os.ReadFile(filepath.Join("testdata", "commit-graph")); err == nil {
		f.Add(seed)
	}
	f.Add([]byte("CGPH\x01\x01\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := parseGraphFile(data)
		if err != nil {
			return
		}
		g.chain = []*graphFile{g}
		cg := &commitGraph{sets: [][]*graphFile{g.chain}}
		for i := 0; i < g.n && i < 64; i++ {
			var h Hash
			copy(h[:], g.data[g.oids+i*graphHashLen:])
			cg.lookup(h, nil)
		}
		cg.lookup(Hash{}, nil)
	})
}
