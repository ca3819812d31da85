package gitrepo

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	commitgraph "github.com/go-git/go-git/v5/plumbing/format/commitgraph/v2"
)

// mappedReader serves go-git's commit-graph reader from a memory mapping:
// its lookups are many small ReadAt calls, which would otherwise each be a
// system call.
type mappedReader struct {
	*bytes.Reader
	release func() error
}

func (m *mappedReader) Close() error {
	if m.release == nil {
		return nil
	}
	err := m.release()
	m.release = nil
	return err
}

func openMapped(path string) (*mappedReader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, release, err := mapOrFail(f)
	if err != nil {
		// No mmap on this platform: the files are small, read them.
		if _, serr := f.Seek(0, 0); serr != nil {
			return nil, serr
		}
		var buf bytes.Buffer
		if _, rerr := buf.ReadFrom(f); rerr != nil {
			return nil, rerr
		}
		data, release = buf.Bytes(), nil
	}
	return &mappedReader{Reader: bytes.NewReader(data), release: release}, nil
}

// openCommitGraph opens objects/info/commit-graph, or the split chain under
// objects/info/commit-graphs, with go-git's commit-graph reader. It returns
// nil when there is none or it cannot be read: the graph only speeds walks
// up, every commit it lacks is read from its object.
func openCommitGraph(objDir string) commitgraph.Index {
	if mr, err := openMapped(filepath.Join(objDir, "info", "commit-graph")); err == nil {
		idx, err := commitgraph.OpenFileIndex(mr)
		if err != nil {
			mr.Close()
			return nil
		}
		return idx
	}
	chainDir := filepath.Join(objDir, "info", "commit-graphs")
	f, err := os.Open(filepath.Join(chainDir, "commit-graph-chain"))
	if err != nil {
		return nil
	}
	var chain []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" {
			chain = append(chain, line)
		}
	}
	f.Close()
	if sc.Err() != nil || len(chain) == 0 {
		return nil
	}
	var index commitgraph.Index
	for _, h := range chain {
		if !plumbing.IsHash(h) {
			if index != nil {
				index.Close()
			}
			return nil
		}
		mr, err := openMapped(filepath.Join(chainDir, "graph-"+h+".graph"))
		if err != nil {
			if index != nil {
				index.Close()
			}
			return nil
		}
		next, err := commitgraph.OpenFileIndexWithParent(mr, index)
		if err != nil {
			mr.Close()
			if index != nil {
				index.Close()
			}
			return nil
		}
		index = next
	}
	return index
}
