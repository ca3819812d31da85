package issuekeys

import (
	"reflect"
	"testing"
)

func TestFind(t *testing.T) {
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
		{"underscore glued before", nil, "x_ABC-7", nil},
		{"punctuation bounds", nil, "(ABC-1), [DEF-2]; {GHI-3}.", []string{"ABC-1", "DEF-2", "GHI-3"}},
		{"duplicates once", nil, "ABC-1 ABC-1 abc-1", []string{"ABC-1"}},
		{"lower case ignored without allowlist", nil, "feature/abc-12-x", nil},
		{"lower case with allowlist", []string{"abc"}, "feature/abc-12-x", []string{"ABC-12"}},
		{"mixed case never", []string{"ABC"}, "Abc-12", nil},
		{"allowlist filters", []string{"ABC"}, "ABC-1 DEF-2", []string{"ABC-1"}},
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

func TestValid(t *testing.T) {
	for s, want := range map[string]bool{
		"ABC-1": true, "AB_1-22": true, "A-1": false, "abc-1": false, "ABC-": false,
		"ABC": false, "1BC-2": false, "ABC-1x": false, "-1": false, "": false, "ABC-1-2": false,
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
	for s, want := range map[string]bool{"AB": true, "A": false, "A1": true, "1A": false, "AB-": false, "ab": false, "A_B": true} {
		if got := ValidProject(s); got != want {
			t.Errorf("ValidProject(%q) = %v, want %v", s, got, want)
		}
	}
}
