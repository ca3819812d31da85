// Package jira talks to Jira Software Cloud's Builds and Deployments APIs
// through an OAuth 2LO credential: one token, the site's cloud id, one submit,
// and deployment gating. It knows nothing of CIs.
package jira

// The request and response bodies, as in Atlassian's OpenAPI document
// (SubmitBuildsRequest, SubmitDeploymentRequest and their responses).

// Build is BuildData.
type Build struct {
	SchemaVersion        string      `json:"schemaVersion"`
	PipelineID           string      `json:"pipelineId"`
	BuildNumber          int64       `json:"buildNumber"`
	UpdateSequenceNumber int64       `json:"updateSequenceNumber"`
	DisplayName          string      `json:"displayName"`
	Description          string      `json:"description,omitempty"`
	Label                string      `json:"label,omitempty"`
	URL                  string      `json:"url"`
	State                string      `json:"state"`
	LastUpdated          string      `json:"lastUpdated"`
	IssueKeys            []string    `json:"issueKeys"`
	TestInfo             *TestInfo   `json:"testInfo,omitempty"`
	References           []Reference `json:"references,omitempty"`
}

// TestInfo is a build's test totals.
type TestInfo struct {
	TotalNumber   int64 `json:"totalNumber"`
	NumberPassed  int64 `json:"numberPassed"`
	NumberFailed  int64 `json:"numberFailed"`
	NumberSkipped int64 `json:"numberSkipped"`
}

// Reference is a commit and/or ref the build was made from.
type Reference struct {
	Commit *CommitRef `json:"commit,omitempty"`
	Ref    *RefRef    `json:"ref,omitempty"`
}

// CommitRef names a commit in a repository.
type CommitRef struct {
	ID            string `json:"id"`
	RepositoryURI string `json:"repositoryUri"`
}

// RefRef names a branch or tag.
type RefRef struct {
	Name string `json:"name"`
	URI  string `json:"uri"`
}

// Deployment is DeploymentData.
type Deployment struct {
	SchemaVersion            string        `json:"schemaVersion"`
	DeploymentSequenceNumber int64         `json:"deploymentSequenceNumber"`
	UpdateSequenceNumber     int64         `json:"updateSequenceNumber"`
	Associations             []Association `json:"associations"`
	DisplayName              string        `json:"displayName"`
	URL                      string        `json:"url"`
	Description              string        `json:"description"`
	LastUpdated              string        `json:"lastUpdated"`
	Label                    string        `json:"label,omitempty"`
	State                    string        `json:"state"`
	Pipeline                 Pipeline      `json:"pipeline"`
	Environment              Environment   `json:"environment"`
	Commands                 []Command     `json:"commands,omitempty"`
}

// Association links a deployment to issues or services.
type Association struct {
	AssociationType string   `json:"associationType"`
	Values          []string `json:"values"`
}

// Association types this tool sends.
const (
	AssocIssues   = "issueIdOrKeys"
	AssocServices = "serviceIdOrKeys"
)

// Pipeline is a deployment's pipeline.
type Pipeline struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	URL         string `json:"url"`
}

// Environment is a deployment's environment.
type Environment struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	Type        string `json:"type"`
}

// Command asks Jira to do something with a deployment.
type Command struct {
	Command string `json:"command"`
}

// CommandGating asks Jira to gate the deployment.
const CommandGating = "initiate_deployment_gating"

// ProviderMetadata names the tool that sent the data.
type ProviderMetadata struct {
	Product string `json:"product,omitempty"`
}

// BuildsRequest is SubmitBuildsRequest.
type BuildsRequest struct {
	Builds           []Build           `json:"builds"`
	ProviderMetadata *ProviderMetadata `json:"providerMetadata,omitempty"`
}

// DeploymentsRequest is SubmitDeploymentRequest.
type DeploymentsRequest struct {
	Deployments      []Deployment      `json:"deployments"`
	ProviderMetadata *ProviderMetadata `json:"providerMetadata,omitempty"`
}

// ErrorMessage is one of Jira's error messages.
type ErrorMessage struct {
	Message      string `json:"message"`
	ErrorTraceID string `json:"errorTraceId,omitempty"`
}

// BuildKey identifies a build.
type BuildKey struct {
	PipelineID  string `json:"pipelineId"`
	BuildNumber int64  `json:"buildNumber"`
}

// DeploymentKey identifies a deployment.
type DeploymentKey struct {
	PipelineID               string `json:"pipelineId"`
	EnvironmentID            string `json:"environmentId"`
	DeploymentSequenceNumber int64  `json:"deploymentSequenceNumber"`
}

// Rejected is a record Jira refused, with its reasons.
type Rejected struct {
	Key    any            `json:"key"`
	Errors []ErrorMessage `json:"errors"`
}

// Result is Jira's 202 answer to either submit, reduced to what the step
// reports.
type Result struct {
	Accepted         int
	Rejected         []Rejected
	UnknownIssueKeys []string
	// UnknownAssociations are deployment associations Jira did not know.
	UnknownAssociations []Association
	// AllKeysUnknown: Jira took no record, and every issue key of every
	// record is one it says the site does not know, with nothing else to
	// link (no service): the records were refused for their keys alone.
	// Whether that is a failure is the caller's decision.
	AllKeysUnknown bool
}

type buildsResponse struct {
	AcceptedBuilds   []BuildKey `json:"acceptedBuilds"`
	RejectedBuilds   []Rejected `json:"rejectedBuilds"`
	UnknownIssueKeys []string   `json:"unknownIssueKeys"`
}

type deploymentsResponse struct {
	AcceptedDeployments []DeploymentKey `json:"acceptedDeployments"`
	RejectedDeployments []Rejected      `json:"rejectedDeployments"`
	UnknownIssueKeys    []string        `json:"unknownIssueKeys"`
	UnknownAssociations []Association   `json:"unknownAssociations"`
}

// GatingStatus is the answer of the gating-status endpoint.
type GatingStatus struct {
	DeploymentSequenceNumber int64          `json:"deploymentSequenceNumber"`
	PipelineID               string         `json:"pipelineId"`
	EnvironmentID            string         `json:"environmentId"`
	UpdatedTimestamp         string         `json:"updatedTimestamp"`
	Status                   string         `json:"gatingStatus"`
	Details                  []GatingDetail `json:"details"`
}

// GatingDetail is an issue gating a deployment.
type GatingDetail struct {
	Type      string `json:"type"`
	IssueKey  string `json:"issueKey"`
	IssueLink string `json:"issueLink"`
}
