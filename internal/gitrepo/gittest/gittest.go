// Package gittest builds small and large Git repositories for tests and
// benchmarks. Small repositories are written with go-git itself, so tests that
// use them run on machines without a git binary; the large linear repository
// used by benchmarks is written with `git fast-import` when git is on PATH
// (fast) and with go-git's pack encoder otherwise.
package gittest

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// Base is the time of the first commit when Commit.When is zero; commit i is
// made at Base + i minutes.
var Base = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// Commit describes one commit for Build / MakeRepo.
type Commit struct {
	Message string
	// Parents are indexes of earlier commits of the same slice. nil means
	// "the previous commit" (none for the first one); a non-nil empty slice
	// makes a root commit.
	Parents []int
	// When is the author and committer time; zero means Base + i minutes.
	When time.Time
	// Branch: refs/heads/<Branch> is set to this commit ("" means "main").
	// When several commits name the same branch the last one wins.
	Branch string
	// Tag makes a lightweight tag refs/tags/<Tag> pointing at this commit.
	Tag string
	// AnnotatedTag makes an annotated tag object named AnnotatedTag that
	// points at this commit, and refs/tags/<AnnotatedTag> pointing at it.
	AnnotatedTag string
	// Files is the commit's whole tree (path → content, "/" separates
	// directories). nil means {"file.txt": "commit <i>\n"}.
	Files map[string]string
}

// Repo is a repository made by Build.
type Repo struct {
	Dir  string   // the work tree; the repository is Dir/.git
	SHAs []string // the commits' SHAs, in the order they were given
	// TagSHAs maps an annotated tag's name to its tag object's SHA.
	TagSHAs map[string]string
}

// HasGit reports whether a git binary is on PATH.
func HasGit() bool {
	_, err := lookGit()
	return err == nil
}

// MakeRepo builds a repository of the given commits in a temporary directory
// and returns its work-tree directory. HEAD is the symbolic ref
// refs/heads/main (which need not exist if no commit is on "main").
func MakeRepo(tb testing.TB, commits []Commit) string {
	tb.Helper()
	return Build(tb, commits).Dir
}

// Build is MakeRepo that also returns the commits' SHAs.
func Build(tb testing.TB, commits []Commit) *Repo {
	tb.Helper()
	r, err := BuildAt(tb.TempDir(), commits)
	if err != nil {
		tb.Fatalf("gittest: %v", err)
	}
	return r
}

// BuildAt is Build into the given (empty or missing) directory, for callers
// that manage the directory's life themselves (e.g. a benchmark that caches
// the repository across runs).
func BuildAt(dir string, commits []Commit) (*Repo, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	repo, err := git.PlainInit(dir, false)
	if err != nil {
		return nil, err
	}
	if err := repo.Storer.SetReference(plumbing.NewSymbolicReference(plumbing.HEAD, "refs/heads/main")); err != nil {
		return nil, err
	}
	out := &Repo{Dir: dir, TagSHAs: map[string]string{}}
	hashes := make([]plumbing.Hash, 0, len(commits))
	branches := map[string]plumbing.Hash{}
	for i, c := range commits {
		tree, err := writeTree(repo.Storer, c.Files, i)
		if err != nil {
			return nil, err
		}
		when := c.When
		if when.IsZero() {
			when = Base.Add(time.Duration(i) * time.Minute)
		}
		var parents []plumbing.Hash
		switch {
		case c.Parents == nil && i > 0:
			parents = []plumbing.Hash{hashes[i-1]}
		default:
			for _, p := range c.Parents {
				if p < 0 || p >= i {
					return nil, fmt.Errorf("commit %d: parent index %d is not an earlier commit", i, p)
				}
				parents = append(parents, hashes[p])
			}
		}
		sig := object.Signature{Name: "Test Author", Email: "author@example.com", When: when}
		commit := &object.Commit{
			Author:       sig,
			Committer:    sig,
			Message:      c.Message,
			TreeHash:     tree,
			ParentHashes: parents,
		}
		h, err := store(repo.Storer, commit)
		if err != nil {
			return nil, err
		}
		hashes = append(hashes, h)
		out.SHAs = append(out.SHAs, h.String())
		branch := c.Branch
		if branch == "" {
			branch = "main"
		}
		branches[branch] = h
		if c.Tag != "" {
			if err := repo.Storer.SetReference(plumbing.NewHashReference(plumbing.NewTagReferenceName(c.Tag), h)); err != nil {
				return nil, err
			}
		}
		if c.AnnotatedTag != "" {
			tag := &object.Tag{
				Name:       c.AnnotatedTag,
				Tagger:     sig,
				Message:    "release " + c.AnnotatedTag + "\n",
				TargetType: plumbing.CommitObject,
				Target:     h,
			}
			th, err := store(repo.Storer, tag)
			if err != nil {
				return nil, err
			}
			out.TagSHAs[c.AnnotatedTag] = th.String()
			if err := repo.Storer.SetReference(plumbing.NewHashReference(plumbing.NewTagReferenceName(c.AnnotatedTag), th)); err != nil {
				return nil, err
			}
		}
	}
	for b, h := range branches {
		if err := repo.Storer.SetReference(plumbing.NewHashReference(plumbing.NewBranchReferenceName(b), h)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

type encodable interface {
	Encode(plumbing.EncodedObject) error
}

func store(s storer.EncodedObjectStorer, o encodable) (plumbing.Hash, error) {
	obj := s.NewEncodedObject()
	if err := o.Encode(obj); err != nil {
		return plumbing.ZeroHash, err
	}
	return s.SetEncodedObject(obj)
}

func writeBlob(s storer.EncodedObjectStorer, content string) (plumbing.Hash, error) {
	obj := s.NewEncodedObject()
	obj.SetType(plumbing.BlobObject)
	w, err := obj.Writer()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if _, err := w.Write([]byte(content)); err != nil {
		return plumbing.ZeroHash, err
	}
	if err := w.Close(); err != nil {
		return plumbing.ZeroHash, err
	}
	return s.SetEncodedObject(obj)
}

// writeTree writes the nested trees of files and returns the root's hash.
func writeTree(s storer.EncodedObjectStorer, files map[string]string, i int) (plumbing.Hash, error) {
	if files == nil {
		files = map[string]string{"file.txt": fmt.Sprintf("commit %d\n", i)}
	}
	type dir struct {
		files map[string]string
		dirs  map[string]*dir
	}
	newDir := func() *dir { return &dir{files: map[string]string{}, dirs: map[string]*dir{}} }
	root := newDir()
	for p, content := range files {
		parts := splitPath(p)
		d := root
		for _, part := range parts[:len(parts)-1] {
			sub, ok := d.dirs[part]
			if !ok {
				sub = newDir()
				d.dirs[part] = sub
			}
			d = sub
		}
		d.files[parts[len(parts)-1]] = content
	}
	var write func(d *dir) (plumbing.Hash, error)
	write = func(d *dir) (plumbing.Hash, error) {
		var entries []object.TreeEntry
		for name, content := range d.files {
			h, err := writeBlob(s, content)
			if err != nil {
				return plumbing.ZeroHash, err
			}
			entries = append(entries, object.TreeEntry{Name: name, Mode: filemode.Regular, Hash: h})
		}
		for name, sub := range d.dirs {
			h, err := write(sub)
			if err != nil {
				return plumbing.ZeroHash, err
			}
			entries = append(entries, object.TreeEntry{Name: name, Mode: filemode.Dir, Hash: h})
		}
		// Git sorts tree entries by name, directories as if they ended in "/".
		key := func(e object.TreeEntry) string {
			if e.Mode == filemode.Dir {
				return e.Name + "/"
			}
			return e.Name
		}
		sort.Slice(entries, func(a, b int) bool { return key(entries[a]) < key(entries[b]) })
		return store(s, &object.Tree{Entries: entries})
	}
	return write(root)
}

func splitPath(p string) []string {
	var parts []string
	for _, part := range strings.Split(filepath.ToSlash(p), "/") {
		if part != "" {
			parts = append(parts, part)
		}
	}
	return parts
}

func (r *Repo) open(tb testing.TB) *git.Repository {
	tb.Helper()
	repo, err := git.PlainOpen(r.Dir)
	if err != nil {
		tb.Fatalf("gittest: open %s: %v", r.Dir, err)
	}
	return repo
}

// SetHead points HEAD at target: a full ref name such as "refs/heads/topic"
// makes HEAD symbolic; a 40-hex SHA detaches it.
func (r *Repo) SetHead(tb testing.TB, target string) {
	tb.Helper()
	repo := r.open(tb)
	var ref *plumbing.Reference
	if plumbing.IsHash(target) {
		ref = plumbing.NewHashReference(plumbing.HEAD, plumbing.NewHash(target))
	} else {
		ref = plumbing.NewSymbolicReference(plumbing.HEAD, plumbing.ReferenceName(target))
	}
	if err := repo.Storer.SetReference(ref); err != nil {
		tb.Fatalf("gittest: set HEAD: %v", err)
	}
}

// SetRef creates or moves a ref (full name) to a commit SHA.
func (r *Repo) SetRef(tb testing.TB, name, sha string) {
	tb.Helper()
	repo := r.open(tb)
	if err := repo.Storer.SetReference(plumbing.NewHashReference(plumbing.ReferenceName(name), plumbing.NewHash(sha))); err != nil {
		tb.Fatalf("gittest: set %s: %v", name, err)
	}
}

// SetRemote adds a remote with the given URLs to the repository's config.
func (r *Repo) SetRemote(tb testing.TB, name string, urls ...string) {
	tb.Helper()
	repo := r.open(tb)
	if _, err := repo.CreateRemote(&config.RemoteConfig{Name: name, URLs: urls}); err != nil {
		tb.Fatalf("gittest: add remote %s: %v", name, err)
	}
}

// Pack moves all loose objects into a single pack file, as after a clone.
func (r *Repo) Pack(tb testing.TB) {
	tb.Helper()
	repo := r.open(tb)
	if err := repo.RepackObjects(&git.RepackConfig{}); err != nil {
		tb.Fatalf("gittest: repack: %v", err)
	}
	// RepackObjects deletes the packed loose objects but leaves their
	// directories; a clone has none.
	objects := filepath.Join(r.Dir, ".git", "objects")
	entries, err := os.ReadDir(objects)
	if err != nil {
		tb.Fatalf("gittest: %v", err)
	}
	for _, e := range entries {
		if e.IsDir() && len(e.Name()) == 2 {
			if err := os.RemoveAll(filepath.Join(objects, e.Name())); err != nil {
				tb.Fatalf("gittest: %v", err)
			}
		}
	}
}

// Shallow makes a shallow copy of r, as `git clone --depth depth` of HEAD's
// branch would: the commits at most depth-1 parent steps from HEAD, with their
// trees and blobs, and a .git/shallow file naming the boundary commits, whose
// parents are absent. Refs pointing at copied commits and HEAD are kept.
func (r *Repo) Shallow(tb testing.TB, depth int) *Repo {
	tb.Helper()
	src := r.open(tb)
	dstDir := tb.TempDir()
	dst, err := git.PlainInit(dstDir, false)
	if err != nil {
		tb.Fatalf("gittest: %v", err)
	}
	head, err := src.Storer.Reference(plumbing.HEAD)
	if err != nil {
		tb.Fatalf("gittest: %v", err)
	}
	resolved, err := src.Head()
	if err != nil {
		tb.Fatalf("gittest: %v", err)
	}

	dist := map[plumbing.Hash]int{resolved.Hash(): 1}
	queue := []plumbing.Hash{resolved.Hash()}
	var shallow []plumbing.Hash
	for len(queue) > 0 {
		h := queue[0]
		queue = queue[1:]
		c, err := src.CommitObject(h)
		if err != nil {
			tb.Fatalf("gittest: %v", err)
		}
		if err := copyObject(src.Storer, dst.Storer, h); err != nil {
			tb.Fatalf("gittest: %v", err)
		}
		if err := copyTree(src.Storer, dst.Storer, c.TreeHash); err != nil {
			tb.Fatalf("gittest: %v", err)
		}
		if dist[h] >= depth {
			if len(c.ParentHashes) > 0 {
				shallow = append(shallow, h)
			}
			continue
		}
		for _, p := range c.ParentHashes {
			if _, seen := dist[p]; !seen {
				dist[p] = dist[h] + 1
				queue = append(queue, p)
			}
		}
	}
	if err := dst.Storer.SetShallow(shallow); err != nil {
		tb.Fatalf("gittest: %v", err)
	}
	refs, err := src.References()
	if err != nil {
		tb.Fatalf("gittest: %v", err)
	}
	_ = refs.ForEach(func(ref *plumbing.Reference) error {
		if ref.Type() != plumbing.HashReference || ref.Name() == plumbing.HEAD {
			return nil
		}
		if _, ok := dist[ref.Hash()]; ok {
			return dst.Storer.SetReference(ref)
		}
		return nil
	})
	if err := dst.Storer.SetReference(head); err != nil {
		tb.Fatalf("gittest: %v", err)
	}
	shas := make([]string, 0, len(r.SHAs))
	for _, s := range r.SHAs {
		if _, ok := dist[plumbing.NewHash(s)]; ok {
			shas = append(shas, s)
		}
	}
	return &Repo{Dir: dstDir, SHAs: shas, TagSHAs: map[string]string{}}
}

func copyObject(src, dst storer.EncodedObjectStorer, h plumbing.Hash) error {
	if dst.HasEncodedObject(h) == nil {
		return nil
	}
	o, err := src.EncodedObject(plumbing.AnyObject, h)
	if err != nil {
		return err
	}
	_, err = dst.SetEncodedObject(o)
	return err
}

func copyTree(src, dst storer.EncodedObjectStorer, h plumbing.Hash) error {
	if dst.HasEncodedObject(h) == nil {
		return nil
	}
	t, err := object.GetTree(src, h)
	if err != nil {
		return err
	}
	for _, e := range t.Entries {
		if e.Mode == filemode.Dir {
			if err := copyTree(src, dst, e.Hash); err != nil {
				return err
			}
		} else if err := copyObject(src, dst, e.Hash); err != nil {
			return err
		}
	}
	return copyObject(src, dst, h)
}

// CopyCommit copies one commit of src, with its tree but not its parents,
// into r, as a shallow fetch of a single commit would.
func (r *Repo) CopyCommit(tb testing.TB, src *Repo, sha string) {
	tb.Helper()
	from, to := src.open(tb), r.open(tb)
	h := plumbing.NewHash(sha)
	c, err := from.CommitObject(h)
	if err != nil {
		tb.Fatalf("gittest: %v", err)
	}
	if err := copyTree(from.Storer, to.Storer, c.TreeHash); err != nil {
		tb.Fatalf("gittest: %v", err)
	}
	if err := copyObject(from.Storer, to.Storer, h); err != nil {
		tb.Fatalf("gittest: %v", err)
	}
}
