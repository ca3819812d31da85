// Package issuekeys finds Jira issue keys in free text: branch names, pull
// request titles and commit messages. It is pure: no I/O, no globals that
// change.
package issuekeys

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Jira's key shape: a project key (an upper-case letter, then upper-case
// letters, digits or underscores; 2 to 255 characters), a dash, and a number
// of 1 to 255 digits that does not start with 0. Project keys of one letter
// do not exist in Jira, so `A-1` is not a key; Jira never numbers an issue 0
// or 012, so `JRA-090` is not one either. The limits are the API's pattern
// for issue keys, `^\w{1,255}-\d{1,255}$`: a record holding anything longer
// is refused whole.
const maxPart = 255

// Extractor finds keys, optionally restricted to an allowlist of projects.
// Its zero value accepts every project.
type Extractor struct {
	projects map[string]bool
}

// New returns an Extractor that keeps only keys of the given projects (case
// does not matter). With no projects it keeps every project's keys. For
// projects on the allowlist, lower-case keys in branch names
// (`feature/abc-12-x`) are also found and returned upper-cased.
func New(projects []string) Extractor {
	e := Extractor{}
	for _, p := range projects {
		p = strings.ToUpper(strings.TrimSpace(p))
		if p == "" {
			continue
		}
		if e.projects == nil {
			e.projects = map[string]bool{}
		}
		e.projects[p] = true
	}
	return e
}

// ValidProject reports whether p has the shape of a Jira project key.
func ValidProject(p string) bool {
	if len(p) < 2 || len(p) > maxPart || p[0] < 'A' || p[0] > 'Z' {
		return false
	}
	for i := 1; i < len(p); i++ {
		if !isKeyChar(p[i], false) {
			return false
		}
	}
	return true
}

// Valid reports whether s is exactly one issue key (upper case).
func Valid(s string) bool {
	dash := strings.LastIndexByte(s, '-')
	if dash < 0 || !ValidProject(s[:dash]) {
		return false
	}
	return validNumber(s[dash+1:])
}

func validNumber(n string) bool {
	if len(n) == 0 || len(n) > maxPart || n[0] == '0' {
		return false
	}
	for i := 0; i < len(n); i++ {
		if n[i] < '0' || n[i] > '9' {
			return false
		}
	}
	return true
}

// Find returns the upper-case keys in text, in order of first appearance,
// without duplicates. A key must be bounded by the start or end of the text,
// whitespace, punctuation or `_`; letters or digits glued to either side
// disqualify it (`2022-02`, `ABC-12x`, `xABC-12`), while `_` separates
// (`branchname_JRA-96`, `release/ABC-1_hotfix`). `_` is also a key
// character: `MY_PROJ-7` is one key, the longest one wins.
func (e Extractor) Find(text string) []string {
	keys, _ := e.scan(text, false)
	return keys
}

// FindBranch is Find for a branch name: with an allowlist, lower-case keys
// of its projects count too (`feature/abc-12-x` gives ABC-12). Only branch
// names get this: people name branches in lower case, while a lower-case
// `sha-256` or `api-2` in prose is rarely meant as a key.
func (e Extractor) FindBranch(text string) []string {
	keys, _ := e.scan(text, e.projects != nil)
	return keys
}

// scan finds the keys in text, and the values that have a key's shape but
// break Jira's length limits (dropped: never sent).
func (e Extractor) scan(text string, lower bool) (keys, dropped []string) {
	seen := map[string]bool{}
	for i := 0; i < len(text); {
		if !isLetter(text[i], lower) || !boundaryBefore(text, i) {
			i++
			continue
		}
		// The project part: the longest run of key characters.
		j := i + 1
		for j < len(text) && isKeyChar(text[j], lower) {
			j++
		}
		if j >= len(text) || text[j] != '-' {
			i = j
			continue
		}
		// The number part.
		k := j + 1
		for k < len(text) && text[k] >= '0' && text[k] <= '9' {
			k++
		}
		if k == j+1 || !boundaryAfter(text, k) {
			i = j
			continue
		}
		key, tooLong := e.pick(text[i:j], text[j+1:k], lower)
		switch {
		case key != "":
			if !seen[key] {
				seen[key] = true
				keys = append(keys, key)
			}
		case tooLong:
			dropped = append(dropped, text[i:k])
		}
		i = k
	}
	return keys, dropped
}

// pick finds the key whose project part is run or, since `_` separates, the
// part of run after one of its underscores (the longest that is a key:
// `branchname_JRA` gives JRA for an allowlisted JRA). tooLong reports that
// no key was found and some candidate failed only for Jira's length limits.
func (e Extractor) pick(run, number string, lower bool) (key string, tooLong bool) {
	if number[0] == '0' {
		return "", false
	}
	for s := 0; s < len(run); {
		if p := run[s:]; len(p) >= 2 && isLetter(p[0], lower) {
			upper := p
			if lower {
				upper = strings.ToUpper(p)
			}
			// Mixed-case words are prose, not keys: accept all-upper, or
			// all-lower for an allowlisted project.
			switch {
			case lower && p != upper && p != strings.ToLower(p):
			case e.projects != nil && !e.projects[upper]:
			case len(p) > maxPart || len(number) > maxPart:
				tooLong = true
			default:
				return upper + "-" + number, false
			}
		}
		u := strings.IndexByte(run[s:], '_')
		if u < 0 {
			break
		}
		s += u + 1
		// Past 255 characters nothing is a key: skip to the first
		// underscore that leaves at most that many.
		for len(run)-s > maxPart {
			u := strings.IndexByte(run[s:], '_')
			if u < 0 {
				return "", tooLong
			}
			s += u + 1
		}
	}
	return "", tooLong
}

func isLetter(c byte, lower bool) bool {
	return (c >= 'A' && c <= 'Z') || (lower && c >= 'a' && c <= 'z')
}

func isKeyChar(c byte, lower bool) bool {
	return isLetter(c, lower) || (c >= '0' && c <= '9') || c == '_'
}

// boundaryBefore: the start of text, or a rune before i that is neither a
// letter nor a digit (`_` separates).
func boundaryBefore(text string, i int) bool {
	if i == 0 {
		return true
	}
	r, _ := utf8.DecodeLastRuneInString(text[:i])
	return !isWordRune(r)
}

// boundaryAfter: the end of text, or a rune at i that is neither a letter
// nor a digit. A dash followed by more text is fine (`ABC-12-login`), and
// so is `_` (`ABC-1_hotfix`).
func boundaryAfter(text string, i int) bool {
	if i == len(text) {
		return true
	}
	r, _ := utf8.DecodeRuneInString(text[i:])
	return !isWordRune(r)
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// Source names where a key was found, in order of relevance.
type Source int

// Sources, most relevant first.
const (
	Explicit Source = iota
	Branch
	Title
	Commit
)

func (s Source) String() string {
	switch s {
	case Explicit:
		return "issue_keys"
	case Branch:
		return "branch"
	case Title:
		return "pull request title"
	default:
		return "commits"
	}
}

// Found is one key and the first place it was found.
type Found struct {
	Key    string
	Source Source
}

// Set collects keys from several texts, most relevant first, without
// duplicates.
type Set struct {
	e       Extractor
	seen    map[string]bool
	found   []Found
	dropped []string
	more    int // dropped values past maxDropped
}

// maxDropped caps the dropped values a Set keeps.
const maxDropped = 10

// NewSet returns an empty Set that extracts with e.
func (e Extractor) NewSet() *Set {
	return &Set{e: e, seen: map[string]bool{}}
}

// Add finds the keys in each text and appends those not seen yet. Branch
// names are read with FindBranch's rule, every other source with Find's.
func (s *Set) Add(src Source, texts ...string) {
	for _, t := range texts {
		keys, dropped := s.e.scan(t, src == Branch && s.e.projects != nil)
		for _, k := range keys {
			s.add(src, k)
		}
		for _, d := range dropped {
			if len(s.dropped) < maxDropped {
				s.dropped = append(s.dropped, d)
			} else {
				s.more++
			}
		}
	}
}

// AddKeys appends already-validated keys (upper-cased), keeping the project
// allowlist.
func (s *Set) AddKeys(src Source, keys ...string) {
	for _, k := range keys {
		k = strings.ToUpper(strings.TrimSpace(k))
		if !Valid(k) {
			continue
		}
		if s.e.projects != nil && !s.e.projects[k[:strings.LastIndexByte(k, '-')]] {
			continue
		}
		s.add(src, k)
	}
}

func (s *Set) add(src Source, k string) {
	if s.seen[k] {
		return
	}
	s.seen[k] = true
	s.found = append(s.found, Found{Key: k, Source: src})
}

// Found returns the keys in order of relevance.
func (s *Set) Found() []Found { return append([]Found(nil), s.found...) }

// Keys returns just the keys, in order of relevance.
func (s *Set) Keys() []string {
	out := make([]string, len(s.found))
	for i, f := range s.found {
		out[i] = f.Key
	}
	return out
}

// Dropped returns the values that had a key's shape but broke Jira's limits
// (a project part or a number over 255 characters), which are never sent:
// the first few, and how many more there were.
func (s *Set) Dropped() (values []string, more int) {
	return append([]string(nil), s.dropped...), s.more
}
