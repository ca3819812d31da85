package gitrepo

import (
	"bytes"
	"strings"
	"time"
	"unicode/utf8"
)

// toUTF8 converts text written in a commit's encoding (its "encoding"
// header) to UTF-8, as git log does with i18n.logOutputEncoding=UTF-8.
// ISO-8859-1 (latin1) and its superset windows-1252, the encodings that
// git's own tests and real repositories use for non-UTF-8 messages, are
// converted here; golang.org/x/text's charmap would add every other
// single-byte table to the binary for commits that, in practice, do not
// exist. Text in any other declared encoding, or in UTF-8 already, is
// returned as it is.
func toUTF8(b []byte, enc []byte) []byte {
	if len(enc) == 0 || utf8Name(enc) {
		return b
	}
	var table *[32]rune
	switch strings.ToLower(string(enc)) {
	case "iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "latin-1", "l1", "iso-ir-100", "cp819", "ibm819":
		table = nil
	case "windows-1252", "cp1252", "x-cp1252":
		table = &cp1252
	default:
		return b
	}
	ascii := true
	for _, c := range b {
		if c >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return b
	}
	out := make([]byte, 0, len(b)+len(b)/4)
	for _, c := range b {
		switch {
		case c < 0x80:
			out = append(out, c)
		case c < 0xa0 && table != nil:
			out = utf8.AppendRune(out, table[c-0x80])
		default:
			out = utf8.AppendRune(out, rune(c))
		}
	}
	return out
}

func utf8Name(enc []byte) bool {
	return bytes.EqualFold(enc, []byte("utf-8")) || bytes.EqualFold(enc, []byte("utf8"))
}

// cp1252 maps windows-1252's 0x80–0x9f (undefined bytes map to the C1
// control of the same value, as Windows does).
var cp1252 = [32]rune{
	0x20ac, 0x0081, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
	0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008d, 0x017d, 0x008f,
	0x0090, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
	0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x009d, 0x017e, 0x0178,
}

// parseIdent splits "Name <email> 1700000000 +0100" into its parts. A
// malformed time is the zero time of 1970, as git shows it. The strings
// are substrings of line; zones come from zc (nil: no cache).
func parseIdent(line string, zc *zoneCache) (name, email string, when time.Time) {
	lt := strings.IndexByte(line, '<')
	gt := strings.LastIndexByte(line, '>')
	if lt < 0 || gt < lt {
		return strings.TrimSpace(line), "", time.Unix(0, 0).UTC()
	}
	name = strings.TrimSpace(line[:lt])
	email = line[lt+1 : gt]
	ts, tz := parseSignatureTime(line)
	return name, email, zc.time(ts, tz)
}

// zoneCache shares one *time.Location per zone offset across the commits of
// a walk (time.FixedZone allocates).
type zoneCache struct {
	zones map[int]*time.Location
}

func (zc *zoneCache) time(ts int64, tz int) time.Time {
	t := time.Unix(ts, 0)
	if tz == 0 {
		return t.UTC()
	}
	if zc == nil {
		return t.In(time.FixedZone("", tz))
	}
	loc := zc.zones[tz]
	if loc == nil {
		if zc.zones == nil {
			zc.zones = map[int]*time.Location{}
		}
		loc = time.FixedZone("", tz)
		zc.zones[tz] = loc
	}
	return t.In(loc)
}
