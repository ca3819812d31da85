package settings

import (
	"os"
	"testing"
)

func BenchmarkTmpLoad(b *testing.B) {
	env := append(os.Environ(), "JIRA_CLIENT_ID=bench-client", "JIRA_CLIENT_SECRET=bench-secret", "JIRA_SITE=http://127.0.0.1:1", "JIRA_API_URL=http://127.0.0.1:1")
	args := []string{"--issue-keys", "ABC-1", "--pipeline-id", "acme/app/ci", "--build-number", "7", "--url", "https://ci.example.com/7"}
	for b.Loop() {
		if _, err := Load(args, env); err != nil {
			b.Fatal(err)
		}
	}
}
