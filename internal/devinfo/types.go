package devinfo

// The request body of Jira's Development Information API (the spec's
// DevInformation, POST /rest/devinfo/0.10/bulk; for OAuth 2LO
// /jira/devinfo/0.1/cloud/{cloudId}/bulk), the fields this tool sends.

// Request is one bulk request: one repository and its entities.
type Request struct {
	Repositories []Repository `json:"repositories"`
	// PreventTransitions stops Jira firing automation (transitions, smart
	// commits) for the data: set on backfills.
	PreventTransitions bool `json:"preventTransitions,omitempty"`
	// OperationType is "BACKFILL" for a long range sent in parts; empty is
	// Jira's default, NORMAL.
	OperationType    string            `json:"operationType,omitempty"`
	ProviderMetadata *ProviderMetadata `json:"providerMetadata,omitempty"`
}

// OperationBackfill marks a request as backfilled history.
const OperationBackfill = "BACKFILL"

// ProviderMetadata names the tool that sent the data.
type ProviderMetadata struct {
	Product string `json:"product,omitempty"`
}

// Repository is the spec's Repository.
type Repository struct {
	ID               string              `json:"id"`
	Name             string              `json:"name"`
	URL              string              `json:"url"`
	UpdateSequenceID int64               `json:"updateSequenceId"`
	Commits          []CommitEntity      `json:"commits,omitempty"`
	Branches         []BranchEntity      `json:"branches,omitempty"`
	PullRequests     []PullRequestEntity `json:"pullRequests,omitempty"`
}

// CommitEntity is the spec's Commit.
type CommitEntity struct {
	ID               string       `json:"id"`
	Hash             string       `json:"hash,omitempty"`
	DisplayID        string       `json:"displayId"`
	IssueKeys        []string     `json:"issueKeys"`
	UpdateSequenceID int64        `json:"updateSequenceId"`
	Message          string       `json:"message"`
	Author           Author       `json:"author"`
	AuthorTimestamp  string       `json:"authorTimestamp"`
	FileCount        int          `json:"fileCount"`
	Flags            []string     `json:"flags,omitempty"`
	URL              string       `json:"url"`
	Files            []FileEntity `json:"files,omitempty"`
}

// FlagMergeCommit marks a commit with more than one parent.
const FlagMergeCommit = "MERGE_COMMIT"

// Author is the spec's Author (name and email; the rest is deprecated).
type Author struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
}

// FileEntity is the spec's File.
type FileEntity struct {
	Path         string `json:"path"`
	URL          string `json:"url"`
	ChangeType   string `json:"changeType"`
	LinesAdded   int    `json:"linesAdded"`
	LinesRemoved int    `json:"linesRemoved"`
}

// BranchEntity is the spec's Branch.
type BranchEntity struct {
	ID                   string       `json:"id"`
	Name                 string       `json:"name"`
	IssueKeys            []string     `json:"issueKeys"`
	UpdateSequenceID     int64        `json:"updateSequenceId"`
	URL                  string       `json:"url"`
	CreatePullRequestURL string       `json:"createPullRequestUrl,omitempty"`
	LastCommit           CommitEntity `json:"lastCommit"`
}

// PullRequestEntity is the spec's PullRequest.
type PullRequestEntity struct {
	ID                   string           `json:"id"`
	DisplayID            string           `json:"displayId"`
	IssueKeys            []string         `json:"issueKeys"`
	UpdateSequenceID     int64            `json:"updateSequenceId"`
	Status               string           `json:"status"`
	Title                string           `json:"title"`
	Author               Author           `json:"author"`
	CommentCount         int              `json:"commentCount"`
	SourceBranch         string           `json:"sourceBranch"`
	SourceBranchURL      string           `json:"sourceBranchUrl,omitempty"`
	DestinationBranch    string           `json:"destinationBranch,omitempty"`
	DestinationBranchURL string           `json:"destinationBranchUrl,omitempty"`
	LastUpdate           string           `json:"lastUpdate"`
	Reviewers            []ReviewerEntity `json:"reviewers,omitempty"`
	URL                  string           `json:"url"`
}

// ReviewerEntity is the spec's Reviewer.
type ReviewerEntity struct {
	Name           string `json:"name,omitempty"`
	Email          string `json:"email,omitempty"`
	ApprovalStatus string `json:"approvalStatus,omitempty"`
}

// Limits of the spec (maxItems, maxLength; lengths in UTF-16 code units,
// as Jira, a Java service, counts them) and of its prose.
const (
	MaxCommitsPerRequest = 400  // Repository.commits maxItems
	MaxIssueKeys         = 500  // issueKeys maxItems, every entity
	MaxFiles             = 10   // Commit.files maxItems
	MaxIDLength          = 1024 // entity ids ("Max length is 1024 characters")
	MaxMessage           = 1024 // Commit.message
	MaxName              = 255  // Repository.name, Author.name/email, Commit.displayId
	MaxBranchName        = 512  // Branch.name
	MaxPRBranchName      = 255  // PullRequest.sourceBranch/destinationBranch
	MaxTitle             = 1024 // PullRequest.title
	MaxPath              = 1024 // File.path
	MaxURL               = 2000 // every url
	MaxReviewerEmail     = 254  // Reviewer.email
	// MaxReviewers bounds the reviewers sent (the spec sets no limit).
	MaxReviewers = 100
)
