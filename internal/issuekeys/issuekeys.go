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
// letters, digits or underscores; at least two characters in all), a dash, and
// digits. Project keys of one letter do not exist in Jira, so `A-1` is not a
// key.

// Extractor finds keys, optionally restricted to an allowlist of projects.
// Its zero value accepts every project.
type Extractor struct {
	projects map[string]bool
}

// New returns an Extractor that keeps only keys of the given projects (case
// does not matter). With no projects it keeps every project's keys. For
// projects on the allowlist, lower-case keys in text (`feature/abc-12-x`) are
// also found and returned upper-cased.
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
	if len(p) < 2 || p[0] < 'A' || p[0] > 'Z' {
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
	if dash < 0 || dash == len(s)-1 || !ValidProject(s[:dash]) {
		return false
	}
	for i := dash + 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Find returns the keys in text, in order of first appearance, without
// duplicates. A key must be bounded by the start or end of the text,
// whitespace or punctuation; letters or digits glued to either side disqualify
// it (`2022-02`, `ABC-12x`, `xABC-12`). `_` is a key character, so
// `my_ABC-1` is not `ABC-1`.
func (e Extractor) Find(text string) []string {
	var keys []string
	seen := map[string]bool{}
	for i := 0; i < len(text); {
		end, key, ok := e.next(text, i)
		if !ok {
			break
		}
		i = end
		if !seen[key] {
			seen[key] = true
			keys = append(keys, key)
		}
	}
	return keys
}

// next finds the first key at or after position from. It returns where the
// key ends, the key normalised to upper case, and whether one was found.
func (e Extractor) next(text string, from int) (int, string, bool) {
	lower := e.projects != nil
	for i := from; i < len(text); i++ {
		c := text[i]
		if !isLetter(c, lower) || !boundaryBefore(text, i) {
			continue
		}
		// Project part.
		j := i + 1
		for j < len(text) && isKeyChar(text[j], lower) {
			j++
		}
		if j-i < 2 || j >= len(text) || text[j] != '-' {
			i = j - 1
			continue
		}
		// Number part.
		k := j + 1
		for k < len(text) && text[k] >= '0' && text[k] <= '9' {
			k++
		}
		if k == j+1 || !boundaryAfter(text, k) {
			i = j
			continue
		}
		project := text[i:j]
		if lower {
			upper := strings.ToUpper(project)
			// Mixed-case words are prose, not keys: accept all-upper, or
			// all-lower for an allowlisted project.
			if project != upper && project != strings.ToLower(project) {
				i = j
				continue
			}
			if !e.projects[upper] {
				i = j
				continue
			}
			project = upper
		}
		return k, project + text[j:k], true
	}
	return 0, "", false
}

func isLetter(c byte, lower bool) bool {
	return (c >= 'A' && c <= 'Z') || (lower && c >= 'a' && c <= 'z')
}

func isKeyChar(c byte, lower bool) bool {
	return isLetter(c, lower) || (c >= '0' && c <= '9') || c == '_'
}

// boundaryBefore: the start of text, or a rune before i that is neither a
// letter, a digit nor `_`.
func boundaryBefore(text string, i int) bool {
	if i == 0 {
		return true
	}
	r, _ := utf8.DecodeLastRuneInString(text[:i])
	return !isWordRune(r)
}

// boundaryAfter: the end of text, or a rune at i that is neither a letter, a
// digit nor `_`. A dash followed by more text is fine (`ABC-12-login`).
func boundaryAfter(text string, i int) bool {
	if i == len(text) {
		return true
	}
	r, _ := utf8.DecodeRuneInString(text[i:])
	return !isWordRune(r)
}

func isWordRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)
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
	e     Extractor
	seen  map[string]bool
	found []Found
}

// NewSet returns an empty Set that extracts with e.
func (e Extractor) NewSet() *Set {
	return &Set{e: e, seen: map[string]bool{}}
}

// Add finds the keys in each text and appends those not seen yet.
func (s *Set) Add(src Source, texts ...string) {
	for _, t := range texts {
		for _, k := range s.e.Find(t) {
			s.add(src, k)
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
