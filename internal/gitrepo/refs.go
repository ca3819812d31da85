package gitrepo

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// refStore reads git's "files" reference backend: loose refs (one file per
// ref) and the packed-refs file. HEAD and the per-worktree refs live in the
// repository directory, everything else in the common directory (they
// differ for a linked worktree).
type refStore struct {
	gitDir    string
	commonDir string

	packed    map[string]Hash // lazily read packed-refs
	packedErr error
	packedOK  bool
}

// ref is one reference, resolved or symbolic.
type ref struct {
	name   string
	target string // for a symbolic ref: the name it points at
	hash   Hash   // for a direct ref
}

// Bounds on what a hostile workspace can make the reader do.
const (
	maxRefFile     = 4 << 10  // a loose ref file
	maxPackedRefs  = 64 << 20 // packed-refs
	maxSymrefDepth = 10       // git's limit (SYMREF_MAXDEPTH is 5; 10 is lenient)
	maxLooseRefs   = 1 << 20  // loose refs listed under one prefix
)

// validRefName applies the parts of git's check-ref-format that keep a
// name inside refs/ (and file names sane): no "..", no component starting
// with ".", no control characters or the characters git forbids.
func validRefName(name string) bool {
	if name == "" || len(name) > 1024 || strings.HasPrefix(name, "/") || strings.HasSuffix(name, "/") ||
		strings.HasSuffix(name, ".lock") || strings.HasSuffix(name, ".") || strings.Contains(name, "..") ||
		strings.Contains(name, "//") || strings.Contains(name, "@{") || name == "@" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c < 0x20 || c == 0x7f || strings.IndexByte(" ~^:?*[\\", c) >= 0 {
			return false
		}
	}
	for _, comp := range strings.Split(name, "/") {
		if strings.HasPrefix(comp, ".") {
			return false
		}
	}
	return true
}

// perWorktree tells whether a ref lives in the worktree's own directory.
func perWorktree(name string) bool {
	return !strings.HasPrefix(name, "refs/") ||
		strings.HasPrefix(name, "refs/worktree/") ||
		strings.HasPrefix(name, "refs/bisect/") ||
		strings.HasPrefix(name, "refs/rewritten/")
}

// read returns the ref called name, unresolved; ErrReferenceNotFound
// when there is none.
func (s *refStore) read(name string) (ref, error) {
	if !validRefName(name) {
		return ref{}, fmt.Errorf("%q: %w", name, errBadRefName)
	}
	dir := s.commonDir
	if perWorktree(name) {
		dir = s.gitDir
	}
	r, err := readLooseRef(filepath.Join(dir, filepath.FromSlash(name)), name)
	if err == nil || !errors.Is(err, ErrReferenceNotFound) {
		return r, err
	}
	if !strings.HasPrefix(name, "refs/") {
		return ref{}, ErrReferenceNotFound
	}
	if err := s.loadPacked(); err != nil {
		return ref{}, err
	}
	if h, ok := s.packed[name]; ok {
		return ref{name: name, hash: h}, nil
	}
	return ref{}, ErrReferenceNotFound
}

var errBadRefName = errors.New("not a valid ref name")

func readLooseRef(path, name string) (ref, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return ref{}, ErrReferenceNotFound
		}
		return ref{}, err
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil {
		return ref{}, err
	} else if st.IsDir() {
		return ref{}, ErrReferenceNotFound
	}
	b, err := io.ReadAll(io.LimitReader(f, maxRefFile))
	if err != nil {
		return ref{}, err
	}
	return parseRefContent(name, string(b))
}

func parseRefContent(name, content string) (ref, error) {
	line := strings.TrimSpace(content)
	if t, ok := strings.CutPrefix(line, "ref:"); ok {
		t = strings.TrimSpace(t)
		if !validRefName(t) {
			return ref{}, fmt.Errorf("ref %s points at %q, %w", name, t, errBadRefName)
		}
		return ref{name: name, target: t}, nil
	}
	if len(line) >= 40 && isHash(line[:40]) {
		return ref{name: name, hash: NewHash(line[:40])}, nil
	}
	if len(line) == 64 && isHex(line) {
		return ref{}, fmt.Errorf("ref %s holds a SHA-256 object name: %w", name, ErrUnsupportedRepository)
	}
	return ref{}, fmt.Errorf("ref %s: malformed content", name)
}

// resolve follows symbolic refs to a hash.
func (s *refStore) resolve(name string) (Hash, error) {
	r, err := s.read(name)
	if err != nil {
		return ZeroHash, err
	}
	return s.follow(r)
}

// follow resolves a ref already read: its hash, or its target's, reading at
// most maxSymrefDepth refs in all (r counts as the first).
func (s *refStore) follow(r ref) (Hash, error) {
	for i := 1; r.target != ""; i++ {
		if i >= maxSymrefDepth {
			return ZeroHash, fmt.Errorf("ref %s: symbolic refs nested too deep", r.target)
		}
		var err error
		if r, err = s.read(r.target); err != nil {
			return ZeroHash, err
		}
	}
	return r.hash, nil
}

// loadPacked reads packed-refs (with its "^<peeled>" lines, skipped: tags
// are peeled from their objects).
func (s *refStore) loadPacked() error {
	if s.packedOK {
		return s.packedErr
	}
	s.packedOK = true
	s.packed = map[string]Hash{}
	f, err := os.Open(filepath.Join(s.commonDir, "packed-refs"))
	if err != nil {
		if !os.IsNotExist(err) {
			s.packedErr = err
		}
		return s.packedErr
	}
	defer f.Close()
	sc := bufio.NewScanner(io.LimitReader(f, maxPackedRefs))
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' || line[0] == '^' {
			continue
		}
		hash, name, ok := strings.Cut(strings.TrimRight(line, "\r"), " ")
		if !ok || !validRefName(name) {
			continue
		}
		if !isHash(hash) {
			if len(hash) == 64 && isHex(hash) {
				s.packedErr = fmt.Errorf("packed-refs holds SHA-256 object names: %w", ErrUnsupportedRepository)
				return s.packedErr
			}
			continue
		}
		s.packed[name] = NewHash(hash)
	}
	if err := sc.Err(); err != nil {
		s.packedErr = fmt.Errorf("read packed-refs: %w", err)
	}
	return s.packedErr
}

// list returns the refs whose names start with prefix (for example
// "refs/tags/"), loose ones winning over packed ones, symbolic ones
// resolved (dangling ones left out).
func (s *refStore) list(prefix string) (map[string]Hash, error) {
	out := map[string]Hash{}
	if err := s.loadPacked(); err != nil {
		return nil, err
	}
	for name, h := range s.packed {
		if strings.HasPrefix(name, prefix) {
			out[name] = h
		}
	}
	root := s.commonDir
	if perWorktree(prefix) {
		root = s.gitDir
	}
	base := filepath.Join(root, filepath.FromSlash(strings.TrimSuffix(prefix, "/")))
	count := 0
	err := filepath.WalkDir(base, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == base && errors.Is(err, fs.ErrNotExist) {
				return filepath.SkipDir
			}
			return nil // unreadable entries are skipped, as git does
		}
		if d.IsDir() || !d.Type().IsRegular() {
			return nil
		}
		if count++; count > maxLooseRefs {
			return fmt.Errorf("more than %d refs under %s", maxLooseRefs, prefix)
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return nil
		}
		name := filepath.ToSlash(rel)
		if !validRefName(name) {
			return nil // lock files and the like
		}
		r, err := readLooseRef(path, name)
		if err != nil {
			return nil
		}
		h := r.hash
		if r.target != "" {
			if h, err = s.resolve(r.target); err != nil {
				delete(out, name)
				return nil
			}
		}
		out[name] = h
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
