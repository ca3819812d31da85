package gitrepo

import (
	"encoding/hex"
	"errors"
)

// These small types replace go-git's plumbing.Hash and plumbing.ObjectType,
// the only part of go-git the reader used. Linking go-git's plumbing package
// for them brought in plumbing/hash, github.com/pjbgf/sha1cd (whose init
// probes the CPU) and regexp with its unicode tables: ~240 KB of the binary
// and ~80 µs of every run's start on a CI VM (measured for issue 12). The
// reader never computes object names (objects are found by the names refs,
// commits and trees give), so no SHA-1 implementation is needed here; tests
// use crypto/sha1.

// Hash is a SHA-1 object name.
type Hash [20]byte

// ZeroHash is the zero Hash; no object has it.
var ZeroHash Hash

// ParseHash parses a 40-digit hexadecimal object name (either case).
func ParseHash(s string) (Hash, bool) {
	var h Hash
	if len(s) != 2*len(h) {
		return ZeroHash, false
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return ZeroHash, false
	}
	return h, true
}

// NewHash is ParseHash for a name known to be well-formed: it returns
// ZeroHash for anything that is not 40 hexadecimal digits.
func NewHash(s string) Hash {
	h, _ := ParseHash(s)
	return h
}

// isHash tells whether s is a 40-digit hexadecimal object name.
func isHash(s string) bool { return len(s) == 40 && isHex(s) }

// IsZero tells whether h is ZeroHash.
func (h Hash) IsZero() bool { return h == ZeroHash }

// String is the name in lower-case hexadecimal, as git prints it.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// ObjectType is a git object type, numbered as in pack files.
type ObjectType int8

// Object types, with their pack numbers.
const (
	InvalidObject  ObjectType = 0
	CommitObject   ObjectType = 1
	TreeObject     ObjectType = 2
	BlobObject     ObjectType = 3
	TagObject      ObjectType = 4
	OFSDeltaObject ObjectType = 6 // a delta against an object earlier in the same pack
	REFDeltaObject ObjectType = 7 // a delta against an object named by its hash
)

// String is the type's name as in a loose object's header ("commit",
// "tree", "blob", "tag"), or "ofs-delta", "ref-delta", "unknown".
func (t ObjectType) String() string {
	switch t {
	case CommitObject:
		return "commit"
	case TreeObject:
		return "tree"
	case BlobObject:
		return "blob"
	case TagObject:
		return "tag"
	case OFSDeltaObject:
		return "ofs-delta"
	case REFDeltaObject:
		return "ref-delta"
	default:
		return "unknown"
	}
}

// errInvalidType is returned for a type name that is not one of git's four.
var errInvalidType = errors.New("invalid object type")

// parseObjectType parses a loose object's or a tag's type name. Only the
// four object types are accepted: the delta types exist only in packs.
func parseObjectType(s string) (ObjectType, error) {
	switch s {
	case "commit":
		return CommitObject, nil
	case "tree":
		return TreeObject, nil
	case "blob":
		return BlobObject, nil
	case "tag":
		return TagObject, nil
	}
	return InvalidObject, errInvalidType
}

// ErrObjectNotFound is returned (wrapped) when the repository has no object
// of the name asked for.
var ErrObjectNotFound = errors.New("object not found")

// ErrReferenceNotFound is returned (wrapped) when a ref or revision names
// nothing in the repository.
var ErrReferenceNotFound = errors.New("reference not found")

// refRevParseRules are the places a short ref name is looked up, in git's
// order (git's refs.c, ref_rev_parse_rules).
var refRevParseRules = []string{
	"%s",
	"refs/%s",
	"refs/tags/%s",
	"refs/heads/%s",
	"refs/remotes/%s",
	"refs/remotes/%s/HEAD",
}
