package gitrepo

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// commitInfo is what the walks need of a commit.
type commitInfo struct {
	parents []Hash // appended to the caller's slice
	when    int64  // committer time, Unix seconds
	tz      int    // committer zone offset, seconds east of UTC
	msg     []byte // the message (everything after the header); aliases the object data
	author  []byte // the author line after "author "; aliases the object data
	enc     []byte // the encoding header's value, nil when none
}

var errBadCommit = errors.New("malformed commit object")

// parseCommit reads the parents, committer time and message of a raw commit.
// Header lines other than parent and committer are skipped, including
// multi-line ones (gpgsig, mergetag), whose continuation lines start with a
// space.
func parseCommit(data []byte, parents []Hash) (commitInfo, error) {
	ci := commitInfo{parents: parents}
	rest := data
	sawCommitter := false
	for {
		nl := bytes.IndexByte(rest, '\n')
		if nl < 0 {
			// A header with no message and no trailing blank line.
			if len(rest) > 0 {
				if err := ci.header(rest, &sawCommitter); err != nil {
					return ci, err
				}
			}
			ci.msg = rest[len(rest):]
			break
		}
		line := rest[:nl]
		rest = rest[nl+1:]
		if len(line) == 0 {
			ci.msg = rest
			break
		}
		if err := ci.header(line, &sawCommitter); err != nil {
			return ci, err
		}
	}
	return ci, nil
}

func (ci *commitInfo) header(line []byte, sawCommitter *bool) error {
	switch {
	case bytes.HasPrefix(line, []byte("parent ")):
		var h Hash
		if len(line) < 7+40 {
			return errBadCommit
		}
		if _, err := hex.Decode(h[:], line[7:7+40]); err != nil {
			return errBadCommit
		}
		ci.parents = append(ci.parents, h)
	case bytes.HasPrefix(line, []byte("author ")) && ci.author == nil:
		ci.author = line[7:]
	case bytes.HasPrefix(line, []byte("committer ")) && !*sawCommitter:
		*sawCommitter = true
		ci.when, ci.tz = parseSignatureTime(line)
	case bytes.HasPrefix(line, []byte("encoding ")):
		ci.enc = line[9:]
	}
	return nil
}

// parseSignatureTime reads "Name <email> 1700000000 +0100" (the time after
// the last '>'). A malformed time gives 0, as git treats it.
func parseSignatureTime[T string | []byte](line T) (int64, int) {
	gt := lastIndexByte(line, '>')
	if gt < 0 {
		return 0, 0
	}
	rest := line[gt+1:]
	for len(rest) > 0 && rest[0] == ' ' {
		rest = rest[1:]
	}
	var ts int64
	i := 0
	for ; i < len(rest) && rest[i] >= '0' && rest[i] <= '9'; i++ {
		if ts > (1<<62)/10 {
			return 0, 0
		}
		ts = ts*10 + int64(rest[i]-'0')
	}
	if i == 0 {
		return 0, 0
	}
	rest = rest[i:]
	for len(rest) > 0 && rest[0] == ' ' {
		rest = rest[1:]
	}
	tz := 0
	if len(rest) >= 5 && (rest[0] == '+' || rest[0] == '-') {
		ok := true
		for k := 1; k < 5; k++ {
			if c := rest[k]; c < '0' || c > '9' {
				ok = false
			}
		}
		if ok {
			hh := int(rest[1]-'0')*10 + int(rest[2]-'0')
			mm := int(rest[3]-'0')*10 + int(rest[4]-'0')
			tz = hh*3600 + mm*60
			if rest[0] == '-' {
				tz = -tz
			}
		}
	}
	return ts, tz
}

func (ci *commitInfo) time() time.Time {
	return (*zoneCache)(nil).time(ci.when, ci.tz)
}

func lastIndexByte[T string | []byte](s T, c byte) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == c {
			return i
		}
	}
	return -1
}

// tagInfo is what is needed of an annotated tag object.
type tagInfo struct {
	target     Hash
	targetType ObjectType
	when       int64 // tagger time
}

func parseTag(data []byte) (tagInfo, error) {
	var ti tagInfo
	rest := data
	haveObject := false
	for len(rest) > 0 {
		nl := bytes.IndexByte(rest, '\n')
		line := rest
		if nl >= 0 {
			line, rest = rest[:nl], rest[nl+1:]
		} else {
			rest = nil
		}
		if len(line) == 0 {
			break
		}
		switch {
		case bytes.HasPrefix(line, []byte("object ")):
			if len(line) < 7+40 {
				return ti, fmt.Errorf("malformed tag object")
			}
			if _, err := hex.Decode(ti.target[:], line[7:7+40]); err != nil {
				return ti, fmt.Errorf("malformed tag object")
			}
			haveObject = true
		case bytes.HasPrefix(line, []byte("type ")):
			t, err := parseObjectType(string(line[5:]))
			if err != nil {
				return ti, fmt.Errorf("malformed tag object: %v", err)
			}
			ti.targetType = t
		case bytes.HasPrefix(line, []byte("tagger ")):
			ti.when, _ = parseSignatureTime(line)
		}
	}
	if !haveObject {
		return ti, fmt.Errorf("malformed tag object")
	}
	return ti, nil
}
