package gitrepo

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// objectDB reads the raw content of objects (commits and tags, in practice)
// straight from the repository's pack files and loose objects.
//
// go-git's storage is correct but slow for a commit walk: every object read
// goes through a seek and a buffered read of the pack file, an object cache
// that SHA-1-hashes each object it stores, and a type map. Reading a commit
// here costs one binary search in a memory-mapped .idx, one zlib inflate from
// the memory-mapped .pack into a reused buffer, and nothing else, which is
// what git itself does. Deltas are applied by patchDelta (delta.go).
//
// An objectDB is not safe for concurrent use.
type objectDB struct {
	packs    []*pack
	lastPack int      // the pack of the last hit, tried first
	objDirs  []string // object directories for loose objects (own first, then alternates)
	// skippedPacks names a pack that could not be opened (damaged), for
	// the error about an object that is then not found.
	skippedPacks string

	zr       io.ReadCloser // reused zlib reader
	br       bytes.Reader
	bufr     *bufio.Reader // for packs read through ReadAt
	scratch  []byte        // inflate buffer of the last non-delta object
	deltaBuf []byte        // inflate buffer of the delta being applied
	topBuf   []byte        // inflate buffer of the delta of the object read
	hdr      [32]byte

	cache    objCache
	chain    []deltaLink         // resolveDelta's chain, reused
	chainSet map[objKey]struct{} // the links of a long chain

	heads headLog // commits read: see noteCommit

	// last is the object the last read returned, while its content is
	// still valid (until the next read): resolving a name peels it to a
	// commit and the caller then reads that commit, so every run read
	// HEAD's commit twice (an open and an inflate each, for a loose one).
	last lastRead
}

type lastRead struct {
	ok   bool
	h    Hash
	t    ObjectType
	data []byte
}

// maxObjectSize bounds the size the reader will inflate, so that a corrupt
// size field cannot make it allocate without limit. Commits and tags are
// tiny; 64 MiB is far beyond any real one.
const maxObjectSize = 64 << 20

// Alternates: how deep the chain of info/alternates files is followed (git
// stops at 5) and how many object directories are opened in all.
const (
	maxAlternateDepth = 5
	maxAlternates     = 32
)

// maxDeltaDepth bounds delta chains (git's default is 50, its maximum 4095).
const maxDeltaDepth = 10000

var errNotFound = ErrObjectNotFound

// noMmap makes the reader use ReadAt instead of memory mappings, as on
// platforms without mmap; tests set it to cover that path.
var noMmap = false

func mapOrFail(f *os.File) ([]byte, func() error, error) {
	if noMmap {
		return nil, nil, errors.ErrUnsupported
	}
	return mapFile(f)
}

type pack struct {
	name    string
	idx     packIndex
	data    []byte // mapped pack, or nil when read through file
	file    *os.File
	size    int64
	release []func() error
}

func (p *pack) close() error {
	var first error
	for _, f := range p.release {
		if err := f(); err != nil && first == nil {
			first = err
		}
	}
	if p.file != nil {
		if err := p.file.Close(); err != nil && first == nil {
			first = err
		}
	}
	p.release, p.file, p.data = nil, nil, nil
	return first
}

// packIndex is a pack .idx file (version 1 or 2) used in place, without
// decoding it into memory.
type packIndex struct {
	data     []byte
	version  int
	n        int
	fanout   [256]uint32
	names    int // offset of the first name
	stride   int // distance between names
	offsets  int // v2: offset of the 4-byte offset table
	large    int // v2: offset of the 8-byte large offset table
	nLarge   int
	v1OffPos int // v1: offset of an entry's 4-byte offset relative to its name
}

var idxMagic = []byte{0xff, 't', 'O', 'c'}

func parsePackIndex(data []byte) (packIndex, error) {
	ix := packIndex{data: data}
	fanoutAt := 0
	if len(data) >= 8 && bytes.Equal(data[:4], idxMagic) {
		if v := binary.BigEndian.Uint32(data[4:8]); v != 2 {
			return ix, fmt.Errorf("unsupported pack index version %d", v)
		}
		ix.version = 2
		fanoutAt = 8
	} else {
		ix.version = 1
	}
	if len(data) < fanoutAt+256*4 {
		return ix, errors.New("pack index too short")
	}
	prev := uint32(0)
	for i := 0; i < 256; i++ {
		v := binary.BigEndian.Uint32(data[fanoutAt+4*i:])
		if v < prev {
			return ix, errors.New("pack index fanout not sorted")
		}
		ix.fanout[i] = v
		prev = v
	}
	n := int(ix.fanout[255])
	ix.n = n
	const hs = 20
	if ix.version == 1 {
		ix.names = fanoutAt + 1024 + 4
		ix.stride = 24
		ix.v1OffPos = -4
		if len(data) < fanoutAt+1024+n*24+2*hs {
			return ix, errors.New("pack index truncated")
		}
		return ix, nil
	}
	ix.names = fanoutAt + 1024
	ix.stride = hs
	ix.offsets = ix.names + n*hs + n*4
	ix.large = ix.offsets + n*4
	rest := len(data) - ix.large - 2*hs
	if n > (len(data))/28 || rest < 0 || rest%8 != 0 {
		return ix, errors.New("pack index truncated")
	}
	ix.nLarge = rest / 8
	return ix, nil
}

func (ix *packIndex) name(i int) []byte {
	at := ix.names + i*ix.stride
	return ix.data[at : at+20]
}

func (ix *packIndex) offset(i int) (int64, error) {
	if ix.version == 1 {
		at := ix.names + i*ix.stride + ix.v1OffPos
		return int64(binary.BigEndian.Uint32(ix.data[at:])), nil
	}
	v := binary.BigEndian.Uint32(ix.data[ix.offsets+4*i:])
	if v&0x80000000 == 0 {
		return int64(v), nil
	}
	j := int(v & 0x7fffffff)
	if j >= ix.nLarge {
		return 0, errors.New("pack index: bad large offset")
	}
	o := binary.BigEndian.Uint64(ix.data[ix.large+8*j:])
	if o > 1<<62 {
		return 0, errors.New("pack index: bad large offset")
	}
	return int64(o), nil
}

// bounds returns the range of entries whose first byte is b.
func (ix *packIndex) bounds(b byte) (int, int) {
	lo := 0
	if b > 0 {
		lo = int(ix.fanout[b-1])
	}
	return lo, int(ix.fanout[b])
}

// find returns the pack offset of h.
func (ix *packIndex) find(h *Hash) (int64, bool, error) {
	lo, hi := ix.bounds(h[0])
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		switch c := bytes.Compare(ix.name(mid), h[:]); {
		case c < 0:
			lo = mid + 1
		case c > 0:
			hi = mid
		default:
			off, err := ix.offset(mid)
			return off, err == nil, err
		}
	}
	return 0, false, nil
}

// withPrefix appends to out the names that start with the hex prefix.
func (ix *packIndex) withPrefix(prefix string, out []Hash) []Hash {
	lowHex := prefix + strings.Repeat("0", 40-len(prefix))
	low, _ := hex.DecodeString(lowHex)
	lo, hi := ix.bounds(low[0])
	i := sort.Search(hi-lo, func(k int) bool { return bytes.Compare(ix.name(lo+k), low) >= 0 }) + lo
	for ; i < hi; i++ {
		var h Hash
		copy(h[:], ix.name(i))
		if !strings.HasPrefix(h.String(), prefix) {
			break
		}
		out = append(out, h)
	}
	return out
}

// openObjectDB opens the packs of objDir and of its alternates.
func openObjectDB(objDir string) (*objectDB, error) {
	db := &objectDB{}
	seen := map[string]bool{}
	var add func(dir string, depth int) error
	add = func(dir string, depth int) error {
		abs, err := filepath.Abs(dir)
		if err != nil || seen[abs] || depth > maxAlternateDepth || len(seen) >= maxAlternates {
			return nil
		}
		seen[abs] = true
		db.objDirs = append(db.objDirs, abs)
		if err := db.openPacks(filepath.Join(abs, "pack")); err != nil {
			return err
		}
		alt, err := readSmallFile(filepath.Join(abs, "info", "alternates"))
		if err != nil {
			return nil
		}
		for _, line := range strings.Split(string(alt), "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			if !filepath.IsAbs(line) {
				line = filepath.Join(abs, line)
			}
			if err := add(line, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := add(objDir, 0); err != nil {
		db.close()
		return nil, err
	}
	return db, nil
}

func (db *objectDB) openPacks(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		return err
	}
	var names []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "pack-") && strings.HasSuffix(e.Name(), ".idx") {
			names = append(names, strings.TrimSuffix(e.Name(), ".idx"))
		}
	}
	// Newest packs usually hold the newest commits; git looks at them first.
	type named struct {
		name string
		mod  int64
	}
	var order []named
	for _, n := range names {
		st, err := os.Stat(filepath.Join(dir, n+".pack"))
		if err != nil {
			continue // an .idx without its pack: ignore, as git does
		}
		order = append(order, named{n, st.ModTime().UnixNano()})
	}
	sort.SliceStable(order, func(i, j int) bool { return order[i].mod > order[j].mod })
	for _, n := range order {
		p, err := openPack(filepath.Join(dir, n.name))
		if err != nil {
			// A damaged pack must not stop the whole read: objects in
			// it are reported missing, naming it.
			if db.skippedPacks == "" {
				db.skippedPacks = fmt.Sprintf("%s (%v)", n.name, err)
			}
			continue
		}
		db.packs = append(db.packs, p)
	}
	return nil
}

func openPack(base string) (_ *pack, err error) {
	p := &pack{name: filepath.Base(base)}
	defer func() {
		if err != nil {
			p.close()
		}
	}()
	idxFile, err := os.Open(base + ".idx")
	if err != nil {
		return nil, err
	}
	idxData, release, err := mapOrFail(idxFile)
	if err != nil {
		idxData, err = io.ReadAll(idxFile)
	} else {
		p.release = append(p.release, release)
	}
	idxFile.Close()
	if err != nil {
		return nil, err
	}
	if p.idx, err = parsePackIndex(idxData); err != nil {
		return nil, fmt.Errorf("%s.idx: %w", base, err)
	}
	f, err := os.Open(base + ".pack")
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	p.size = st.Size()
	if data, release, err := mapOrFail(f); err == nil {
		p.data = data
		p.release = append(p.release, release)
		f.Close()
	} else {
		p.file = f
	}
	var head [12]byte
	if err := p.readAt(head[:], 0); err != nil {
		return nil, err
	}
	if string(head[:4]) != "PACK" {
		return nil, fmt.Errorf("%s.pack: bad signature", base)
	}
	if v := binary.BigEndian.Uint32(head[4:8]); v != 2 && v != 3 {
		return nil, fmt.Errorf("%s.pack: unsupported version %d", base, v)
	}
	return p, nil
}

// readAt fills b from the pack at off (short only at the end of the file).
func (p *pack) readAt(b []byte, off int64) error {
	if off < 0 || off >= p.size {
		return io.ErrUnexpectedEOF
	}
	if p.data != nil {
		if copy(b, p.data[off:]) < len(b) {
			return io.ErrUnexpectedEOF
		}
		return nil
	}
	n, err := p.file.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}

func (db *objectDB) close() error {
	var first error
	for _, p := range db.packs {
		if err := p.close(); err != nil && first == nil {
			first = err
		}
	}
	db.packs = nil
	if db.zr != nil {
		db.zr.Close()
		db.zr = nil
	}
	return first
}

// find locates h in the packs.
func (db *objectDB) find(h *Hash) (*pack, int64, error) {
	n := len(db.packs)
	for k := 0; k < n; k++ {
		i := (db.lastPack + k) % n
		off, ok, err := db.packs[i].idx.find(h)
		if err != nil {
			return nil, 0, err
		}
		if ok {
			db.lastPack = i
			return db.packs[i], off, nil
		}
	}
	return nil, 0, errNotFound
}

// read returns the type and content of object h. The content may alias an
// internal buffer: it is valid only until the next call on db.
func (db *objectDB) read(h Hash) (ObjectType, []byte, error) {
	return db.readMax(h, maxObjectSize)
}

// errTooLarge is readMax's error for an object over its limit.
var errTooLarge = errors.New("object larger than the limit")

// readMax is read for an object of at most limit bytes: a larger one gives
// errTooLarge, known from the headers before its content (or for a delta,
// before its bases) is inflated. (A separate read of the size before the
// read cost the line counts of BenchmarkChangesVsWalk1000 9%: a delta's
// result size is in its first bytes, which means one more zlib start.)
func (db *objectDB) readMax(h Hash, limit int) (ObjectType, []byte, error) {
	return db.readObject(h, limit, false)
}

// readKept is read for content the caller keeps: it is never overwritten
// by a later read (it must not be changed either: it may be cached). A
// delta's result or a cached object is returned as is, saving the copy a
// caller would make (13% of Changes on BenchmarkChangesVsWalk1000 was
// bytes.Clone of trees).
func (db *objectDB) readKept(h Hash) (ObjectType, []byte, error) {
	return db.readObject(h, maxObjectSize, true)
}

func (db *objectDB) readObject(h Hash, limit int, keep bool) (ObjectType, []byte, error) {
	if !keep && db.last.ok && db.last.h == h && len(db.last.data) <= limit {
		return db.last.t, db.last.data, nil
	}
	db.last = lastRead{}
	t, data, err := db.readObjectOnce(h, limit, keep)
	if err == nil && !keep {
		db.last = lastRead{ok: true, h: h, t: t, data: data}
	}
	return t, data, err
}

func (db *objectDB) readObjectOnce(h Hash, limit int, keep bool) (ObjectType, []byte, error) {
	p, off, err := db.find(&h)
	if err == nil {
		t, data, err := db.readPacked(p, off, limit, keep)
		if err == errTooLarge {
			return 0, nil, err
		}
		if err != nil {
			return 0, nil, fmt.Errorf("object %s in %s: %w", h, p.name, err)
		}
		if t == CommitObject {
			db.noteCommit(h, data)
		}
		return t, data, nil
	}
	if err != errNotFound {
		return 0, nil, err
	}
	if t, data, err := db.readLoose(h, limit); err != errNotFound {
		if err == nil && t == CommitObject {
			db.noteCommit(h, data)
		}
		if err == nil && keep {
			data = bytes.Clone(data)
		}
		return t, data, err
	}
	if db.skippedPacks != "" {
		return 0, nil, fmt.Errorf("%w (the pack %s could not be read)", errNotFound, db.skippedPacks)
	}
	return 0, nil, errNotFound
}

// noteCommit logs the start of commit h, read as data, for a diff of the
// commit (Differ.commitHead): the walk reads the commits a run then diffs,
// and reading one again costs about what the walk spent on it (4 µs of
// the 15 µs a commit Changes took on BenchmarkChangesVsWalk1000). The walk
// only copies the bytes that can hold the tree and first parent lines into
// a log in chunks, and the first lookup indexes it: a map insert here made
// the walk 7% slower and parsing the two hashes here 2.5 to 4%; this copy
// costs 60 ns a commit (BenchmarkNoteCommit), about 1% of the walk's
// 5 µs, below the noise of BenchmarkChangesVsWalk1000/walk and
// BenchmarkRange10000.
func (db *objectDB) noteCommit(h Hash, data []byte) {
	hl := &db.heads
	if hl.n >= maxCachedCommits {
		*hl = headLog{chunks: hl.chunks[:1], idx: hl.idx}
		hl.chunks[0] = hl.chunks[0][:0]
		clear(hl.idx)
	}
	if k := len(hl.chunks); k == 0 || len(hl.chunks[k-1]) == headChunk {
		// The first chunk starts small and grows (append doubles it up
		// to headChunk): most runs read one commit, HEAD, and a whole
		// chunk is 30 KB of heap that a run's peak RSS shows.
		c := headChunk
		if k == 0 {
			c = 4
		}
		hl.chunks = append(hl.chunks, make([]loggedHead, 0, c))
	}
	last := &hl.chunks[len(hl.chunks)-1]
	*last = append(*last, loggedHead{h: h})
	e := &(*last)[len(*last)-1]
	e.n = uint8(copy(e.start[:], data))
	hl.n++
}

// commitStartLen is the length of a commit's tree and first parent lines
// ("tree <hex>\n" and "parent <hex>\n"): commitTreeAndParent reads the
// same from them as from the whole commit (a line cut short is not one
// it accepts, as it would not accept the whole line).
const commitStartLen = 5 + 40 + 1 + 7 + 40 + 1

const headChunk = 256

// headLog is the commits noteCommit logged, and an index of them.
type headLog struct {
	chunks  [][]loggedHead // all full but the last
	n       int
	idx     map[Hash]int32
	indexed int // the first indexed entries are in idx
}

type loggedHead struct {
	h     Hash
	n     uint8
	start [commitStartLen]byte
}

// commitHead returns the tree and first parent of commit h if noteCommit
// logged it.
func (db *objectDB) commitHead(h Hash) (commitHead, bool) {
	hl := &db.heads
	if hl.indexed < hl.n {
		if hl.idx == nil {
			hl.idx = make(map[Hash]int32, hl.n)
		}
		for i := hl.indexed; i < hl.n; i++ {
			hl.idx[hl.chunks[i/headChunk][i%headChunk].h] = int32(i)
		}
		hl.indexed = hl.n
	}
	i, ok := hl.idx[h]
	if !ok {
		return commitHead{}, false
	}
	e := &hl.chunks[i/headChunk][i%headChunk]
	var c commitHead
	var err error
	if c.tree, c.parent, c.hasParent, err = commitTreeAndParent(e.start[:e.n]); err != nil {
		return commitHead{}, false // read it whole, for the error
	}
	return c, true
}

func (db *objectDB) readLoose(h Hash, limit int) (ObjectType, []byte, error) {
	s := h.String()
	for _, dir := range db.objDirs {
		raw, err := os.ReadFile(filepath.Join(dir, s[:2], s[2:]))
		if err != nil {
			if os.IsNotExist(err) {
				continue
			}
			return 0, nil, err
		}
		t, data, err := db.inflateLoose(raw, limit)
		if err == errTooLarge {
			return 0, nil, err
		}
		if err != nil {
			return 0, nil, fmt.Errorf("loose object %s: %w", s, err)
		}
		return t, data, nil
	}
	return 0, nil, errNotFound
}

func (db *objectDB) inflateLoose(raw []byte, limit int) (ObjectType, []byte, error) {
	t, size, err := db.looseHeader(raw)
	if err != nil {
		return 0, nil, err
	}
	if size > limit {
		return 0, nil, errTooLarge
	}
	data, err := readSized(db.zr, db.scratch, size)
	db.scratch = data
	if err != nil {
		return 0, nil, err
	}
	return t, data, nil
}

// looseHeader starts inflating a loose object and reads its header ("<type>
// <size>\0"); the content follows in db.zr.
func (db *objectDB) looseHeader(raw []byte) (ObjectType, int, error) {
	db.br.Reset(raw)
	if err := db.resetZlib(&db.br); err != nil {
		return 0, 0, err
	}
	var hdr [64]byte
	n := 0
	for {
		if n == len(hdr) {
			return 0, 0, errors.New("bad header")
		}
		if _, err := io.ReadFull(db.zr, hdr[n:n+1]); err != nil {
			return 0, 0, err
		}
		if hdr[n] == 0 {
			break
		}
		n++
	}
	typName, sizeStr, ok := strings.Cut(string(hdr[:n]), " ")
	if !ok {
		return 0, 0, errors.New("bad header")
	}
	t, err := parseObjectType(typName)
	if err != nil {
		return 0, 0, err
	}
	size, err := strconv.ParseInt(sizeStr, 10, 64)
	if err != nil || size < 0 || size > maxObjectSize {
		return 0, 0, errors.New("bad size")
	}
	return t, int(size), nil
}

func (db *objectDB) resetZlib(src io.Reader) error {
	if db.zr == nil {
		zr, err := zlib.NewReader(src)
		if err != nil {
			return err
		}
		db.zr = zr
		return nil
	}
	return db.zr.(zlib.Resetter).Reset(src, nil)
}

// Pack entry types of deltas (packEntry.typ is the pack's 3-bit type).
const (
	objOFSDelta = byte(OFSDeltaObject)
	objREFDelta = byte(REFDeltaObject)
)

// packEntry is the header of a pack entry.
type packEntry struct {
	typ    byte
	size   int   // of the object, or of the delta for a delta
	dataAt int64 // where the zlib stream starts
	// the base of a delta
	baseP   *pack
	baseOff int64
}

func (e *packEntry) isDelta() bool { return e.typ == objOFSDelta || e.typ == objREFDelta }

// entryHeader reads the header of the pack entry at off, and for a
// ref-delta finds its base.
func (db *objectDB) entryHeader(p *pack, off int64) (packEntry, error) {
	var e packEntry
	hdr := db.hdr[:]
	if rem := p.size - off; rem < int64(len(hdr)) {
		if rem <= 0 || off < 0 {
			return e, io.ErrUnexpectedEOF
		}
		hdr = hdr[:rem]
	}
	if err := p.readAt(hdr, off); err != nil {
		return e, err
	}
	c := hdr[0]
	e.typ = (c >> 4) & 7
	size := uint64(c & 0x0f)
	shift := uint(4)
	i := 1
	for c&0x80 != 0 {
		if i >= len(hdr) || shift > 56 {
			return e, errors.New("bad object header")
		}
		c = hdr[i]
		i++
		size |= uint64(c&0x7f) << shift
		shift += 7
	}
	if size > maxObjectSize {
		return e, fmt.Errorf("object too large (%d bytes)", size)
	}
	e.size = int(size)
	switch e.typ {
	case 1, 2, 3, 4: // commit, tree, blob, tag
	case objOFSDelta:
		if i >= len(hdr) {
			return e, errors.New("bad delta header")
		}
		c = hdr[i]
		i++
		rel := int64(c & 0x7f)
		for c&0x80 != 0 {
			if i >= len(hdr) || rel > 1<<48 {
				return e, errors.New("bad delta offset")
			}
			c = hdr[i]
			i++
			rel = (rel+1)<<7 | int64(c&0x7f)
		}
		e.baseP, e.baseOff = p, off-rel
		if rel <= 0 || e.baseOff < 12 {
			return e, errors.New("bad delta offset")
		}
	case objREFDelta:
		if i+20 > len(hdr) {
			return e, errors.New("bad delta header")
		}
		var base Hash
		copy(base[:], hdr[i:i+20])
		i += 20
		bp, baseOff, err := db.find(&base)
		if err != nil {
			return e, fmt.Errorf("delta base %s: %w", base, err)
		}
		e.baseP, e.baseOff = bp, baseOff
	default:
		return e, fmt.Errorf("bad object type %d", e.typ)
	}
	e.dataAt = off + int64(i)
	return e, nil
}

// readPacked reads the object at off in p, of at most limit bytes (else
// errTooLarge). Its content must not be changed: it is either db.scratch
// (a non-delta object unless keep, overwritten by the next read) or held
// by db.cache, or a delta's result.
func (db *objectDB) readPacked(p *pack, off int64, limit int, keep bool) (ObjectType, []byte, error) {
	if t, data, ok := db.cache.get(p, off); ok {
		if len(data) > limit {
			return 0, nil, errTooLarge
		}
		return t, data, nil
	}
	e, err := db.entryHeader(p, off)
	if err != nil {
		return 0, nil, err
	}
	if !e.isDelta() {
		if e.size > limit {
			return 0, nil, errTooLarge
		}
		if keep {
			data, err := db.inflate(p, e.dataAt, nil, e.size)
			if err != nil {
				return 0, nil, err
			}
			return ObjectType(e.typ), data, nil
		}
		data, err := db.inflate(p, e.dataAt, db.scratch, e.size)
		db.scratch = data
		if err != nil {
			return 0, nil, err
		}
		return ObjectType(e.typ), data, nil
	}
	return db.resolveDelta(p, off, e, limit)
}

// deltaLink is one delta of a chain being resolved.
type deltaLink struct {
	p   *pack
	off int64
	e   packEntry
}

// chainSetAfter is the chain length from which resolveDelta looks links up
// in a map rather than the chain itself.
const chainSetAfter = 32

// resolveDelta reads the delta at off in p (whose header is e): it follows
// the chain of bases down to a cached object or a full one, then applies
// the deltas back up, inflating each into one reused buffer, and caches
// the full base and every result. A chain that comes back to one of its
// own entries (ref-deltas can loop) fails at once.
func (db *objectDB) resolveDelta(p *pack, off int64, e packEntry, limit int) (ObjectType, []byte, error) {
	// The delta of the object itself is inflated first, and kept, for its
	// result's size.
	top, err := db.inflate(p, e.dataAt, db.topBuf, e.size)
	db.topBuf = top
	if err != nil {
		return 0, nil, err
	}
	if limit < maxObjectSize {
		_, rest, ok := deltaSize(top)
		if !ok {
			return 0, nil, errBadDelta
		}
		if n, _, ok := deltaSize(rest); !ok || n > uint64(limit) {
			if !ok {
				return 0, nil, errBadDelta
			}
			return 0, nil, errTooLarge
		}
	}
	chain := append(db.chain[:0], deltaLink{p, off, e})
	defer func() { db.chain = chain[:0] }()
	if db.chainSet != nil {
		clear(db.chainSet)
	}
	var (
		t    ObjectType
		base []byte
	)
	bp, boff := e.baseP, e.baseOff
	for {
		if ct, data, ok := db.cache.get(bp, boff); ok {
			t, base = ct, data
			break
		}
		if db.inChain(chain, bp, boff) {
			return 0, nil, fmt.Errorf("delta chain loops (at offset %d of %s)", boff, bp.name)
		}
		be, err := db.entryHeader(bp, boff)
		if err != nil {
			return 0, nil, err
		}
		if !be.isDelta() {
			t = ObjectType(be.typ)
			if base, err = db.inflate(bp, be.dataAt, nil, be.size); err != nil {
				return 0, nil, err
			}
			db.cache.put(bp, boff, t, base)
			break
		}
		if len(chain) >= maxDeltaDepth {
			return 0, nil, errors.New("delta chain too long")
		}
		chain = append(chain, deltaLink{bp, boff, be})
		if len(chain) > chainSetAfter {
			if db.chainSet == nil {
				db.chainSet = make(map[objKey]struct{})
			}
			if len(db.chainSet) == 0 {
				for _, l := range chain {
					db.chainSet[objKey{l.p, l.off}] = struct{}{}
				}
			} else {
				db.chainSet[objKey{bp, boff}] = struct{}{}
			}
		}
		bp, boff = be.baseP, be.baseOff
	}
	for i := len(chain) - 1; i >= 0; i-- {
		l := &chain[i]
		delta := top
		if i > 0 {
			if delta, err = db.inflate(l.p, l.e.dataAt, db.deltaBuf, l.e.size); err != nil {
				return 0, nil, err
			}
			db.deltaBuf = delta
		}
		out, err := patchDelta(base, delta)
		if err != nil {
			return 0, nil, err
		}
		db.cache.put(l.p, l.off, t, out)
		base = out
	}
	return t, base, nil
}

// inChain tells whether the entry at off in p is a link of chain.
func (db *objectDB) inChain(chain []deltaLink, p *pack, off int64) bool {
	if len(chain) > chainSetAfter {
		_, ok := db.chainSet[objKey{p, off}]
		return ok
	}
	for i := range chain {
		if chain[i].off == off && chain[i].p == p {
			return true
		}
	}
	return false
}

// inflate inflates the zlib stream at off in p, whose inflated size is
// size, into buf (reused if large enough; nil: a new buffer).
func (db *objectDB) inflate(p *pack, off int64, buf []byte, size int) ([]byte, error) {
	if off >= p.size {
		return buf[:0], io.ErrUnexpectedEOF
	}
	var src io.Reader
	if p.data != nil {
		db.br.Reset(p.data[off:])
		src = &db.br
	} else {
		sr := io.NewSectionReader(p.file, off, p.size-off)
		if db.bufr == nil {
			db.bufr = bufio.NewReaderSize(sr, 4096)
		} else {
			db.bufr.Reset(sr)
		}
		src = db.bufr
	}
	if err := db.resetZlib(src); err != nil {
		return buf[:0], err
	}
	return readSized(db.zr, buf, size)
}

// inflateStart is how much readSized allocates before it has read
// anything: a size field is only a claim (a hostile 20-byte entry can claim
// 60 MiB, which allocated up front cost 14 ms a read), so the buffer grows
// with what the stream really holds.
const inflateStart = 64 << 10

// readSized reads exactly size bytes from r into buf, reusing buf when it
// is large enough, and otherwise growing a new one as the data comes, up to
// size (which the callers bound by maxObjectSize).
func readSized(r io.Reader, buf []byte, size int) ([]byte, error) {
	if cap(buf) >= size {
		buf = buf[:size]
		if _, err := io.ReadFull(r, buf); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return buf[:0], err
		}
		return buf, nil
	}
	buf = make([]byte, 0, min(size, max(inflateStart, cap(buf))))
	for len(buf) < size {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, min(cap(buf), size-len(buf)))
		}
		n, err := r.Read(buf[len(buf):min(cap(buf), size)])
		buf = buf[:len(buf)+n]
		if err != nil && len(buf) < size {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return buf[:0], err
		}
	}
	return buf, nil
}

// objKey names a pack entry.
type objKey struct {
	p   *pack
	off int64
}

// objCache keeps objects read from packs: every delta result and every
// full object a delta was applied to, so that the trees of a history,
// which git stores as chains of deltas against each other, are inflated
// about once each rather than once per chain that goes through them. It is
// indexed by a map and bounded both in entries and in bytes, and evicts
// with the clock algorithm (an entry read since the hand last passed it is
// spared once), which costs nothing on a hit but setting a bit.
//
// Measured on BenchmarkChangesVsWalk1000 (2 CPUs, medians of 8): the
// previous cache (64 delta results, 1 MiB, scanned linearly, full bases
// never kept) gave Changes 35.7 µs a commit and Changes with lines 116 µs,
// this one 14.9 and 33 µs (the Differ's doc has the numbers after the
// other changes). Caching also the full objects read with readKept made
// the cold run 5% faster but the warm one 30% slower: not done.
type objCache struct {
	idx   map[objKey]int32
	ents  []cacheEntry
	free  []int32
	hand  int
	bytes int
}

type cacheEntry struct {
	key  objKey
	t    ObjectType
	used bool // the slot holds an object
	ref  bool // read since the hand last passed
	data []byte
}

const (
	objCacheEntries = 4096
	objCacheBytes   = 32 << 20
	// Larger objects are not kept: one would push out hundreds of trees.
	objCacheMaxObject = objCacheBytes / 8
	cacheEntryCost    = 96 // what an entry costs beside its data
)

func (c *objCache) get(p *pack, off int64) (ObjectType, []byte, bool) {
	i, ok := c.idx[objKey{p, off}]
	if !ok {
		return 0, nil, false
	}
	e := &c.ents[i]
	e.ref = true
	return e.t, e.data, true
}

func (c *objCache) put(p *pack, off int64, t ObjectType, data []byte) {
	cost := len(data) + cacheEntryCost
	if len(data) > objCacheMaxObject {
		return
	}
	k := objKey{p, off}
	if c.idx == nil {
		c.idx = make(map[objKey]int32)
	} else if _, ok := c.idx[k]; ok {
		return
	}
	for c.bytes+cost > objCacheBytes || (len(c.ents) >= objCacheEntries && len(c.free) == 0) {
		c.evict()
	}
	var i int32
	if n := len(c.free); n > 0 {
		i, c.free = c.free[n-1], c.free[:n-1]
	} else {
		i = int32(len(c.ents))
		c.ents = append(c.ents, cacheEntry{})
	}
	c.ents[i] = cacheEntry{key: k, t: t, used: true, data: data}
	c.idx[k] = i
	c.bytes += cost
}

// evict drops one entry: the first one from the hand on that was not read
// since the hand last passed it. Only called with entries in the cache.
func (c *objCache) evict() {
	for {
		i := c.hand
		c.hand++
		if c.hand >= len(c.ents) {
			c.hand = 0
		}
		e := &c.ents[i]
		if !e.used {
			continue
		}
		if e.ref {
			e.ref = false
			continue
		}
		delete(c.idx, e.key)
		c.bytes -= len(e.data) + cacheEntryCost
		*e = cacheEntry{}
		c.free = append(c.free, int32(i))
		return
	}
}

// hashesWithPrefix returns the objects whose hex name starts with prefix
// (lower-case hex, at least 4 digits), from packs and loose objects.
func (db *objectDB) hashesWithPrefix(prefix string) []Hash {
	var out []Hash
	for _, p := range db.packs {
		out = p.idx.withPrefix(prefix, out)
	}
	for _, dir := range db.objDirs {
		entries, err := os.ReadDir(filepath.Join(dir, prefix[:2]))
		if err != nil {
			continue
		}
		for _, e := range entries {
			name := prefix[:2] + e.Name()
			if len(name) == 40 && strings.HasPrefix(name, prefix) && isHash(name) {
				out = append(out, NewHash(name))
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return bytes.Compare(out[i][:], out[j][:]) < 0 })
	uniq := out[:0]
	for i, h := range out {
		if i == 0 || h != out[i-1] {
			uniq = append(uniq, h)
		}
	}
	return uniq
}
