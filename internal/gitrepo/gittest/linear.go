package gittest

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/storage/memory"
)

// LinearBaseTag is the lightweight tag MakeLinearRepo puts on the first
// (root) commit, so that LinearBaseTag+"..HEAD" spans n-1 commits.
const LinearBaseTag = "base"

// LinearMessage is the message of commit i (0-based) of a linear repository.
// Each message names two Jira keys: PROJ-<i+1> and ABC-<i%500>.
func LinearMessage(i int) string {
	return fmt.Sprintf("PROJ-%d: change number %d\n\nThis also touches ABC-%d; see the review notes.\n", i+1, i, i%500)
}

// LinearKeysPerCommit is the number of Jira key occurrences in each
// LinearMessage.
const LinearKeysPerCommit = 2

// MakeLinearRepo builds, in a temporary directory of tb, a repository whose
// branch main (HEAD) has n commits in a line, messages LinearMessage(0..n-1),
// committer times Base + i minutes, and the tag LinearBaseTag on the root.
// All objects are in one pack, as in a fresh clone. See BuildLinearRepo.
func MakeLinearRepo(tb testing.TB, n int) string {
	tb.Helper()
	dir := tb.TempDir()
	if err := BuildLinearRepo(dir, n); err != nil {
		tb.Fatalf("gittest: %v", err)
	}
	return dir
}

// BuildLinearRepo is MakeLinearRepo into dir (created if missing), for callers
// that keep the repository across benchmark runs. It uses `git fast-import`
// and `git repack -adf` when git is on PATH (10,000 commits take about a
// second) and go-git's pack encoder otherwise; both give the same commits.
func BuildLinearRepo(dir string, n int) error {
	if n < 1 {
		return fmt.Errorf("gittest: n must be at least 1, got %d", n)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if _, err := lookGit(); err == nil {
		return buildLinearWithCLI(dir, n)
	}
	return buildLinearWithGoGit(dir, n)
}

func lookGit() (string, error) { return exec.LookPath("git") }

// GitEnv is the environment the helpers run git with: the caller's, minus
// any user or system configuration that could change git's output.
func GitEnv() []string {
	env := []string{}
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "GIT_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL="+os.DevNull,
		"GIT_TERMINAL_PROMPT=0",
		"GIT_AUTHOR_NAME=gittest",
		"GIT_AUTHOR_EMAIL=gittest@example.com",
		"GIT_COMMITTER_NAME=gittest",
		"GIT_COMMITTER_EMAIL=gittest@example.com",
		"LC_ALL=C",
	)
}

// Git runs the git CLI in dir and returns its standard output.
func Git(dir string, stdin []byte, args ...string) ([]byte, error) {
	gitBin, err := lookGit()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(gitBin, args...)
	cmd.Dir = dir
	cmd.Env = GitEnv()
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

func buildLinearWithCLI(dir string, n int) error {
	if _, err := Git(dir, nil, "init", "-q"); err != nil {
		return err
	}
	if _, err := Git(dir, nil, "symbolic-ref", "HEAD", "refs/heads/main"); err != nil {
		return err
	}
	var stream bytes.Buffer
	stream.Grow(n * 256)
	for i := 0; i < n; i++ {
		msg := LinearMessage(i)
		content := linearContent(i)
		ts := Base.Add(timeMinutes(i)).Unix()
		fmt.Fprintf(&stream, "commit refs/heads/main\nmark :%d\n", i+1)
		fmt.Fprintf(&stream, "author %s <%s> %d +0000\n", linearName, linearEmail, ts)
		fmt.Fprintf(&stream, "committer %s <%s> %d +0000\n", linearName, linearEmail, ts)
		fmt.Fprintf(&stream, "data %d\n%s", len(msg), msg)
		fmt.Fprintf(&stream, "M 100644 inline file.txt\ndata %d\n%s\n", len(content), content)
	}
	fmt.Fprintf(&stream, "reset refs/tags/%s\nfrom :1\n\n", LinearBaseTag)
	if _, err := Git(dir, stream.Bytes(), "fast-import", "--quiet"); err != nil {
		return err
	}
	// A clone's pack is made by pack-objects; make one the same way.
	if _, err := Git(dir, nil, "repack", "-a", "-d", "-f", "-q"); err != nil {
		return err
	}
	return nil
}

const (
	linearName  = "Bench Author"
	linearEmail = "bench@example.com"
)

func linearContent(i int) string { return fmt.Sprintf("line %d\n", i) }

func buildLinearWithGoGit(dir string, n int) error {
	repo, err := git.PlainInit(dir, false)
	if err != nil {
		return err
	}
	if err := repo.Storer.SetReference(plumbing.NewSymbolicReference(plumbing.HEAD, "refs/heads/main")); err != nil {
		return err
	}
	mem := memory.NewStorage()
	hashes := make([]plumbing.Hash, 0, 3*n)
	var prev, root plumbing.Hash
	for i := 0; i < n; i++ {
		blob, err := writeBlob(mem, linearContent(i))
		if err != nil {
			return err
		}
		tree, err := store(mem, &object.Tree{Entries: []object.TreeEntry{{Name: "file.txt", Mode: filemode.Regular, Hash: blob}}})
		if err != nil {
			return err
		}
		sig := object.Signature{Name: linearName, Email: linearEmail, When: Base.Add(timeMinutes(i)).UTC()}
		c := &object.Commit{Author: sig, Committer: sig, Message: LinearMessage(i), TreeHash: tree}
		if i > 0 {
			c.ParentHashes = []plumbing.Hash{prev}
		}
		h, err := store(mem, c)
		if err != nil {
			return err
		}
		if i == 0 {
			root = h
		}
		prev = h
		hashes = append(hashes, h, tree, blob)
	}
	pw, ok := repo.Storer.(storer.PackfileWriter)
	if !ok {
		return fmt.Errorf("gittest: storage cannot write packs")
	}
	w, err := pw.PackfileWriter()
	if err != nil {
		return err
	}
	if _, err := packfile.NewEncoder(w, mem, false).Encode(hashes, 0); err != nil {
		w.Close()
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	if err := repo.Storer.SetReference(plumbing.NewHashReference("refs/heads/main", prev)); err != nil {
		return err
	}
	return repo.Storer.SetReference(plumbing.NewHashReference(plumbing.NewTagReferenceName(LinearBaseTag), root))
}

// KeyPattern is the extended regular expression the baseline greps for.
const KeyPattern = `[A-Z][A-Z0-9_]+-[0-9]+`

// GitLogGrep runs the reference pipeline
//
//	git log --format=%B <since>..HEAD | grep -oE '[A-Z][A-Z0-9_]+-[0-9]+'
//
// in dir and returns how many keys grep printed. since "" means all of HEAD's
// history. It needs git and sh on PATH.
func GitLogGrep(dir, since string) (int, error) {
	rng := "HEAD"
	if since != "" {
		rng = since + "..HEAD"
	}
	cmd := exec.Command("sh", "-c", `git log --format=%B "$1" | grep -oE '`+KeyPattern+`'`, "sh", rng)
	cmd.Dir = dir
	cmd.Env = GitEnv()
	out, err := cmd.StdoutPipe()
	if err != nil {
		return 0, err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	count := 0
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		count++
	}
	if err := cmd.Wait(); err != nil {
		return count, fmt.Errorf("git log | grep: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	return count, nil
}

// TimeGitLogGrep runs GitLogGrep runs times (after one warm-up run) and
// returns the fastest run, the usual way to take a noisy external command's
// time. It also returns the key count of the last run.
func TimeGitLogGrep(dir, since string, runs int) (time.Duration, int, error) {
	if runs < 1 {
		runs = 1
	}
	count, err := GitLogGrep(dir, since)
	if err != nil {
		return 0, 0, err
	}
	best := time.Duration(1<<63 - 1)
	for i := 0; i < runs; i++ {
		start := time.Now()
		count, err = GitLogGrep(dir, since)
		if err != nil {
			return 0, 0, err
		}
		if d := time.Since(start); d < best {
			best = d
		}
	}
	return best, count, nil
}

// CompareWithGit times the GitLogGrep pipeline and ours (which must return
// the number of keys it found) on the repository in dir, alternating them
// for rounds rounds so that load from other processes hits both alike, and
// returns the best time of each. It fails if the key counts differ.
func CompareWithGit(dir, since string, rounds int, ours func() (int, error)) (gitTime, oursTime time.Duration, err error) {
	if rounds < 1 {
		rounds = 1
	}
	gitTime, oursTime = time.Duration(1<<63-1), time.Duration(1<<63-1)
	for i := 0; i < rounds; i++ {
		start := time.Now()
		gitKeys, err := GitLogGrep(dir, since)
		if err != nil {
			return 0, 0, err
		}
		if d := time.Since(start); d < gitTime {
			gitTime = d
		}
		start = time.Now()
		keys, err := ours()
		if err != nil {
			return 0, 0, err
		}
		if d := time.Since(start); d < oursTime {
			oursTime = d
		}
		if keys != gitKeys {
			return 0, 0, fmt.Errorf("git log | grep found %d keys, the other side %d", gitKeys, keys)
		}
	}
	return gitTime, oursTime, nil
}

func timeMinutes(i int) time.Duration { return time.Duration(i) * time.Minute }
