package gitrepo

import (
	"crypto/sha1"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
)

func TestParseHash(t *testing.T) {
	const name = "0123456789abcdef0123456789abcdef01234567"
	want := Hash{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67}
	for _, s := range []string{name, strings.ToUpper(name)} {
		h, ok := ParseHash(s)
		if !ok || h != want {
			t.Errorf("ParseHash(%q) = %v, %v; want %v, true", s, h, ok, want)
		}
		if NewHash(s) != want || !isHash(s) {
			t.Errorf("NewHash(%q) = %v, isHash %v", s, NewHash(s), isHash(s))
		}
		if h.String() != name {
			t.Errorf("String() = %q, want %q (lower case)", h.String(), name)
		}
		if h.IsZero() {
			t.Errorf("%v.IsZero() = true", h)
		}
	}
	for _, s := range []string{
		"",
		name[:39],
		name + "0",
		name[:38] + "g7",
		name[:39] + " ",
		" " + name[1:],
		name[:20] + "\x00" + name[21:],
		strings.Repeat("é", 20),
	} {
		if h, ok := ParseHash(s); ok || h != ZeroHash {
			t.Errorf("ParseHash(%q) = %v, %v; want ZeroHash, false", s, h, ok)
		}
		if !NewHash(s).IsZero() || isHash(s) {
			t.Errorf("NewHash(%q) = %v, isHash %v; want ZeroHash, false", s, NewHash(s), isHash(s))
		}
	}
	if !ZeroHash.IsZero() || ZeroHash.String() != strings.Repeat("0", 40) {
		t.Errorf("ZeroHash = %q, IsZero %v", ZeroHash.String(), ZeroHash.IsZero())
	}
	if got := fmt.Sprintf("%s %v", want, want); got != name+" "+name {
		t.Errorf("formatted: %q", got)
	}
}

// The types replaced go-git's plumbing.Hash and ObjectType: they must agree
// with them wherever go-git's test repositories meet this reader.
func TestHashAgreesWithGoGit(t *testing.T) {
	for i := range 200 {
		sum := sha1.Sum([]byte(fmt.Sprint(i)))
		h, ph := Hash(sum), plumbing.Hash(sum)
		if h.String() != ph.String() || h.IsZero() != ph.IsZero() {
			t.Fatalf("%x: String %q vs go-git %q", sum, h.String(), ph.String())
		}
		if NewHash(ph.String()) != h || plumbing.NewHash(h.String()) != ph {
			t.Fatalf("%x: round trip differs", sum)
		}
		if isHash(h.String()) != plumbing.IsHash(h.String()) {
			t.Fatalf("%x: isHash differs", sum)
		}
	}
	for ty := ObjectType(-1); ty <= 8; ty++ {
		if got, want := ty.String(), plumbing.ObjectType(ty).String(); got != want {
			t.Errorf("ObjectType(%d).String() = %q, go-git %q", ty, got, want)
		}
	}
}

func TestParseObjectType(t *testing.T) {
	for _, ty := range []ObjectType{CommitObject, TreeObject, BlobObject, TagObject} {
		got, err := parseObjectType(ty.String())
		if err != nil || got != ty {
			t.Errorf("parseObjectType(%q) = %v, %v", ty.String(), got, err)
		}
	}
	// The delta types exist only inside packs: a loose object or a tag
	// that claims one is corrupt.
	for _, s := range []string{"ofs-delta", "ref-delta", "unknown", "", "Commit", "commit ", "any"} {
		if got, err := parseObjectType(s); !errors.Is(err, errInvalidType) || got != InvalidObject {
			t.Errorf("parseObjectType(%q) = %v, %v; want an error", s, got, err)
		}
	}
}

// A loose object's header names one of the four object types; go-git's
// parser also took the pack-only delta types, which this reader refuses.
func TestLooseHeaderType(t *testing.T) {
	var db objectDB
	for _, tc := range []struct {
		hdr  string
		want ObjectType
	}{
		{"commit", CommitObject},
		{"tree", TreeObject},
		{"blob", BlobObject},
		{"tag", TagObject},
		{"ofs-delta", InvalidObject},
		{"ref-delta", InvalidObject},
		{"any", InvalidObject},
	} {
		got, data, err := db.inflateLoose(zlibOf([]byte(tc.hdr+" 3\x00abc")), maxObjectSize)
		if tc.want == InvalidObject {
			if !errors.Is(err, errInvalidType) {
				t.Errorf("%s: got %v %q, %v; want errInvalidType", tc.hdr, got, data, err)
			}
			continue
		}
		if err != nil || got != tc.want || string(data) != "abc" {
			t.Errorf("%s: got %v %q, %v", tc.hdr, got, data, err)
		}
	}
}
