package testresults

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// FuzzCollect writes one file and collects it. Seeds: every fixture under
// testdata/junit plus the committed corpus in testdata/fuzz/FuzzCollect.
func FuzzCollect(f *testing.F) {
	err := filepath.WalkDir(fixtureDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err == nil {
			f.Add(data)
		}
		return err
	})
	if err != nil {
		f.Fatal(err)
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		path := filepath.Join(dir, "report.xml")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		got, warnings := collect(t, dir, []string{"*.xml", "**/report.xml"})

		if got.Total < 0 || got.Failed < 0 || got.Skipped < 0 || got.Passed < 0 {
			t.Fatalf("negative totals: %+v", got)
		}
		if got.Passed != got.Total-got.Failed-got.Skipped {
			t.Fatalf("Passed != Total-Failed-Skipped: %+v", got)
		}
		// Every counted test case is an element named ...testcase.
		if limit := int64(bytes.Count(data, []byte("testcase"))); got.Total > limit {
			t.Fatalf("Total %d > %d occurrences of \"testcase\"", got.Total, limit)
		}
		switch len(got.Files) {
		case 0:
			if got.Total != 0 {
				t.Fatalf("counted tests without a file: %+v", got)
			}
			if len(warnings) == 0 {
				t.Fatal("file not counted and no warning")
			}
		case 1:
			if got.Files[0] != path {
				t.Fatalf("Files = %q, want %q", got.Files, path)
			}
		default:
			t.Fatalf("file counted more than once: %q", got.Files)
		}
		for _, w := range warnings {
			if w.File != path || w.Pattern != "" || w.Err == nil {
				t.Fatalf("bad warning %#v", w)
			}
		}
	})
}
