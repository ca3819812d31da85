package cienv

import (
	"slices"
	"strings"
)

// Helpers the plugin-style adapters (Drone, Woodpecker, Bitbucket, GitLab)
// share.

// joinRepo names a repository owner/name from its parts; "" when name is
// missing.
func joinRepo(owner, name string) string {
	switch {
	case name == "":
		return ""
	case owner == "":
		return name
	}
	return owner + "/" + name
}

// pipelineKey is a pipeline id that stays the same across runs: the
// repository, then the stage, workflow or job the step runs in.
func pipelineKey(repo, part string) string {
	switch {
	case repo == "":
		return part
	case part == "":
		return repo
	}
	return repo + "/" + part
}

// pipelineLabel is a pipeline's display name: the repository, with the
// stage, workflow or job in brackets unless it is the name the CI gives when
// none was chosen (defaults).
func pipelineLabel(repo, part string, defaults ...string) string {
	if slices.Contains(defaults, part) {
		part = ""
	}
	switch {
	case repo == "":
		return part
	case part == "":
		return repo
	}
	return repo + " (" + part + ")"
}

// rangeStart is a previous commit usable as the start of this run's commit
// range: not the all-zero sha CIs give for "none", and not the commit built
// itself (a re-run).
func rangeStart(prev, sha string) string {
	prev = noZero(strings.TrimSpace(prev))
	if prev == "" || strings.EqualFold(prev, sha) {
		return ""
	}
	return prev
}

// tagFromRef returns the tag a refs/tags/ ref names, "" for other refs.
func tagFromRef(ref string) string {
	t, _ := strings.CutPrefix(ref, "refs/tags/")
	if t == ref {
		return ""
	}
	return t
}

// message returns a commit message as the CI gives it ("" when unset or
// blank), without the trailing newline some CIs keep.
func message(getenv Getenv, names ...string) string {
	for _, n := range names {
		if v := strings.TrimRight(getenv(n), "\r\n"); strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}

func messages(m string) []string {
	if m == "" {
		return nil
	}
	return []string{m}
}
