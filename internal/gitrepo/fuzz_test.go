package gitrepo

import (
	"bytes"
	"crypto/sha1"
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing/format/packfile"
)

// Fuzz targets for the parsers of hostile repository data: pack indexes,
// pack entries (headers, zlib, ofs and ref deltas), delta application, tree
// objects and commit objects. None may panic, and every read is bounded.
// The seed corpora under testdata/fuzz/<FuzzName>/ are made from a real
// tiny repository by
//
//	go test -run TestWriteFuzzSeeds -gitrepo.write-seeds ./internal/gitrepo
//
// (which needs git), plus a few malformed inputs added here with f.Add and
// regressions of the fuzz tests' own checks. To fuzz, for example:
//
//	go test -run XXX -fuzz '^FuzzPackRead$' -fuzztime 60s -fuzzminimizetime 2s ./internal/gitrepo
//
// (minimizing a pack-sized input with the default 60 s looks like a hang:
// the execs counter stops while the worker minimizes).

var writeSeeds = flag.Bool("gitrepo.write-seeds", false, "rewrite the fuzz seed corpora under testdata/fuzz from a repository made with git")

func FuzzParsePackIndex(f *testing.F) {
	f.Add([]byte{})
	f.Add(append([]byte{0xff, 't', 'O', 'c', 0, 0, 0, 2}, make([]byte, 1024+40)...))
	f.Add(append([]byte{0xff, 't', 'O', 'c', 0, 0, 0, 3}, make([]byte, 1024+40)...))
	f.Add(make([]byte, 1024+40)) // version 1, empty
	// A v2 index whose fanout claims more entries than it holds.
	bad := append([]byte{0xff, 't', 'O', 'c', 0, 0, 0, 2}, make([]byte, 1024+40)...)
	binary.BigEndian.PutUint32(bad[8+255*4:], 1000)
	f.Add(bad)
	f.Fuzz(func(t *testing.T, data []byte) {
		ix, err := parsePackIndex(data)
		if err != nil {
			return
		}
		if ix.n < 0 || ix.n > len(data) {
			t.Fatalf("%d entries in %d bytes", ix.n, len(data))
		}
		for i := 0; i < ix.n && i < 64; i++ {
			h := Hash(ix.name(i))
			off, err := ix.offset(i)
			if err == nil && off < 0 {
				t.Fatalf("entry %d: offset %d", i, off)
			}
			// The index may be unsorted: find must still end.
			ix.find(&h)
			ix.withPrefix(h.String()[:4], nil)
		}
		for _, h := range []Hash{{}, {0xff, 0xff}, Hash(bytes.Repeat([]byte{0x7f}, 20))} {
			ix.find(&h)
		}
		ix.withPrefix("0000", nil)
		ix.withPrefix("ffff", nil)
	})
}

// FuzzPackRead reads every object an index lists (the first 64) from a
// pack, both fuzzed: entry headers, zlib streams, ofs-deltas and
// ref-deltas (whose bases are looked up in the index, so that chains and
// loops can be built).
func FuzzPackRead(f *testing.F) {
	f.Add([]byte("PACK\x00\x00\x00\x02\x00\x00\x00\x00"), []byte{})
	f.Fuzz(func(t *testing.T, packData, idxData []byte) {
		ix, err := parsePackIndex(idxData)
		if err != nil {
			return
		}
		p := &pack{name: "fuzz", idx: ix, data: packData, size: int64(len(packData))}
		db := &objectDB{packs: []*pack{p}}
		defer db.close()
		for i := 0; i < ix.n && i < 64; i++ {
			h := Hash(ix.name(i))
			typ, data, err := db.read(h)
			if err != nil {
				continue
			}
			if typ < CommitObject || typ > TagObject {
				t.Fatalf("object %s: type %v", h, typ)
			}
			if len(data) > maxObjectSize {
				t.Fatalf("object %s: %d bytes", h, len(data))
			}
			// What the diff does with the objects it reads.
			switch typ {
			case TreeObject:
				parseTree(bytes.Clone(data), nil)
			case CommitObject:
				commitTreeAndParent(data)
				parseCommit(data, nil)
			}
		}
	})
}

// makeDelta is a delta that copies base's common prefix and suffix with
// target and inserts the rest.
func makeDelta(base, target []byte) []byte {
	pre := 0
	for pre < len(base) && pre < len(target) && base[pre] == target[pre] {
		pre++
	}
	suf := 0
	for suf < len(base)-pre && suf < len(target)-pre && base[len(base)-1-suf] == target[len(target)-1-suf] {
		suf++
	}
	d := binary.AppendUvarint(nil, uint64(len(base)))
	d = binary.AppendUvarint(d, uint64(len(target)))
	copyOp := func(off, n int) {
		if n == 0 {
			return
		}
		// Offset and size in 4 and 3 little-endian bytes, all present.
		d = append(d, 0x80|0x0f|0x70, byte(off), byte(off>>8), byte(off>>16), byte(off>>24), byte(n), byte(n>>8), byte(n>>16))
	}
	copyOp(0, pre)
	for mid := target[pre : len(target)-suf]; len(mid) > 0; {
		n := min(len(mid), 127)
		d = append(append(d, byte(n)), mid[:n]...)
		mid = mid[n:]
	}
	copyOp(len(base)-suf, suf)
	return d
}

func FuzzParseTree(f *testing.F) {
	f.Add([]byte(""))
	f.Add([]byte("100644 a\x00" + strings.Repeat("\x01", 20)))
	f.Add([]byte("40000 d\x00" + strings.Repeat("\x02", 20) + "100644 c\x00" + strings.Repeat("\x01", 20))) // unsorted
	f.Add([]byte("100644 a/b\x00" + strings.Repeat("\x01", 20)))                                            // a '/' in a name
	f.Add([]byte("100644 \x00" + strings.Repeat("\x01", 20)))                                               // an empty name
	f.Add([]byte("1006448 a\x00" + strings.Repeat("\x01", 20)))                                             // not octal
	f.Add([]byte("100644 a\x00" + strings.Repeat("\x01", 19)))                                              // truncated
	f.Fuzz(func(t *testing.T, data []byte) {
		ents, err := parseTree(data, nil)
		if err != nil {
			return
		}
		var canon bytes.Buffer
		for i := range ents {
			e := &ents[i]
			if len(e.name) == 0 || bytes.IndexByte(e.name, '/') >= 0 || bytes.IndexByte(e.name, 0) >= 0 {
				t.Fatalf("entry %d: name %q", i, e.name)
			}
			if i > 0 && compareEntries(&ents[i-1], e) > 0 {
				t.Fatalf("entries %d and %d out of order: %q %q", i-1, i, ents[i-1].name, e.name)
			}
			fmt.Fprintf(&canon, "%o %s\x00%s", e.mode, e.name, e.hash[:])
		}
		// The canonical form of the entries parses to the same entries.
		again, err := parseTree(canon.Bytes(), nil)
		if err != nil || len(again) != len(ents) {
			t.Fatalf("canonical form %q: %d entries, %v", canon.Bytes(), len(again), err)
		}
		for i := range ents {
			if again[i].mode != ents[i].mode || again[i].hash != ents[i].hash || !bytes.Equal(again[i].name, ents[i].name) {
				t.Fatalf("entry %d changed: %+v %+v", i, ents[i], again[i])
			}
		}
	})
}

func FuzzParseCommit(f *testing.F) {
	f.Add([]byte("tree " + strings.Repeat("a", 40) + "\nparent " + strings.Repeat("b", 40) + "\nauthor A <a@b> 1700000000 +0100\ncommitter C <c@d> 1700000000 -0130\n\nKEY-1 message\n"))
	f.Add([]byte("tree " + strings.Repeat("a", 40) + "\nparent " + strings.Repeat("g", 40) + "\n\n"))
	f.Add([]byte("tree " + strings.Repeat("a", 39) + "\n"))
	f.Add([]byte("committer x> 99999999999999999999999 +99\n"))
	f.Add([]byte("object " + strings.Repeat("c", 40) + "\ntype commit\ntag v1\ntagger T <t@t> 1 +0000\n\nmsg"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ci, cerr := parseCommit(data, nil)
		tree, parent, hasParent, err := commitTreeAndParent(data)
		parseTag(data)
		if cerr == nil {
			if len(ci.msg) > len(data) {
				t.Fatalf("message of %d bytes in %d", len(ci.msg), len(data))
			}
			if err == nil && hasParent && (len(ci.parents) == 0 || ci.parents[0] != parent) {
				t.Fatalf("first parent %s, parseCommit %v", parent, ci.parents)
			}
		}
		if err == nil && (len(data) < 45 || !bytes.EqualFold(data[:45], []byte("tree "+tree.String()))) {
			t.Fatalf("tree %s from %q", tree, data)
		}
	})
}

// FuzzLineCount checks the line counter against the textbook LCS on small
// inputs; on any input it must end within its work bound.
func FuzzLineCount(f *testing.F) {
	f.Add([]byte("a\nb\nc\n"), []byte("a\nc\nd\n"))
	f.Add([]byte("a"), []byte("a\n"))
	f.Add([]byte(""), []byte("\n\n\n"))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		var lc lineCounter
		added, removed, ok := lc.count(a, b)
		if !ok {
			return
		}
		la, lb := splitLineIDs(a, b)
		if len(la) > 300 || len(lb) > 300 {
			return
		}
		l := lcsLen(la, lb)
		if added != len(lb)-l || removed != len(la)-l {
			t.Fatalf("+%d -%d, want +%d -%d", added, removed, len(lb)-l, len(la)-l)
		}
	})
}

// splitLineIDs numbers the lines of a and b (a line keeps its '\n').
func splitLineIDs(a, b []byte) ([]int32, []int32) {
	ids := map[string]int32{}
	split := func(p []byte) []int32 {
		var out []int32
		for len(p) > 0 {
			n := lineLen(p)
			id, ok := ids[string(p[:n])]
			if !ok {
				id = int32(len(ids))
				ids[string(p[:n])] = id
			}
			out = append(out, id)
			p = p[n:]
		}
		return out
	}
	return split(a), split(b)
}

// TestWriteFuzzSeeds writes the seed corpora from a tiny repository made
// with git: its pack (with ofs-deltas, and a copy with ref-deltas), its
// index (versions 2 and 1), its trees, commits and tags, and the deltas
// between versions of its files. It runs only with -gitrepo.write-seeds.
func TestWriteFuzzSeeds(t *testing.T) {
	if !*writeSeeds {
		t.Skip("run with -gitrepo.write-seeds to rewrite testdata/fuzz")
	}
	g := dtNewRepo(t)
	content := "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Println(\"hello\")\n}\n"
	var versions []string
	for i := 0; i < 4; i++ {
		content = strings.Replace(content, "}\n", fmt.Sprintf("\tfmt.Println(%d)\n}\n", i), 1)
		versions = append(versions, content)
		g.write("cmd/main.go", content)
		g.write("docs/a.md", fmt.Sprintf("# KEY-%d\n", i))
		g.commit(fmt.Sprintf("KEY-%d: change %d", i+1, i))
	}
	g.git("tag", "-a", "-m", "release", "v1")
	g.git("repack", "-a", "-d", "-f", "-q", "--depth=4")
	pack, _ := filepath.Glob(filepath.Join(g.dir, ".git/objects/pack/*.pack"))
	if len(pack) != 1 {
		t.Fatalf("packs: %v", pack)
	}
	packData, idxV2 := mustRead(t, pack[0]), mustRead(t, strings.TrimSuffix(pack[0], ".pack")+".idx")
	idxV1Path := filepath.Join(t.TempDir(), "v1.idx")
	g.git("index-pack", "--index-version=1", "-o", idxV1Path, pack[0])
	idxV1 := mustRead(t, idxV1Path)
	// The same objects with ref-deltas.
	objs := g.git("rev-list", "--objects", "--all")
	var list bytes.Buffer
	for _, line := range strings.Split(strings.TrimSpace(objs), "\n") {
		list.WriteString(strings.Fields(line)[0] + "\n")
	}
	refDir := t.TempDir()
	out, err := dtGit(g.dir, list.Bytes(), 0, "pack-objects", "-q", "--no-delta-base-offset", "--depth=4", filepath.Join(refDir, "ref"))
	if err != nil {
		t.Fatal(err)
	}
	refBase := filepath.Join(refDir, "ref-"+strings.TrimSpace(out))
	refPack, refIdx := mustRead(t, refBase+".pack"), mustRead(t, refBase+".idx")

	dir := filepath.Join("testdata", "fuzz") // files of other names are kept
	seed := func(target, name string, args ...[]byte) {
		var b strings.Builder
		b.WriteString("go test fuzz v1\n")
		for _, a := range args {
			fmt.Fprintf(&b, "[]byte(%q)\n", a)
		}
		d := filepath.Join(dir, target)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, name), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	seed("FuzzParsePackIndex", "v2", idxV2)
	seed("FuzzParsePackIndex", "v1", idxV1)
	seed("FuzzParsePackIndex", "v2-truncated", idxV2[:len(idxV2)-30])
	seed("FuzzPackRead", "ofs-deltas", packData, idxV2)
	seed("FuzzPackRead", "ofs-deltas-idx-v1", packData, idxV1)
	seed("FuzzPackRead", "ref-deltas", refPack, refIdx)
	seed("FuzzPackRead", "truncated", packData[:len(packData)/2], idxV2)
	// A ref-delta loop: the first delta's base named as itself.
	if loop := refDeltaLoop(t, refPack, refIdx); loop != nil {
		seed("FuzzPackRead", "ref-delta-loop", loop, refIdx)
	}
	for i := 1; i < len(versions); i++ {
		seed("FuzzPatchDelta", fmt.Sprintf("version-%d", i), []byte(versions[i-1]), makeDelta([]byte(versions[i-1]), []byte(versions[i])))
	}
	// Trees, commits and a tag, read back through the repository.
	r := g.open()
	trees, commits := 0, 0
	for _, line := range strings.Split(strings.TrimSpace(objs), "\n") {
		h := NewHash(strings.Fields(line)[0])
		typ, data, err := r.db.read(h)
		if err != nil {
			t.Fatal(err)
		}
		switch typ {
		case TreeObject:
			if trees++; trees <= 4 {
				seed("FuzzParseTree", fmt.Sprintf("tree-%d", trees), data)
			}
		case CommitObject:
			if commits++; commits <= 3 {
				seed("FuzzParseCommit", fmt.Sprintf("commit-%d", commits), data)
			}
		}
	}
	tagSHA := NewHash(strings.TrimSpace(g.git("rev-parse", "v1")))
	_, tag, err := r.db.read(tagSHA)
	if err != nil {
		t.Fatal(err)
	}
	seed("FuzzParseCommit", "tag", tag)
	seed("FuzzLineCount", "versions", []byte(versions[0]), []byte(versions[len(versions)-1]))
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// refDeltaLoop returns a copy of pack whose first ref-delta names itself
// as its base, or nil if the pack has no ref-delta.
func refDeltaLoop(t *testing.T, pack, idxData []byte) []byte {
	ix, err := parsePackIndex(idxData)
	if err != nil {
		t.Fatal(err)
	}
	type ent struct {
		off  int64
		name Hash
	}
	var ents []ent
	for i := 0; i < ix.n; i++ {
		off, err := ix.offset(i)
		if err != nil {
			t.Fatal(err)
		}
		ents = append(ents, ent{off, Hash(ix.name(i))})
	}
	sort.Slice(ents, func(i, j int) bool { return ents[i].off < ents[j].off })
	for _, e := range ents {
		c := pack[e.off]
		if (c>>4)&7 != objREFDelta {
			continue
		}
		i := e.off + 1
		for c&0x80 != 0 {
			c = pack[i]
			i++
		}
		out := bytes.Clone(pack)
		copy(out[i:i+20], e.name[:])
		return out
	}
	return nil
}

// TestFuzzSeedsAreReal checks that the committed pack seeds are what they
// claim: every object of the pack seeds reads back with the SHA-1 its index
// names (so the fuzzer starts from valid packs, deltas included).
func TestFuzzSeedsAreReal(t *testing.T) {
	for _, name := range []string{"ofs-deltas", "ofs-deltas-idx-v1", "ref-deltas"} {
		path := filepath.Join("testdata", "fuzz", "FuzzPackRead", name)
		args := readSeed(t, path)
		if len(args) != 2 {
			t.Fatalf("%s: %d arguments", path, len(args))
		}
		ix, err := parsePackIndex(args[1])
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		db := &objectDB{packs: []*pack{{name: name, idx: ix, data: args[0], size: int64(len(args[0]))}}}
		if ix.n < 12 {
			t.Errorf("%s: %d objects", name, ix.n)
		}
		types := map[byte]int{}
		for i := 0; i < ix.n; i++ {
			off, err := ix.offset(i)
			if err != nil {
				t.Fatal(err)
			}
			types[(args[0][off]>>4)&7]++
		}
		wantDelta := byte(objOFSDelta)
		if name == "ref-deltas" {
			wantDelta = objREFDelta
		}
		if types[wantDelta] < 2 || types[1] == 0 || types[2] == 0 || types[3] == 0 || types[4] == 0 {
			t.Errorf("%s: entry types %v: want commits, trees, blobs, a tag and deltas of type %d", name, types, wantDelta)
		}
		for i := 0; i < ix.n; i++ {
			h := Hash(ix.name(i))
			typ, data, err := db.read(h)
			if err != nil {
				t.Fatalf("%s: %s: %v", name, h, err)
			}
			sum := sha1.Sum(append([]byte(fmt.Sprintf("%s %d\x00", typ, len(data))), data...))
			if Hash(sum) != h {
				t.Fatalf("%s: object %s reads as %x", name, h, sum)
			}
		}
		db.close()
	}
	// And the delta seeds are deltas from real consecutive versions.
	entries, _ := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzPatchDelta", "version-*"))
	if len(entries) == 0 {
		t.Fatal("no delta seeds")
	}
	for _, path := range entries {
		args := readSeed(t, path)
		if _, err := packfile.PatchDelta(args[0], args[1]); err != nil {
			t.Errorf("%s: %v", path, err)
		}
	}
}

// readSeed reads a corpus file of []byte arguments.
func readSeed(t *testing.T, path string) [][]byte {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(string(mustRead(t, path))), "\n")
	if len(lines) == 0 || lines[0] != "go test fuzz v1" {
		t.Fatalf("%s: not a corpus file", path)
	}
	var out [][]byte
	for _, l := range lines[1:] {
		s, ok := strings.CutPrefix(l, "[]byte(")
		s, ok2 := strings.CutSuffix(s, ")")
		if !ok || !ok2 {
			t.Fatalf("%s: %q", path, l)
		}
		v, err := strconv.Unquote(s)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, []byte(v))
	}
	return out
}
