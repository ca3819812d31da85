package issuekeys

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestFind(t *testing.T) {
	long := strings.Repeat("A", 256)
	tests := []struct {
		name     string
		projects []string
		text     string
		want     []string
	}{
		{"plain", nil, "ABC-12 fix login", []string{"ABC-12"}},
		{"branch with slash", nil, "feature/ABC-12-login", []string{"ABC-12"}},
		{"date is not a key", nil, "release 2022-02 notes", nil},
		{"letter glued after", nil, "ABC-12x", nil},
		{"letter glued before", nil, "xABC-12", nil},
		{"one-letter project", nil, "A-1 and B-22", nil},
		{"digits in project", nil, "MG01-115 and JF1-13", []string{"MG01-115", "JF1-13"}},
		{"underscore in project", nil, "MY_PROJ-7: done", []string{"MY_PROJ-7"}},
		{"underscore separates before", nil, "x_ABC-7", []string{"ABC-7"}},
		{"underscore separates after", nil, "release/ABC-1_hotfix", []string{"ABC-1"}},
		{"lower-case word, underscore, key", nil, "branchname_JRA-96", []string{"JRA-96"}},
		{"underscores on both sides", nil, "_JRA-123_", []string{"JRA-123"}},
		{"underscore between keys", nil, "ABC-1_DEF-2", []string{"ABC-1", "DEF-2"}},
		{"number with a leading zero", nil, "JRA-090 PAC-001 ABC-0", nil},
		{"zero inside the number", nil, "ABC-10 ABC-100", []string{"ABC-10", "ABC-100"}},
		{"project of 255", nil, strings.Repeat("P", 255) + "-1", []string{strings.Repeat("P", 255) + "-1"}},
		{"project over 255, the good key kept", nil, long + "-1 ABC-2", []string{"ABC-2"}},
		{"number over 255 digits", nil, "ABC-1" + strings.Repeat("0", 255) + " DEF-3", []string{"DEF-3"}},
		{"a key after the underscore of an over-long run", nil, long + "_ABC-3", []string{"ABC-3"}},
		{"punctuation bounds", nil, "(ABC-1), [DEF-2]; {GHI-3}.", []string{"ABC-1", "DEF-2", "GHI-3"}},
		{"duplicates once", nil, "ABC-1 ABC-1 abc-1", []string{"ABC-1"}},
		{"lower case ignored without allowlist", nil, "feature/abc-12-x", nil},
		{"lower case ignored outside branch names", []string{"abc"}, "fix abc-12", nil},
		{"mixed case never", []string{"ABC"}, "Abc-12", nil},
		{"allowlist filters", []string{"ABC"}, "ABC-1 DEF-2", []string{"ABC-1"}},
		{"allowlisted project after an underscore", []string{"JRA"}, "BRANCH_JRA-5", []string{"JRA-5"}},
		{"key then dash words", nil, "ABC-12-login-page", []string{"ABC-12"}},
		{"dash without digits", nil, "ABC- 12 ABC-", nil},
		{"unicode letter glued", nil, "éABC-1 ABC-2é", nil},
		{"unicode punctuation bounds", nil, "«ABC-1»", []string{"ABC-1"}},
		{"multi-line message", nil, "Merge pull request #4\n\nABC-3 and\tDEF-4", []string{"ABC-3", "DEF-4"}},
		{"empty", nil, "", nil},
		{"long number", nil, "ABC-1234567", []string{"ABC-1234567"}},
		{"key at end", nil, "fixes ABC-9", []string{"ABC-9"}},
		{"version-like", nil, "V2-3 is a key shape, v2-3 is not", []string{"V2-3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := New(tt.projects).Find(tt.text)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Find(%q) = %v, want %v", tt.text, got, tt.want)
			}
		})
	}
}

// In branch names, allowlisted projects' lower-case keys count too.
func TestFindBranch(t *testing.T) {
	tests := []struct {
		projects []string
		branch   string
		want     []string
	}{
		{[]string{"abc"}, "feature/abc-12-x", []string{"ABC-12"}},
		{nil, "feature/abc-12-x", nil},
		{[]string{"ABC"}, "feature/Abc-12", nil},
		{[]string{"JRA"}, "branchname_jra-96", []string{"JRA-96"}},
		{[]string{"JRA"}, "release/jra-1_hotfix", []string{"JRA-1"}},
		{[]string{"JRA"}, "jra-090-fix", nil},
		{[]string{"ABC"}, "feature/ABC-1-and-def-2", []string{"ABC-1"}},
		{[]string{"MY_PROJ"}, "my_proj-7", []string{"MY_PROJ-7"}},
	}
	for _, tt := range tests {
		if got := New(tt.projects).FindBranch(tt.branch); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("FindBranch(%q) with %v = %v, want %v", tt.branch, tt.projects, got, tt.want)
		}
	}
}

// A value that breaks Jira's pattern is dropped and reported, and costs
// none of the good keys beside it.
func TestSetDropsOverLongValues(t *testing.T) {
	long := strings.Repeat("X", 260)
	s := New(nil).NewSet()
	s.Add(Commit, "ABC-1 "+long+"-7 DEF-2", "GHI-"+strings.Repeat("9", 256))
	if got := s.Keys(); !reflect.DeepEqual(got, []string{"ABC-1", "DEF-2"}) {
		t.Errorf("Keys() = %v", got)
	}
	dropped, more := s.Dropped()
	if !reflect.DeepEqual(dropped, []string{long + "-7", "GHI-" + strings.Repeat("9", 256)}) || more != 0 {
		t.Errorf("Dropped() = %q, %d", dropped, more)
	}
	// Bounded: the first few, then a count.
	s = New(nil).NewSet()
	s.Add(Commit, strings.Repeat(long+"-1 ", 25))
	if dropped, more := s.Dropped(); len(dropped) != maxDropped || more != 25-maxDropped {
		t.Errorf("Dropped() = %d values, %d more", len(dropped), more)
	}
	// With an allowlist, an over-long run of another project is no key at
	// all, not a dropped one.
	s = New([]string{"ABC"}).NewSet()
	s.Add(Branch, long+"-1")
	if dropped, _ := s.Dropped(); len(dropped) != 0 {
		t.Errorf("Dropped() = %q", dropped)
	}
}

// Runs of underscores cannot make the scan quadratic.
func TestUnderscoreRunsAreLinear(t *testing.T) {
	text := strings.Repeat("A_", 200_000) + "A-1"
	start := time.Now()
	New(nil).Find(text)
	New([]string{"ZZ"}).FindBranch(strings.ToLower(text))
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestValid(t *testing.T) {
	for s, want := range map[string]bool{
		"ABC-1": true, "AB_1-22": true, "A-1": false, "abc-1": false, "ABC-": false,
		"ABC": false, "1BC-2": false, "ABC-1x": false, "-1": false, "": false, "ABC-1-2": false,
		"JRA-090": false, "ABC-0": false, "ABC-10": true,
		strings.Repeat("P", 255) + "-1": true, strings.Repeat("P", 256) + "-1": false,
		"ABC-" + strings.Repeat("1", 255): true, "ABC-" + strings.Repeat("1", 256): false,
	} {
		if got := Valid(s); got != want {
			t.Errorf("Valid(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestSetOrderAndSources(t *testing.T) {
	s := New(nil).NewSet()
	s.AddKeys(Explicit, "def-9", "bad key", "ABC-1")
	s.Add(Branch, "feature/ABC-1-x")
	s.Add(Title, "GHI-2: title")
	s.Add(Commit, "JKL-3", "GHI-2 again", "MNO-4")
	want := []Found{
		{"DEF-9", Explicit}, {"ABC-1", Explicit}, {"GHI-2", Title}, {"JKL-3", Commit}, {"MNO-4", Commit},
	}
	if got := s.Found(); !reflect.DeepEqual(got, want) {
		t.Errorf("Found() = %v, want %v", got, want)
	}
	if got := s.Keys(); !reflect.DeepEqual(got, []string{"DEF-9", "ABC-1", "GHI-2", "JKL-3", "MNO-4"}) {
		t.Errorf("Keys() = %v", got)
	}
}

func TestSetAllowlistAppliesToExplicitKeys(t *testing.T) {
	s := New([]string{"ABC"}).NewSet()
	s.AddKeys(Explicit, "ABC-1", "DEF-2")
	if got := s.Keys(); !reflect.DeepEqual(got, []string{"ABC-1"}) {
		t.Errorf("Keys() = %v", got)
	}
}

func TestValidProject(t *testing.T) {
	for s, want := range map[string]bool{"AB": true, "A": false, "A1": true, "1A": false, "AB-": false, "ab": false, "A_B": true,
		strings.Repeat("P", 255): true, strings.Repeat("P", 256): false} {
		if got := ValidProject(s); got != want {
			t.Errorf("ValidProject(%q) = %v, want %v", s, got, want)
		}
	}
}
