package devinfo

import (
	"regexp"
	"strings"
	"testing"
)

// validIssueKey is the spec's pattern, checked by hand; the regexp is the
// reference.
func TestValidIssueKey(t *testing.T) {
	re := regexp.MustCompile(`^\p{L}[\p{L}\p{Nd}_]{1,255}-\p{Nd}{1,255}$`)
	cases := []string{"AB-1", "A-1", "ABC-0", "A_B-12", "_A-1", "AB-", "-1", "AB-1-2", "AB-x", "ÄÖ-٣", "A1-1", "AB--1",
		"A" + strings.Repeat("B", 255) + "-1", "A" + strings.Repeat("B", 256) + "-1", "AB-" + strings.Repeat("9", 255), "AB-" + strings.Repeat("9", 256), "", "AB 1-2"}
	for _, k := range cases {
		if got, want := validIssueKey(k), re.MatchString(k); got != want {
			t.Errorf("validIssueKey(%q) = %v, the pattern says %v", k, got, want)
		}
	}
}

func FuzzValidIssueKey(f *testing.F) {
	re := regexp.MustCompile(`^\p{L}[\p{L}\p{Nd}_]{1,255}-\p{Nd}{1,255}$`)
	for _, s := range []string{"AB-1", "A_B-12", "ÄÖ-٣", "AB--1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, k string) {
		if got, want := validIssueKey(k), re.MatchString(k); got != want {
			t.Errorf("validIssueKey(%q) = %v, the pattern says %v", k, got, want)
		}
	})
}
