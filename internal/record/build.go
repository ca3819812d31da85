package record

import (
	"cmp"
	"fmt"
	"unicode/utf8"

	"github.com/jira-cicd/jira-cicd/internal/jira"
)

// Body is the request the step sends, with the warnings its limits caused.
type Body struct {
	Builds      *jira.BuildsRequest
	Deployments *jira.DeploymentsRequest
	Keys        []string // the keys actually sent
	Warnings    []string
}

// Build makes the builds request. keys are in order of relevance; past Jira's
// cap the least relevant are dropped, with a warning.
func (p Plan) Build(keys []string, tests *jira.TestInfo, product string) Body {
	var b Body
	if len(keys) > MaxBuildKeys {
		b.Warnings = append(b.Warnings, fmt.Sprintf("found %d issue keys; Jira takes at most %d per build, so the %d least relevant were dropped", len(keys), MaxBuildKeys, len(keys)-MaxBuildKeys))
		keys = keys[:MaxBuildKeys]
	}
	b.Keys = keys
	build := jira.Build{
		SchemaVersion:        "1.0",
		PipelineID:           b.clip("pipeline_id", p.PipelineID, maxText),
		BuildNumber:          p.BuildNumber,
		UpdateSequenceNumber: p.Now.UnixMilli(),
		DisplayName:          b.clip("display_name", p.DisplayName, maxText),
		Description:          b.clip("description", p.Description, maxText),
		Label:                b.clip("label", p.Label, maxText),
		URL:                  b.clip("url", p.URL, maxURL),
		State:                p.State,
		LastUpdated:          timestamp(p),
		IssueKeys:            keys,
		TestInfo:             tests,
	}
	if p.RepoURL != "" && len(p.RepoURL) <= maxURL {
		var ref jira.Reference
		if p.SHA != "" {
			ref.Commit = &jira.CommitRef{ID: b.clip("commit", p.SHA, maxText), RepositoryURI: p.RepoURL}
		}
		if p.Ref != "" {
			ref.Ref = &jira.RefRef{Name: b.clip("ref", p.Ref, maxText), URI: p.RepoURL}
		}
		if ref.Commit != nil || ref.Ref != nil {
			build.References = []jira.Reference{ref}
		}
	}
	b.Builds = &jira.BuildsRequest{Builds: []jira.Build{build}, ProviderMetadata: &jira.ProviderMetadata{Product: product}}
	return b
}

// Deployment makes the deployments request. Issue keys and service ids share
// Jira's cap of association values; services are kept first (they were given
// explicitly), then keys in order of relevance.
func (p Plan) Deployment(keys []string, product string) Body {
	var b Body
	services := p.ServiceIDs
	if len(services) > MaxAssociationTotal {
		services = services[:MaxAssociationTotal]
	}
	room := MaxAssociationTotal - len(services)
	if len(keys) > room {
		b.Warnings = append(b.Warnings, fmt.Sprintf("found %d issue keys; Jira takes at most %d association values per deployment (%d service ids given), so the %d least relevant keys were dropped", len(keys), MaxAssociationTotal, len(services), len(keys)-room))
		keys = keys[:room]
	}
	b.Keys = keys
	var assoc []jira.Association
	if len(keys) > 0 {
		assoc = append(assoc, jira.Association{AssociationType: jira.AssocIssues, Values: keys})
	}
	if len(services) > 0 {
		assoc = append(assoc, jira.Association{AssociationType: jira.AssocServices, Values: services})
	}
	d := jira.Deployment{
		SchemaVersion:            "1.0",
		DeploymentSequenceNumber: p.BuildNumber,
		UpdateSequenceNumber:     p.Now.UnixMilli(),
		Associations:             assoc,
		DisplayName:              b.clip("display_name", p.DisplayName, maxText),
		URL:                      b.clip("url", p.URL, maxURL),
		Description:              b.clip("description", p.Description, maxText),
		LastUpdated:              timestamp(p),
		Label:                    b.clip("label", p.Label, maxText),
		State:                    p.State,
		Pipeline: jira.Pipeline{
			ID:          b.clip("pipeline_id", p.PipelineID, maxText),
			DisplayName: b.clip("pipeline_name", p.PipelineName, maxText),
			URL:         b.clip("pipeline url", cmp.Or(p.RepoURL, p.URL), maxURL),
		},
		Environment: jira.Environment{
			ID:          b.clip("environment_id", p.Environment.ID, maxText),
			DisplayName: b.clip("environment", p.Environment.DisplayName, maxText),
			Type:        p.Environment.Type,
		},
	}
	if p.Gating {
		d.Commands = []jira.Command{{Command: jira.CommandGating}}
	}
	b.Deployments = &jira.DeploymentsRequest{Deployments: []jira.Deployment{d}, ProviderMetadata: &jira.ProviderMetadata{Product: product}}
	return b
}

func timestamp(p Plan) string { return p.Now.UTC().Format("2006-01-02T15:04:05.000Z") }

// clip cuts s to at most max characters (counted as Jira counts them, in
// runes) and records a warning when it had to.
func (b *Body) clip(field, s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	b.Warnings = append(b.Warnings, fmt.Sprintf("%s is %d characters; Jira takes %d, so it was cut", field, len(r), max))
	return string(r[:max])
}
