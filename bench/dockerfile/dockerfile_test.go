package dockerfile

import (
	"slices"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	const df = `# syntax=docker/dockerfile:1
FROM --platform=$BUILDPLATFORM golang:1.26 AS build
RUN go mod download
# a comment
RUN --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=${TARGETARCH} \
    go build -trimpath -ldflags="-s -w -X main.version=${VERSION}" -o /out/jira-cicd .
FROM scratch
`
	b, err := Parse(df, map[string]string{"TARGETOS": "linux", "TARGETARCH": "arm64", "VERSION": "v1.2.3"}, "/tmp/x")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64"}; !slices.Equal(b.Env, want) {
		t.Errorf("env %q, want %q", b.Env, want)
	}
	want := []string{"build", "-trimpath", "-ldflags=-s -w -X main.version=v1.2.3", "-o", "/tmp/x", "."}
	if !slices.Equal(b.Args, want) {
		t.Errorf("args %q, want %q", b.Args, want)
	}
	if v, _ := b.Flag("-ldflags"); v != "-s -w -X main.version=v1.2.3" {
		t.Errorf("ldflags %q", v)
	}
	if v, _ := b.EnvValue("CGO_ENABLED"); v != "0" || !b.Has("-trimpath") {
		t.Errorf("CGO_ENABLED %q, -trimpath %v", v, b.Has("-trimpath"))
	}
}

func TestParseRefuses(t *testing.T) {
	for name, df := range map[string]string{
		"none":     "FROM scratch\nRUN echo hi\n",
		"two":      "RUN go build -o a .\nRUN go build -o b .\n",
		"unknown":  "RUN GOARM=$TARGETVARIANT go build -o a .\n",
		"pipeline": "RUN go build -o a . && strip a\n",
		"no -o":    "RUN go build .\n",
	} {
		if _, err := Parse(df, map[string]string{"TARGETOS": "linux"}, "/x"); err == nil {
			t.Errorf("%s: no error", name)
		} else if !strings.Contains(err.Error(), "Dockerfile") {
			t.Errorf("%s: %v", name, err)
		}
	}
}
