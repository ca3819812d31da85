package gitrepo

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// commitGraph reads git's commit-graph files (objects/info/commit-graph, or
// the split chain in objects/info/commit-graphs) of the repository and of
// its alternate object stores: parents and commit times without inflating
// commits. It is used in place (memory-mapped), every access bounds-checked:
// a damaged graph gives "not found", and the commit is read from its object.
//
// Our own reader replaced go-git's commitgraph/v2 package: that one decodes
// through io.ReaderAt calls and allocates the commit data it returns; this
// one is about 150 lines and allocation-free per lookup.
type commitGraph struct {
	sets [][]*graphFile // per object directory: a chain, base first
}

// graphFile is one commit-graph file.
type graphFile struct {
	data    []byte
	release func() error
	n       int // commits in this file
	base    int // commits in the files below it in its chain
	chain   []*graphFile
	fanout  int // offsets of the chunks
	oids    int
	cdat    int
	edge    int
	edgeLen int
}

const (
	graphHashLen   = 20
	graphCdatWidth = graphHashLen + 16
	graphNoParent  = 0x70000000
	graphExtra     = 0x80000000
	maxGraphChain  = 64
	maxGraphEdges  = 1024 // parents of one octopus merge read from EDGE (more: read from the commit)
)

var errBadGraph = errors.New("bad commit-graph")

func parseGraphFile(data []byte) (*graphFile, error) {
	if len(data) < 8 || string(data[:4]) != "CGPH" || data[4] != 1 || data[5] != 1 {
		return nil, errBadGraph // not version 1, or not SHA-1
	}
	nChunks := int(data[6])
	g := &graphFile{data: data, fanout: -1, oids: -1, cdat: -1, edge: -1}
	toc := 8
	if len(data) < toc+(nChunks+1)*12 {
		return nil, errBadGraph
	}
	for i := 0; i < nChunks; i++ {
		e := data[toc+12*i:]
		id := string(e[:4])
		off := binary.BigEndian.Uint64(e[4:12])
		next := binary.BigEndian.Uint64(e[16:24])
		if off > uint64(len(data)) || next > uint64(len(data)) || next < off {
			return nil, errBadGraph
		}
		switch id {
		case "OIDF":
			if next-off < 1024 {
				return nil, errBadGraph
			}
			g.fanout = int(off)
		case "OIDL":
			g.oids = int(off)
		case "CDAT":
			g.cdat = int(off)
		case "EDGE":
			g.edge, g.edgeLen = int(off), int((next-off)/4)
		}
	}
	if g.fanout < 0 || g.oids < 0 || g.cdat < 0 {
		return nil, errBadGraph
	}
	g.n = int(binary.BigEndian.Uint32(data[g.fanout+1020:]))
	if g.oids+g.n*graphHashLen > len(data) || g.cdat+g.n*graphCdatWidth > len(data) {
		return nil, errBadGraph
	}
	prev := uint32(0)
	for i := 0; i < 256; i++ {
		v := binary.BigEndian.Uint32(data[g.fanout+4*i:])
		if v < prev || int(v) > g.n {
			return nil, errBadGraph
		}
		prev = v
	}
	return g, nil
}

// find returns the local position of h in g.
func (g *graphFile) find(h *Hash) (int, bool) {
	lo := 0
	if h[0] > 0 {
		lo = int(binary.BigEndian.Uint32(g.data[g.fanout+4*(int(h[0])-1):]))
	}
	hi := int(binary.BigEndian.Uint32(g.data[g.fanout+4*int(h[0]):]))
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		at := g.oids + mid*graphHashLen
		switch c := bytes.Compare(g.data[at:at+graphHashLen], h[:]); {
		case c < 0:
			lo = mid + 1
		case c > 0:
			hi = mid
		default:
			return mid, true
		}
	}
	return 0, false
}

// hashAt returns the commit at global position pos of g's chain.
func (g *graphFile) hashAt(pos uint32) (Hash, bool) {
	var h Hash
	for _, f := range g.chain {
		if int(pos) >= f.base && int(pos) < f.base+f.n {
			at := f.oids + (int(pos)-f.base)*graphHashLen
			copy(h[:], f.data[at:at+graphHashLen])
			return h, true
		}
	}
	return h, false
}

// commit appends the parents of the commit at local position i and
// returns its commit time.
func (g *graphFile) commit(i int, parents []Hash) (int64, []Hash, bool) {
	e := g.data[g.cdat+i*graphCdatWidth:]
	p1 := binary.BigEndian.Uint32(e[20:])
	p2 := binary.BigEndian.Uint32(e[24:])
	hi := binary.BigEndian.Uint32(e[28:])
	lo := binary.BigEndian.Uint32(e[32:])
	when := int64(hi&3)<<32 | int64(lo)
	if p1 != graphNoParent {
		h, ok := g.hashAt(p1)
		if !ok {
			return 0, parents, false
		}
		parents = append(parents, h)
	}
	switch {
	case p2 == graphNoParent:
	case p2&graphExtra == 0:
		h, ok := g.hashAt(p2)
		if !ok {
			return 0, parents, false
		}
		parents = append(parents, h)
	default:
		// An octopus merge: its other parents are listed in EDGE, the
		// last one flagged.
		k := int(p2 &^ graphExtra)
		for n := 0; ; n++ {
			if g.edge < 0 || k >= g.edgeLen || n > maxGraphEdges {
				return 0, parents, false
			}
			v := binary.BigEndian.Uint32(g.data[g.edge+4*k:])
			h, ok := g.hashAt(v &^ graphExtra)
			if !ok {
				return 0, parents, false
			}
			parents = append(parents, h)
			if v&graphExtra != 0 {
				break
			}
			k++
		}
	}
	return when, parents, true
}

// lookup returns the commit time of h and appends its parents, ok false
// when no graph knows it.
func (cg *commitGraph) lookup(h Hash, parents []Hash) (int64, []Hash, bool) {
	if cg == nil {
		return 0, parents, false
	}
	n := len(parents)
	for _, chain := range cg.sets {
		for k := len(chain) - 1; k >= 0; k-- {
			if i, ok := chain[k].find(&h); ok {
				when, ps, ok := chain[k].commit(i, parents)
				if ok {
					return when, ps, true
				}
				return 0, ps[:n], false
			}
		}
	}
	return 0, parents, false
}

// Close releases the mappings.
func (cg *commitGraph) Close() error {
	if cg == nil {
		return nil
	}
	var first error
	for _, chain := range cg.sets {
		for _, g := range chain {
			if g.release != nil {
				if err := g.release(); err != nil && first == nil {
					first = err
				}
				g.release = nil
			}
		}
	}
	cg.sets = nil
	return first
}

func mapGraphFile(path string) (*graphFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, release, err := mapOrFail(f)
	if err != nil {
		// No mmap on this platform: the files are small, read them.
		if data, err = io.ReadAll(f); err != nil {
			return nil, err
		}
		release = nil
	}
	g, err := parseGraphFile(data)
	if err != nil {
		if release != nil {
			release()
		}
		return nil, err
	}
	g.release = release
	return g, nil
}

// openCommitGraphs opens the commit-graph (single file or split chain) of
// each object directory. It returns nil when there is none: the graph only
// speeds walks up, every commit it lacks is read from its object.
func openCommitGraphs(objDirs []string) *commitGraph {
	cg := &commitGraph{}
	for _, dir := range objDirs {
		if chain := openCommitGraph(dir); len(chain) > 0 {
			cg.sets = append(cg.sets, chain)
		}
	}
	if len(cg.sets) == 0 {
		return nil
	}
	return cg
}

func openCommitGraph(objDir string) []*graphFile {
	if g, err := mapGraphFile(filepath.Join(objDir, "info", "commit-graph")); err == nil {
		g.chain = []*graphFile{g}
		return g.chain
	}
	chainDir := filepath.Join(objDir, "info", "commit-graphs")
	f, err := os.Open(filepath.Join(chainDir, "commit-graph-chain"))
	if err != nil {
		return nil
	}
	var names []string
	sc := bufio.NewScanner(io.LimitReader(f, 64<<10))
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" {
			names = append(names, line)
		}
	}
	f.Close()
	if sc.Err() != nil || len(names) == 0 || len(names) > maxGraphChain {
		return nil
	}
	var chain []*graphFile
	fail := func() []*graphFile {
		for _, g := range chain {
			if g.release != nil {
				g.release()
			}
		}
		return nil
	}
	base := 0
	for _, h := range names {
		if !isHash(h) {
			return fail()
		}
		g, err := mapGraphFile(filepath.Join(chainDir, "graph-"+h+".graph"))
		if err != nil {
			return fail()
		}
		g.base = base
		base += g.n
		chain = append(chain, g)
	}
	for _, g := range chain {
		g.chain = chain
	}
	return chain
}
