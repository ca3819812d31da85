package gitrepo

import (
	"bytes"
	"testing"

	"github.com/go-git/go-git/v5/plumbing/format/packfile"
)

// deltaOf makes a delta from base to target with copy and insert
// instructions, as git's encoder would (simplified: copies of the common
// prefix and suffix, the middle inserted).
func deltaOf(base, target []byte) []byte {
	var d []byte
	putSize := func(n int) {
		for {
			c := byte(n & 0x7f)
			n >>= 7
			if n > 0 {
				d = append(d, c|0x80)
				continue
			}
			d = append(d, c)
			return
		}
	}
	putSize(len(base))
	putSize(len(target))
	pre := 0
	for pre < len(base) && pre < len(target) && base[pre] == target[pre] && pre < 0xffff {
		pre++
	}
	if pre > 0 {
		d = append(d, 0x80|0x01|0x02|0x10|0x20, 0, 0, byte(pre), byte(pre>>8))
	}
	rest := target[pre:]
	for len(rest) > 0 {
		n := min(len(rest), 127)
		d = append(d, byte(n))
		d = append(d, rest[:n]...)
		rest = rest[n:]
	}
	return d
}

func TestPatchDelta(t *testing.T) {
	base := []byte("tree 1234\nparent abc\nauthor A <a@b> 1 +0000\n\nKEY-1: the message\n")
	target := []byte("tree 1234\nparent abc\nauthor A <a@b> 1 +0000\n\nKEY-2: another message, longer than the first\n")
	got, err := patchDelta(base, deltaOf(base, target))
	if err != nil || !bytes.Equal(got, target) {
		t.Fatalf("patchDelta = %q, %v", got, err)
	}
	// A copy of size 0 means 0x10000 bytes.
	big := bytes.Repeat([]byte("x"), 0x10000)
	d := []byte{0x80, 0x80, 0x04, 0x80, 0x80, 0x04, 0x80}
	if got, err := patchDelta(big, d); err != nil || !bytes.Equal(got, big) {
		t.Errorf("0x10000 copy: %d bytes, %v", len(got), err)
	}
	for name, d := range map[string][]byte{
		"empty":              {},
		"wrong base size":    {5, 1, 1, 'x'},
		"copy past base":     {byte(len(base)), 10, 0x80 | 0x01 | 0x10, 250, 10},
		"insert past end":    {byte(len(base)), 2, 5, 'a', 'b'},
		"reserved opcode":    {byte(len(base)), 1, 0},
		"short result":       {byte(len(base)), 3, 1, 'a'},
		"long result":        {byte(len(base)), 1, 2, 'a', 'b'},
		"truncated copy arg": {byte(len(base)), 1, 0x80 | 0x01},
		"huge size":          {byte(len(base)), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
	} {
		if _, err := patchDelta(base, d); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// FuzzPatchDelta: never panics, and agrees with go-git's PatchDelta (which
// it replaced) whenever both accept a delta.
func FuzzPatchDelta(f *testing.F) {
	base := []byte("tree 1234\nparent abc\n\nKEY-1: the message\n")
	f.Add(base, deltaOf(base, []byte("tree 1234\nparent abd\n\nKEY-2: other\n")))
	f.Add(base, []byte{byte(len(base)), 4, 0x91, 3, 4})
	f.Add([]byte{}, []byte{0, 1, 1, 'a'})
	f.Fuzz(func(t *testing.T, base, delta []byte) {
		got, err := patchDelta(base, delta)
		if err != nil {
			return
		}
		want, werr := packfile.PatchDelta(base, delta)
		if werr == nil && !bytes.Equal(got, want) {
			t.Fatalf("patchDelta = %q, go-git = %q", got, want)
		}
	})
}
