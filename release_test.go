package main

import (
	"flag"
	"os"
	"regexp"
	"strings"
	"testing"
)

// One version, named in many places: the image action.yml runs, the release
// the composite action downloads, Bitbucket's pipe, and the examples in the
// docs. A release is a commit that names its own version everywhere, tagged
// with it:
//
//	go test . -run ReleaseVersion -bump 1.2.3   # rewrites every pinned version
//	git commit -am "release v1.2.3" && git tag v1.2.3 && git push origin main v1.2.3
//
// The release workflow runs this test with -release-tag set to the tag it
// releases, and stops before pushing anything when the two disagree.
var (
	releaseTag = flag.String("release-tag", "", "fail unless the version every file names is this tag (vX.Y.Z)")
	bump       = flag.String("bump", "", "rewrite the version every file names to this one (X.Y.Z)")
)

const semver = `\d+\.\d+\.\d+`

// pin is one place a version is written: re's first group is the version
// (or its major, with major set).
type pin struct {
	file     string
	re       *regexp.Regexp
	major    bool
	required bool // the file must hold it (else: every occurrence must agree)
}

// githubRepo is the repository (owner/name) the module path names: the one
// the release workflow publishes from (ghcr.io/${{ github.repository }}).
func githubRepo(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^module github\.com/([^/\s]+/[^/\s]+)$`).FindSubmatch(data)
	if m == nil {
		t.Fatal("go.mod: the module path is not github.com/OWNER/NAME")
	}
	return string(m[1])
}

func pins(repo string, docs []string) []pin {
	image := regexp.QuoteMeta("ghcr.io/" + strings.ToLower(repo))
	download := regexp.QuoteMeta("https://github.com/"+repo+"/releases/download/") + `v(` + semver + `)`
	uses := regexp.QuoteMeta(repo) + `(?:/binary)?@v(\d+)\b`
	var ps []pin
	ps = append(ps,
		pin{file: "action.yml", re: regexp.MustCompile(`(?m)^  image: "docker://` + image + `:(` + semver + `)"$`), required: true},
		pin{file: "binary/action.yml", re: regexp.MustCompile(`JIRA_CICD_RELEASE_URL: "` + download + `"`), required: true},
		pin{file: "pipe.yml", re: regexp.MustCompile(`(?m)^image: ` + image + `:(` + semver + `)$`), required: true},
	)
	for _, doc := range docs {
		ps = append(ps,
			pin{file: doc, re: regexp.MustCompile(image + `:(` + semver + `)\b`)},
			pin{file: doc, re: regexp.MustCompile(download)},
			pin{file: doc, re: regexp.MustCompile(uses), major: true},
		)
	}
	return ps
}

func TestReleaseVersion(t *testing.T) {
	repo := githubRepo(t)
	ps := pins(repo, markdownDocs(t))
	texts := map[string]string{}
	for _, p := range ps {
		if _, ok := texts[p.file]; ok {
			continue
		}
		data, err := os.ReadFile(p.file)
		if err != nil {
			t.Fatal(err)
		}
		texts[p.file] = string(data)
	}

	if *bump != "" {
		if !regexp.MustCompile(`^` + semver + `$`).MatchString(*bump) {
			t.Fatalf("-bump %q: want a version X.Y.Z", *bump)
		}
		major, _, _ := strings.Cut(*bump, ".")
		for _, p := range ps {
			v := *bump
			if p.major {
				v = major
			}
			text := texts[p.file]
			texts[p.file] = p.re.ReplaceAllStringFunc(text, func(m string) string {
				sub := p.re.FindStringSubmatchIndex(m)
				return m[:sub[2]] + v + m[sub[3]:]
			})
		}
		for file, text := range texts {
			if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}

	// The version is action.yml's image tag; everything else must agree.
	m := ps[0].re.FindStringSubmatch(texts["action.yml"])
	if m == nil {
		t.Fatalf("action.yml: runs.image is not docker://ghcr.io/%s:X.Y.Z, the image the release workflow pushes", strings.ToLower(repo))
	}
	version := m[1]
	major, _, _ := strings.Cut(version, ".")
	for _, p := range ps {
		all := p.re.FindAllStringSubmatch(texts[p.file], -1)
		if p.required && len(all) != 1 {
			t.Errorf("%s: %d matches of %s, want 1", p.file, len(all), p.re)
		}
		for _, a := range all {
			want := version
			if p.major {
				want = major
			}
			if a[1] != want {
				t.Errorf("%s names %s; action.yml's image says version %s (want %s here): run `go test . -run ReleaseVersion -bump %s`",
					p.file, a[0], version, want, version)
			}
		}
	}
	if *releaseTag != "" && *releaseTag != "v"+version {
		t.Errorf("releasing %s, but action.yml's image and the other pins say v%s: commit `go test . -run ReleaseVersion -bump %s` first, then tag that commit",
			*releaseTag, version, strings.TrimPrefix(*releaseTag, "v"))
	}

	// What the release workflow publishes is what the pins name: the image
	// of this repository, and a binary per OS and architecture with
	// SHA256SUMS, named as binary/jira-cicd.sh asks for them.
	wf, err := os.ReadFile(".github/workflows/release.yml")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"images: ghcr.io/${{ github.repository }}",
		"for os in linux darwin windows; do",
		"for arch in amd64 arm64; do",
		`name="jira-cicd-$os-$arch"`,
		`[ "$os" = windows ] && name="$name.exe"`,
		"sha256sum jira-cicd-* > SHA256SUMS",
		"go test . -run '^TestReleaseVersion$' -release-tag \"$GITHUB_REF_NAME\"",
	} {
		if !strings.Contains(string(wf), want) {
			t.Errorf(".github/workflows/release.yml lacks %q", want)
		}
	}
	script, err := os.ReadFile("binary/jira-cicd.sh")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`name="jira-cicd-$os-$arch"`, `[ "$os" = windows ] && name="$name.exe"`, `"$base/SHA256SUMS"`} {
		if !strings.Contains(string(script), want) {
			t.Errorf("binary/jira-cicd.sh lacks %q: it must ask for the files the release publishes", want)
		}
	}
	if t.Failed() {
		return
	}
	t.Logf("release version %s (tag v%s, actions @v%s)", version, version, major)
}
