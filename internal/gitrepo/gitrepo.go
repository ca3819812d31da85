// Package gitrepo reads the repository of the CI workspace: HEAD, commit
// messages, the origin URL, the last tag, and the messages of a range of
// commits (like `git log since..HEAD`). It needs no git binary and no git
// library: refs (loose and packed), configuration, alternates, shallow and
// commit-graph files are read by small readers here, and commits by a fast
// object reader over the repository's pack files (see objectDB). Object
// names and types are this package's own Hash and ObjectType (hash.go).
package gitrepo

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ErrNotRepository is returned (wrapped) by Open when no repository contains
// the directory.
var ErrNotRepository = errors.New("not a git repository")

// ErrUnsupportedRepository is returned (wrapped) by Open for a repository
// this package cannot read: SHA-256 object names, the reftable ref backend,
// or a repository format version above 1.
var ErrUnsupportedRepository = errors.New("unsupported repository format")

// Repo is an open repository. It is not safe for concurrent use. Close
// releases its memory mappings; a process that exits need not call it.
type Repo struct {
	gitDir    string // the repository directory (.git, or a worktree's)
	commonDir string // where objects, refs and config live (= gitDir unless a linked worktree)
	workTree  string // "" for a bare repository
	refs      refStore
	config    gitConfig
	db        *objectDB
	graph     *commitGraph
	shallow   map[Hash]struct{}

	tags map[Hash][]tagRef // commit → tags pointing at it (lazy)

	parentBuf []Hash
}

// Open finds the repository that contains dir, walking up the directory
// tree like git does: at each level a .git directory, or a .git file
// ("gitdir: <path>", as in linked worktrees and submodules), or the
// directory itself being a bare repository. Linked worktrees
// (.git/worktrees/<name> with a commondir file) are supported, and so are
// the repository extensions git's own checkouts write (worktreeConfig,
// partialClone, preciousObjects, noop); a SHA-256 or reftable repository
// is refused with ErrUnsupportedRepository.
func Open(dir string) (*Repo, error) {
	if dir == "" {
		dir = "."
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("open repository: %w", err)
	}
	if !st.IsDir() {
		abs = filepath.Dir(abs)
	}
	gitDir, workTree, err := discover(abs)
	if err != nil {
		return nil, err
	}
	commonDir := gitDir
	if b, err := readSmallFile(filepath.Join(gitDir, "commondir")); err == nil {
		c := strings.TrimSpace(string(b))
		if !filepath.IsAbs(c) {
			c = filepath.Join(gitDir, c)
		}
		commonDir = filepath.Clean(c)
	}

	r := &Repo{gitDir: gitDir, commonDir: commonDir, workTree: workTree, config: gitConfig{}}
	r.refs = refStore{gitDir: gitDir, commonDir: commonDir}
	if err := r.readConfig(); err != nil {
		return nil, fmt.Errorf("open repository %s: %w", gitDir, err)
	}
	objDir := filepath.Join(commonDir, "objects")
	if r.db, err = openObjectDB(objDir); err != nil {
		return nil, fmt.Errorf("open repository %s: %w", gitDir, err)
	}
	if r.shallow, err = readShallow(filepath.Join(commonDir, "shallow")); err != nil {
		r.Close()
		return nil, fmt.Errorf("open repository %s: %w", gitDir, err)
	}
	if len(r.shallow) == 0 {
		// git does not use the commit-graph in a shallow repository,
		// whose graph would not match the grafted history. The graphs
		// of alternate object stores are used too, as git does.
		r.graph = openCommitGraphs(r.db.objDirs)
	}
	return r, nil
}

// readConfig reads the repository's config (and config.worktree with the
// worktreeConfig extension) and refuses formats this package cannot read.
func (r *Repo) readConfig() error {
	if err := readConfig(filepath.Join(r.commonDir, "config"), r.config); err != nil {
		return err
	}
	version := 0
	if v := r.config.get("core.repositoryformatversion"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return fmt.Errorf("core.repositoryformatversion %q: %w", v, ErrUnsupportedRepository)
		}
		version = n
	}
	if version > 1 {
		return fmt.Errorf("repository format version %d (git knows 0 and 1): %w", version, ErrUnsupportedRepository)
	}
	if version == 0 {
		return nil // git ignores extensions in a version 0 repository
	}
	if f := strings.ToLower(r.config.get("extensions.objectformat")); f != "" && f != "sha1" {
		return fmt.Errorf("the repository uses %s object names (git init --object-format=%s), which this reader does not read yet: %w", f, f, ErrUnsupportedRepository)
	}
	if f := strings.ToLower(r.config.get("extensions.refstorage")); f != "" && f != "files" {
		return fmt.Errorf("the repository stores its refs as %s, which this reader does not read: %w", f, ErrUnsupportedRepository)
	}
	if isTrue(r.config.get("extensions.worktreeconfig")) {
		// Per-worktree settings (git sparse-checkout writes them); they
		// override the common config.
		if err := readConfig(filepath.Join(r.gitDir, "config.worktree"), r.config); err != nil {
			return err
		}
	}
	return nil
}

func isTrue(v string) bool {
	switch strings.ToLower(v) {
	case "true", "yes", "on", "1":
		return true
	}
	return false
}

// readSmallFile reads a file of at most 64 KiB (the .git file, commondir,
// HEAD): workspace files may be hostile.
func readSmallFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, 64<<10))
}

// discover walks up from dir to the repository.
func discover(start string) (gitDir, workTree string, err error) {
	for d := start; ; {
		dot := filepath.Join(d, ".git")
		if fi, err := os.Stat(dot); err == nil {
			if fi.IsDir() {
				if isGitDir(dot) {
					return dot, d, nil
				}
			} else if fi.Mode().IsRegular() {
				target, err := readGitFile(dot)
				if err != nil {
					return "", "", err
				}
				if !isGitDir(target) {
					return "", "", fmt.Errorf("%s points at %s, which is not a git repository", dot, target)
				}
				return target, d, nil
			}
		}
		if isGitDir(d) {
			return d, "", nil // a bare repository, or inside a .git directory
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", "", fmt.Errorf("%w (or any of the parent directories): %s", ErrNotRepository, start)
		}
		d = parent
	}
}

// isGitDir mirrors git's check: a HEAD file, and objects and refs
// directories (or a commondir file, for a linked worktree).
func isGitDir(d string) bool {
	if fi, err := os.Stat(filepath.Join(d, "HEAD")); err != nil || fi.IsDir() {
		return false
	}
	if fi, err := os.Stat(filepath.Join(d, "commondir")); err == nil && !fi.IsDir() {
		return true
	}
	for _, sub := range []string{"objects", "refs"} {
		if fi, err := os.Stat(filepath.Join(d, sub)); err != nil || !fi.IsDir() {
			return false
		}
	}
	return true
}

func readGitFile(path string) (string, error) {
	b, err := readSmallFile(path)
	if err != nil {
		return "", err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	rest, ok := strings.CutPrefix(strings.TrimSpace(line), "gitdir:")
	if !ok {
		return "", fmt.Errorf("%s: not a gitdir file", path)
	}
	target := strings.TrimSpace(rest)
	if !filepath.IsAbs(target) {
		target = filepath.Join(filepath.Dir(path), target)
	}
	return filepath.Clean(target), nil
}

func readShallow(path string) (map[Hash]struct{}, error) {
	f, err := os.Open(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, nil
		}
		return nil, err
	}
	defer f.Close()
	out := map[Hash]struct{}{}
	sc := bufio.NewScanner(io.LimitReader(f, 64<<20)) // 1.5 million boundary commits
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if isHash(line) {
			out[NewHash(line)] = struct{}{}
		}
	}
	return out, sc.Err()
}

// Close releases the repository's files and mappings.
func (r *Repo) Close() error {
	var first error
	if r.graph != nil {
		first = r.graph.Close()
		r.graph = nil
	}
	if r.db != nil {
		if err := r.db.close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// GitDir is the repository directory (the .git directory, or a linked
// worktree's directory under the main repository's .git/worktrees).
func (r *Repo) GitDir() string { return r.gitDir }

// WorkTree is the top directory of the work tree, "" for a bare repository.
func (r *Repo) WorkTree() string { return r.workTree }

// IsShallow tells whether the repository is a shallow clone (it has a
// .git/shallow file listing commits whose parents were not fetched).
func (r *Repo) IsShallow() bool { return len(r.shallow) > 0 }

// Head describes the commit checked out.
type Head struct {
	SHA     string
	Branch  string // short branch name; "" when HEAD is detached
	Tag     string // a tag pointing at HEAD, "" if none (annotated tags preferred, then the newest, then by name)
	Message string
	Time    time.Time // committer time, in the committer's zone
}

// Head returns HEAD's commit, branch and tag.
func (r *Repo) Head() (Head, error) {
	var h Head
	ref, err := r.refs.read("HEAD")
	if err != nil {
		return h, fmt.Errorf("read HEAD: %w", err)
	}
	if b, ok := strings.CutPrefix(ref.target, "refs/heads/"); ok {
		h.Branch = b
	}
	sha, err := r.headHashFrom(ref)
	if err != nil {
		return h, err
	}
	ci, err := r.readCommit(sha)
	if err != nil {
		return h, fmt.Errorf("read HEAD commit %s: %w", sha, err)
	}
	h.SHA = sha.String()
	h.Message = string(toUTF8(ci.msg, ci.enc))
	h.Time = ci.time()
	h.Tag, err = r.tagAt(sha)
	return h, err
}

func (r *Repo) headHash() (Hash, error) {
	head, err := r.refs.read("HEAD")
	if err != nil {
		return ZeroHash, fmt.Errorf("resolve HEAD: %w", err)
	}
	return r.headHashFrom(head)
}

// headHashFrom is headHash for HEAD already read (Head reads it for the
// branch name too).
func (r *Repo) headHashFrom(head ref) (Hash, error) {
	h, err := r.refs.follow(head)
	if err != nil {
		if errors.Is(err, ErrReferenceNotFound) && head.target != "" {
			return ZeroHash, fmt.Errorf("HEAD points at %s, which has no commits yet", head.target)
		}
		return ZeroHash, fmt.Errorf("resolve HEAD: %w", err)
	}
	return r.peelToCommit(h)
}

// readCommit reads and parses a commit. The message aliases a buffer that is
// reused by the next object read.
func (r *Repo) readCommit(h Hash) (commitInfo, error) {
	t, data, err := r.db.read(h)
	if err != nil {
		return commitInfo{}, err
	}
	if t != CommitObject {
		return commitInfo{}, fmt.Errorf("object %s is a %s, not a commit", h, t)
	}
	ci, err := parseCommit(data, r.parentBuf[:0])
	r.parentBuf = ci.parents[:0]
	if err != nil {
		return ci, fmt.Errorf("commit %s: %w", h, err)
	}
	return ci, nil
}

// peelToCommit follows annotated tags to the commit they name.
func (r *Repo) peelToCommit(h Hash) (Hash, error) {
	for i := 0; i < 16; i++ {
		t, data, err := r.db.read(h)
		if err != nil {
			return ZeroHash, err
		}
		switch t {
		case CommitObject:
			return h, nil
		case TagObject:
			ti, err := parseTag(data)
			if err != nil {
				return ZeroHash, fmt.Errorf("tag %s: %w", h, err)
			}
			h = ti.target
		default:
			return ZeroHash, fmt.Errorf("object %s is a %s, not a commit", h, t)
		}
	}
	return ZeroHash, fmt.Errorf("tag %s: too many nested tags", h)
}

// CommitMessage returns the message of the commit that rev names: a SHA
// (full or abbreviated), a branch, a tag, "HEAD", or those followed by
// ~N and ^N steps (HEAD~2, v1.0^) or ^{} / ^{commit}.
func (r *Repo) CommitMessage(rev string) (string, error) {
	h, err := r.Resolve(rev)
	if err != nil {
		return "", err
	}
	ci, err := r.readCommit(h)
	if err != nil {
		return "", err
	}
	return string(toUTF8(ci.msg, ci.enc)), nil
}

// Commit returns the commit that rev names (see CommitMessage for the
// syntax; "HEAD" is the commit checked out).
func (r *Repo) Commit(rev string) (Commit, error) {
	h, err := r.Resolve(rev)
	if err != nil {
		return Commit{}, err
	}
	return r.commit(h)
}

// commit reads commit h into a Commit. At a shallow clone's boundary it
// has no parents, as git shows it.
func (r *Repo) commit(h Hash) (Commit, error) {
	ci, err := r.readCommit(h)
	if err != nil {
		return Commit{}, err
	}
	c := Commit{Hash: h.String(), CommitTime: ci.time()}
	if _, shallow := r.shallow[h]; !shallow && len(ci.parents) > 0 {
		c.Parents = make([]string, len(ci.parents))
		for i, p := range ci.parents {
			c.Parents[i] = p.String()
		}
	}
	c.AuthorName, c.AuthorEmail, c.AuthorTime = parseIdent(string(toUTF8(ci.author, ci.enc)), nil)
	c.Message = string(toUTF8(ci.msg, ci.enc))
	return c, nil
}

// Resolve returns the commit SHA that rev names (see CommitMessage).
// Annotated tags are peeled. As with git, a ref wins over an abbreviated
// SHA of the same spelling, and an ambiguous abbreviation is an error.
func (r *Repo) Resolve(rev string) (Hash, error) {
	rev = strings.TrimSpace(rev)
	if rev == "" {
		return ZeroHash, errors.New("empty revision")
	}
	if rev == "@" || strings.HasPrefix(rev, "@~") || strings.HasPrefix(rev, "@^") {
		rev = "HEAD" + rev[1:]
	}
	if i := strings.IndexAny(rev, "~^"); i > 0 && !strings.ContainsAny(rev, ":{@") {
		// <rev>~N, <rev>^N and chains of them.
		h, err := r.Resolve(rev[:i])
		if err != nil {
			return ZeroHash, err
		}
		return r.walkSuffix(h, rev, rev[i:])
	}
	for _, peel := range []string{"^{}", "^{commit}"} {
		if base, ok := strings.CutSuffix(rev, peel); ok && base != "" {
			return r.Resolve(base) // Resolve peels to the commit anyway
		}
	}
	if strings.ContainsAny(rev, "~^:{") || strings.Contains(rev, "@{") {
		return ZeroHash, fmt.Errorf("revision %q: unsupported revision syntax (use a SHA, a ref, or ref~N / ref^N)", rev)
	}
	if len(rev) == 40 && isHash(rev) {
		h, err := r.peelToCommit(NewHash(rev))
		if err != nil {
			return ZeroHash, fmt.Errorf("revision %q: %w", rev, err)
		}
		return h, nil
	}
	if rev == "HEAD" {
		return r.headHash()
	}
	for _, rule := range refRevParseRules {
		name := fmt.Sprintf(rule, rev)
		if !strings.HasPrefix(name, "refs/") && !isPseudoRef(name) {
			continue // as git: only all-caps names (HEAD, ORIG_HEAD…) outside refs/
		}
		if !validRefName(name) {
			continue
		}
		rh, err := r.refs.resolve(name)
		if err == nil {
			h, err := r.peelToCommit(rh)
			if err != nil {
				return ZeroHash, fmt.Errorf("revision %q: %w", rev, err)
			}
			return h, nil
		}
	}
	if len(rev) >= 4 && len(rev) < 40 && isHex(rev) {
		prefix := strings.ToLower(rev)
		var commits []Hash
		for _, h := range r.db.hashesWithPrefix(prefix) {
			if c, err := r.peelToCommit(h); err == nil {
				commits = append(commits, c)
			}
		}
		commits = uniqHashes(commits)
		switch len(commits) {
		case 1:
			return commits[0], nil
		case 0:
		default:
			return ZeroHash, fmt.Errorf("revision %q: abbreviated SHA is ambiguous (%d commits)", rev, len(commits))
		}
	}
	return ZeroHash, fmt.Errorf("revision %q: %w", rev, ErrReferenceNotFound)
}

// walkSuffix applies "~N" (N first parents) and "^N" (the N-th parent)
// steps to h.
func (r *Repo) walkSuffix(h Hash, rev, suffix string) (Hash, error) {
	for suffix != "" {
		op := suffix[0]
		suffix = suffix[1:]
		j := 0
		for j < len(suffix) && suffix[j] >= '0' && suffix[j] <= '9' {
			j++
		}
		n := 1
		if j > 0 {
			var err error
			if n, err = strconv.Atoi(suffix[:j]); err != nil || n > 1<<20 {
				return ZeroHash, fmt.Errorf("revision %q: bad number", rev)
			}
		}
		suffix = suffix[j:]
		if op != '~' && op != '^' {
			return ZeroHash, fmt.Errorf("revision %q: unsupported syntax", rev)
		}
		steps, nth := n, 1
		if op == '^' {
			steps, nth = 1, n
			if n == 0 {
				continue // ^0: the commit itself
			}
		}
		for k := 0; k < steps; k++ {
			ci, err := r.readCommit(h)
			if err != nil {
				return ZeroHash, fmt.Errorf("revision %q: %w", rev, err)
			}
			if _, shallow := r.shallow[h]; shallow || len(ci.parents) < nth {
				return ZeroHash, fmt.Errorf("revision %q: commit %s has no parent %d in this clone", rev, short(h), nth)
			}
			h = ci.parents[nth-1]
		}
	}
	return h, nil
}

// isPseudoRef: git resolves names outside refs/ only when they are all
// capitals and underscores (HEAD, FETCH_HEAD, ORIG_HEAD…).
func isPseudoRef(name string) bool {
	for i := 0; i < len(name); i++ {
		if c := name[i]; !('A' <= c && c <= 'Z' || c == '_') {
			return false
		}
	}
	return name != ""
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func uniqHashes(hs []Hash) []Hash {
	seen := map[Hash]bool{}
	out := hs[:0]
	for _, h := range hs {
		if !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	return out
}

// OriginURL returns the first URL of the remote "origin", "" if there is
// none. A password or token embedded in an http(s) URL (as some CI systems
// put there) is removed.
func (r *Repo) OriginURL() string {
	return redactURL(r.config.first("remote.origin.url"))
}

func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil || (u.Scheme != "http" && u.Scheme != "https") {
		return raw
	}
	u.User = nil
	return u.String()
}

// tagRef is a tag that points (after peeling) at a commit.
type tagRef struct {
	name      string // short name
	annotated bool
	when      int64 // tagger time of an annotated tag
}

// better reports whether a is preferred to b as "the" tag of a commit, the
// way git describe chooses: annotated over lightweight, then the newer
// annotated tag, then the name that sorts first.
func (a tagRef) better(b tagRef) bool {
	if a.annotated != b.annotated {
		return a.annotated
	}
	if a.annotated && a.when != b.when {
		return a.when > b.when
	}
	return a.name < b.name
}

// loadTags maps every commit that tags point at to those tags.
func (r *Repo) loadTags() error {
	if r.tags != nil {
		return nil
	}
	refs, err := r.refs.list("refs/tags/")
	if err != nil {
		return fmt.Errorf("read tags: %w", err)
	}
	tags := map[Hash][]tagRef{}
	for name, h := range refs {
		tr := tagRef{name: strings.TrimPrefix(name, "refs/tags/")}
		for i := 0; i < 16; i++ {
			t, data, err := r.db.read(h)
			if err != nil {
				break // a dangling tag: ignore it
			}
			if t == CommitObject {
				tags[h] = append(tags[h], tr)
				break
			}
			if t != TagObject {
				break // a tag of a tree or blob
			}
			ti, err := parseTag(data)
			if err != nil {
				break
			}
			if !tr.annotated {
				tr.annotated, tr.when = true, ti.when
			}
			h = ti.target
		}
	}
	for _, list := range tags {
		sort.Slice(list, func(i, j int) bool { return list[i].better(list[j]) })
	}
	r.tags = tags
	return nil
}

// tagAt returns the preferred tag pointing at commit h, "" if none.
func (r *Repo) tagAt(h Hash) (string, error) {
	if err := r.loadTags(); err != nil {
		return "", err
	}
	if list := r.tags[h]; len(list) > 0 {
		return list[0].name, nil
	}
	return "", nil
}
