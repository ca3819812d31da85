package gitrepo

import (
	"bytes"
	"compress/zlib"
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// Hand-made packs for the reader's hostile inputs: a pack is built entry by
// entry, and an index (version 2) lists the entries under chosen names.

type testPack struct {
	data  []byte
	names []Hash
	offs  []int64
}

func newTestPack() *testPack {
	return &testPack{data: []byte("PACK\x00\x00\x00\x02\x00\x00\x00\x00")}
}

func zlibOf(b []byte) []byte {
	var buf bytes.Buffer
	w := zlib.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

// entryHead encodes a pack entry's type and size.
func entryHead(typ byte, size uint64) []byte {
	c := typ<<4 | byte(size&0x0f)
	size >>= 4
	var out []byte
	for size > 0 {
		out = append(out, c|0x80)
		c = byte(size & 0x7f)
		size >>= 7
	}
	return append(out, c)
}

// ofsDeltaOffset encodes the distance back to an ofs-delta's base.
func ofsDeltaOffset(rel int64) []byte {
	b := []byte{byte(rel & 0x7f)}
	for rel >>= 7; rel > 0; rel >>= 7 {
		rel--
		b = append([]byte{0x80 | byte(rel&0x7f)}, b...)
	}
	return b
}

// add appends a raw entry listed under name and returns its offset.
func (tp *testPack) add(name Hash, raw []byte) int64 {
	off := int64(len(tp.data))
	tp.data = append(tp.data, raw...)
	tp.names = append(tp.names, name)
	tp.offs = append(tp.offs, off)
	return off
}

// full adds a non-delta object under its real name.
func (tp *testPack) full(t ObjectType, content []byte) (Hash, int64) {
	h := Hash(sha1.Sum(append([]byte(fmt.Sprintf("%s %d\x00", t, len(content))), content...)))
	return h, tp.add(h, append(entryHead(byte(t), uint64(len(content))), zlibOf(content)...))
}

func (tp *testPack) ofsDelta(name Hash, baseOff int64, delta []byte) int64 {
	off := int64(len(tp.data))
	raw := append(entryHead(objOFSDelta, uint64(len(delta))), ofsDeltaOffset(off-baseOff)...)
	return tp.add(name, append(raw, zlibOf(delta)...))
}

func (tp *testPack) refDelta(name, base Hash, delta []byte) int64 {
	raw := append(entryHead(objREFDelta, uint64(len(delta))), base[:]...)
	return tp.add(name, append(raw, zlibOf(delta)...))
}

// index is a version 2 index of the entries.
func (tp *testPack) index() []byte {
	type ent struct {
		h   Hash
		off int64
	}
	ents := make([]ent, len(tp.names))
	for i := range tp.names {
		ents[i] = ent{tp.names[i], tp.offs[i]}
	}
	sort.Slice(ents, func(i, j int) bool { return bytes.Compare(ents[i].h[:], ents[j].h[:]) < 0 })
	out := []byte{0xff, 't', 'O', 'c', 0, 0, 0, 2}
	var fanout [256]uint32
	for _, e := range ents {
		for b := int(e.h[0]); b < 256; b++ {
			fanout[b]++
		}
	}
	for _, v := range fanout {
		out = binary.BigEndian.AppendUint32(out, v)
	}
	for _, e := range ents {
		out = append(out, e.h[:]...)
	}
	out = append(out, make([]byte, 4*len(ents))...) // CRCs
	for _, e := range ents {
		out = binary.BigEndian.AppendUint32(out, uint32(e.off))
	}
	return append(out, make([]byte, 40)...) // the two checksums
}

func (tp *testPack) db(t testing.TB) *objectDB {
	ix, err := parsePackIndex(tp.index())
	if err != nil {
		t.Fatal(err)
	}
	return &objectDB{packs: []*pack{{name: "test", idx: ix, data: tp.data, size: int64(len(tp.data))}}}
}

func fakeName(s string) Hash { return Hash(sha1.Sum([]byte(s))) }

// hugeClaimPacks are packs of a few bytes whose entries claim 60 MiB: a
// blob, an ofs-delta, and a delta whose result claims it.
func hugeClaimPacks() map[string]*testPack {
	const huge = 60 << 20
	out := map[string]*testPack{}

	tp := newTestPack()
	tp.add(fakeName("blob"), append(entryHead(byte(BlobObject), huge), zlibOf([]byte("tiny"))...))
	out["huge-blob"] = tp

	tp = newTestPack()
	_, baseOff := tp.full(BlobObject, []byte("base\n"))
	off := int64(len(tp.data))
	raw := append(entryHead(objOFSDelta, huge), ofsDeltaOffset(off-baseOff)...)
	tp.add(fakeName("delta"), append(raw, zlibOf([]byte{5, 5, 0x90, 5})...))
	out["huge-delta"] = tp

	tp = newTestPack()
	_, baseOff = tp.full(BlobObject, []byte("base\n"))
	delta := binary.AppendUvarint(binary.AppendUvarint(nil, 5), huge)
	delta = append(delta, 0x90, 5) // copy the base's 5 bytes, then nothing
	tp.ofsDelta(fakeName("result"), baseOff, delta)
	out["huge-delta-result"] = tp
	return out
}

// refLoopPacks are packs whose ref-deltas come back to themselves: one
// entry its own base, two entries each other's, and a chain of 40
// ofs-deltas whose bottom is a ref-delta to its top (long enough for the
// map of long chains).
func refLoopPacks() map[string]*testPack {
	out := map[string]*testPack{}
	delta := []byte{1, 1, 0x90, 1}

	tp := newTestPack()
	a := fakeName("a")
	tp.refDelta(a, a, delta)
	out["ref-delta-self"] = tp

	tp = newTestPack()
	b := fakeName("b")
	tp.refDelta(a, b, delta)
	tp.refDelta(b, a, delta)
	out["ref-delta-pair"] = tp

	tp = newTestPack()
	top := fakeName("top")
	prev := tp.refDelta(fakeName("bottom"), top, delta)
	for i := 0; i < 40; i++ {
		name := fakeName(fmt.Sprint("link", i))
		if i == 39 {
			name = top
		}
		prev = tp.ofsDelta(name, prev, delta)
	}
	out["ref-delta-long-loop"] = tp
	return out
}

// TestHugeClaimedSize: an entry's size is only a claim; the reader must not
// allocate it before the data is there (60 MiB allocated up front cost
// 14 ms a read).
func TestHugeClaimedSize(t *testing.T) {
	for name, tp := range hugeClaimPacks() {
		t.Run(name, func(t *testing.T) {
			db := tp.db(t)
			defer db.close()
			h := tp.names[len(tp.names)-1]
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			const reads = 10
			for i := 0; i < reads; i++ {
				if _, _, err := db.read(h); err == nil {
					t.Fatal("a 60 MiB object read from a few bytes")
				}
			}
			runtime.ReadMemStats(&after)
			if per := (after.TotalAlloc - before.TotalAlloc) / reads; per > 1<<20 {
				t.Errorf("%d bytes allocated a read", per)
			}
		})
	}
}

func TestRefDeltaLoop(t *testing.T) {
	for name, tp := range refLoopPacks() {
		t.Run(name, func(t *testing.T) {
			db := tp.db(t)
			defer db.close()
			for _, h := range tp.names {
				_, _, err := db.read(h)
				if err == nil || !strings.Contains(err.Error(), "delta chain loops") {
					t.Fatalf("%s: %v, want a loop error", h, err)
				}
			}
		})
	}
}

// TestDeltaChain reads every object of a chain of 100 deltas (longer than
// the linear check of loops), top first and bottom first, with and without
// the cache.
func TestDeltaChain(t *testing.T) {
	tp := newTestPack()
	content := []byte("line 0\n")
	_, prev := tp.full(BlobObject, content)
	want := map[Hash]string{}
	var order []Hash
	for i := 1; i <= 100; i++ {
		next := append(bytes.Clone(content), fmt.Sprintf("line %d\n", i)...)
		h := Hash(sha1.Sum(append([]byte(fmt.Sprintf("blob %d\x00", len(next))), next...)))
		if i%7 == 0 {
			// A ref-delta in the chain now and then.
			h0 := Hash(sha1.Sum(append([]byte(fmt.Sprintf("blob %d\x00", len(content))), content...)))
			prev = tp.refDelta(h, h0, makeDelta(content, next))
		} else {
			prev = tp.ofsDelta(h, prev, makeDelta(content, next))
		}
		want[h] = string(next)
		order = append(order, h)
		content = next
	}
	for _, reverse := range []bool{false, true} {
		db := tp.db(t)
		for i := range order {
			h := order[i]
			if reverse {
				h = order[len(order)-1-i]
			}
			typ, data, err := db.read(h)
			if err != nil || typ != BlobObject || string(data) != want[h] {
				t.Fatalf("reverse %v: %s: %v %v %q", reverse, h, typ, err, data)
			}
		}
		if len(db.cache.idx) == 0 {
			t.Error("nothing cached")
		}
		db.close()
	}
}

func TestReadMax(t *testing.T) {
	tp := newTestPack()
	big := bytes.Repeat([]byte("0123456789abcdef\n"), 100)
	hBig, bigOff := tp.full(BlobObject, big)
	next := append(bytes.Clone(big), "more\n"...)
	hNext := Hash(sha1.Sum(append([]byte(fmt.Sprintf("blob %d\x00", len(next))), next...)))
	tp.ofsDelta(hNext, bigOff, makeDelta(big, next))
	db := tp.db(t)
	defer db.close()
	for _, c := range []struct {
		h     Hash
		limit int
		ok    bool
	}{
		{hBig, len(big), true},
		{hBig, len(big) - 1, false},
		{hNext, len(next), true},
		{hNext, len(next) - 1, false},
	} {
		_, data, err := db.readMax(c.h, c.limit)
		if c.ok != (err == nil) || (!c.ok && !errors.Is(err, errTooLarge)) {
			t.Errorf("%s with limit %d: %d bytes, %v", c.h, c.limit, len(data), err)
		}
	}
	// A delta over the limit is refused before its base is read.
	db2 := tp.db(t)
	defer db2.close()
	if _, _, err := db2.readMax(hNext, 10); !errors.Is(err, errTooLarge) || len(db2.cache.idx) != 0 {
		t.Errorf("delta over the limit: %v, %d cached", err, len(db2.cache.idx))
	}
}

func TestObjCacheBounds(t *testing.T) {
	var c objCache
	p := &pack{}
	// The first entry is read on every round: the clock spares it.
	c.put(p, 0, BlobObject, []byte("hot"))
	for i := int64(1); i < 3*objCacheEntries; i++ {
		c.get(p, 0)
		c.put(p, i, BlobObject, make([]byte, 16))
		if len(c.idx) > objCacheEntries || c.bytes > objCacheBytes {
			t.Fatalf("%d entries, %d bytes", len(c.idx), c.bytes)
		}
	}
	if _, data, ok := c.get(p, 0); !ok || string(data) != "hot" {
		t.Error("the entry read all along was evicted")
	}
	if _, _, ok := c.get(p, 1); ok {
		t.Error("an old entry never read was kept")
	}
	// Large objects: bounded by bytes.
	for i := int64(0); i < 10; i++ {
		c.put(p, 1e6+i, TreeObject, make([]byte, objCacheMaxObject))
		if c.bytes > objCacheBytes {
			t.Fatalf("%d bytes", c.bytes)
		}
	}
	c.put(p, 2e6, BlobObject, make([]byte, objCacheMaxObject+1))
	if _, _, ok := c.get(p, 2e6); ok {
		t.Error("an object over objCacheMaxObject was cached")
	}
	n := 0
	for _, e := range c.ents {
		if e.used {
			n++
		}
	}
	if n != len(c.idx) {
		t.Errorf("%d slots used, %d indexed", n, len(c.idx))
	}
}

// TestWriteHostileSeeds writes the packs above as FuzzPackRead seeds (with
// -gitrepo.write-seeds), and checks they are there.
func TestWriteHostileSeeds(t *testing.T) {
	all := hugeClaimPacks()
	for k, v := range refLoopPacks() {
		all[k] = v
	}
	for name, tp := range all {
		path := filepath.Join("testdata", "fuzz", "FuzzPackRead", name)
		text := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n[]byte(%q)\n", tp.data, tp.index())
		if *writeSeeds {
			if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != text {
			t.Errorf("%s: missing or stale (%v): rewrite with -gitrepo.write-seeds", path, err)
		}
	}
}

// FuzzCommitStart: the tree and first parent read from a commit's first
// commitStartLen bytes, which is what the walk logs, are those read from
// the whole commit.
func FuzzCommitStart(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzParseCommit", "*"))
	for _, path := range seeds {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if len(lines) != 2 {
			continue
		}
		q, _ := strings.CutPrefix(lines[1], "[]byte(")
		q, _ = strings.CutSuffix(q, ")")
		if v, err := strconv.Unquote(q); err == nil {
			f.Add([]byte(v))
		}
	}
	tree := strings.Repeat("a", 40)
	parent := strings.Repeat("b", 40)
	for _, s := range []string{
		"tree " + tree + "\nparent " + parent + "\nparent " + tree + "\nauthor A <a> 1 +0000\n\nmsg\n",
		"tree " + tree + "\nauthor A <a> 1 +0000\n\nroot\n",
		"tree " + tree + "\nparent " + parent + "x\nauthor A <a> 1 +0000\n",
		"tree " + tree + "\nparent " + parent[:39] + "\n\n",
		"tree " + tree + "x\nparent " + parent + "\n",
		"tree " + tree + "\nparent " + parent,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tr, p, hasP, err := commitTreeAndParent(data)
		tr2, p2, hasP2, err2 := commitTreeAndParent(data[:min(len(data), commitStartLen)])
		if (err == nil) != (err2 == nil) || (err == nil && (tr != tr2 || p != p2 || hasP != hasP2)) {
			t.Fatalf("whole: %s %s %v %v; start: %s %s %v %v", tr, p, hasP, err, tr2, p2, hasP2, err2)
		}
		var db objectDB
		db.noteCommit(Hash{1}, data)
		c, ok := db.commitHead(Hash{1})
		if ok != (err == nil) || (ok && (c.tree != tr || c.parent != p || c.hasParent != hasP)) {
			t.Fatalf("logged: %+v %v, want %s %s %v %v", c, ok, tr, p, hasP, err)
		}
	})
}

// BenchmarkNoteCommit is what logging a commit costs the walk (about
// 5 µs a commit on BenchmarkChangesVsWalk1000/walk).
func BenchmarkNoteCommit(b *testing.B) {
	data := []byte("tree " + strings.Repeat("a", 40) + "\nparent " + strings.Repeat("b", 40) +
		"\nauthor A U Thor <a@example.com> 1700000000 +0000\ncommitter A U Thor <a@example.com> 1700000000 +0000\n\nKEY-1: a change\n")
	var db objectDB
	var h Hash
	for i := 0; i < b.N; i++ {
		binary.BigEndian.PutUint64(h[:], uint64(i))
		db.noteCommit(h, data)
	}
}

// The commit log answers for every commit it logged, across its small,
// growing first chunk and the full ones after it.
func TestNoteCommitLogsAcrossChunks(t *testing.T) {
	var db objectDB
	const n = 3*headChunk + 5
	hexOf := func(i int, c byte) string { return fmt.Sprintf("%c%039x", c, i) }
	for i := range n {
		var h Hash
		binary.BigEndian.PutUint64(h[:], uint64(i))
		db.noteCommit(h, []byte("tree "+hexOf(i, 'a')+"\nparent "+hexOf(i, 'b')+"\nauthor A <a@b> 1 +0000\n\nmsg\n"))
	}
	if len(db.heads.chunks) != 4 || cap(db.heads.chunks[0]) < headChunk {
		t.Fatalf("chunks: %d, first cap %d", len(db.heads.chunks), cap(db.heads.chunks[0]))
	}
	for _, i := range []int{0, 1, 3, 4, headChunk - 1, headChunk, 2*headChunk + 7, n - 1} {
		var h Hash
		binary.BigEndian.PutUint64(h[:], uint64(i))
		c, ok := db.commitHead(h)
		if !ok || c.tree.String() != hexOf(i, 'a') || c.parent.String() != hexOf(i, 'b') || !c.hasParent {
			t.Errorf("commit %d: %+v, %v", i, c, ok)
		}
	}
}

// A read of the object the last read returned gives the same content
// without reading it again (resolving HEAD and reading its commit read it
// twice); any other read in between, or a keep read, ends that.
func TestReadRemembersTheLastObject(t *testing.T) {
	dir := t.TempDir()
	a, b := NewHash(strings.Repeat("a", 40)), NewHash(strings.Repeat("b", 40))
	dtWriteLoose(t, dir, a, "blob", []byte("first\n"))
	dtWriteLoose(t, dir, b, "blob", []byte("second\n"))
	db, err := openObjectDB(filepath.Join(dir, ".git", "objects"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.close()
	if _, data, err := db.read(a); err != nil || string(data) != "first\n" {
		t.Fatalf("%q, %v", data, err)
	}
	// Gone from disk: only the remembered content can answer.
	if err := os.Remove(dtLoosePath(dir, a)); err != nil {
		t.Fatal(err)
	}
	if typ, data, err := db.read(a); err != nil || typ != BlobObject || string(data) != "first\n" {
		t.Fatalf("again: %v %q, %v", typ, data, err)
	}
	if _, _, err := db.readMax(a, 3); err == nil {
		t.Error("a remembered object over the limit was returned")
	}
	if _, data, err := db.read(b); err != nil || string(data) != "second\n" {
		t.Fatalf("%q, %v", data, err)
	}
	if _, _, err := db.read(a); err == nil {
		t.Error("the object was remembered past another read")
	}
	if _, _, err := db.read(b); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(dtLoosePath(dir, b)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.readKept(b); err == nil {
		t.Error("a keep read was answered from the last read's buffer")
	}
}
