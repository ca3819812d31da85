package app

import (
	"testing"

	"github.com/jira-cicd/jira-cicd/internal/cienv"
)

func BenchmarkTmpOpenWorkspace(b *testing.B) {
	for b.Loop() {
		c := cienv.Context{Workspace: "/tmp/co"}
		w := openWorkspace(&c)
		w.close()
	}
}
