package jira

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"
)

// Gating statuses. Jira's spec lists allowed, prevented, awaiting and
// invalid; Atlassian's own Jenkins plugin also knows expired.
const (
	GatingAllowed   = "allowed"
	GatingPrevented = "prevented"
	GatingAwaiting  = "awaiting"
	GatingInvalid   = "invalid"
	GatingExpired   = "expired"
	// GatingTimeout is not Jira's: no decision came before the wait's
	// timeout.
	GatingTimeout = "timeout"
)

// DefaultNotFoundPolls is how many polls may find no gating status (HTTP
// 404) before any status is seen: Jira processes a submission
// asynchronously, so right after it the deployment may not be known yet
// (Atlassian's Jenkins plugin retries the 404 three times).
const DefaultNotFoundPolls = 3

// GatingWait says how to wait for a gating decision.
type GatingWait struct {
	// Interval is the time between two status requests.
	Interval time.Duration
	// Timeout bounds the wait, measured with Now from the first request:
	// the last request is made when it is reached.
	Timeout time.Duration
	// RequestTimeout bounds each status request (its token refresh
	// included); 0: only ctx does.
	RequestTimeout time.Duration
	// NotFoundPolls is how many polls may answer 404 before Jira has given
	// any status; 0 means DefaultNotFoundPolls, a negative value none.
	NotFoundPolls int
	// Now and Sleep are the clock; nil: time.Now and a timer that stops
	// early when ctx is done.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// Progress, when set, is called once after each request.
	Progress func(GatingPoll)
}

// GatingPoll is one status request, for progress lines.
type GatingPoll struct {
	N        int           // 1 for the first request
	Waited   time.Duration // since the first request
	Status   string        // Jira's gatingStatus as given; "" when NotFound
	NotFound bool          // Jira answered 404: not known yet, still waiting
	Unknown  bool          // a status this client does not know: still waiting
	Final    bool          // this answer ends the wait
}

// GatingResult is how a wait for a gating decision ended.
type GatingResult struct {
	// Status is allowed, prevented, expired or invalid (Jira's decision,
	// lower case), or GatingTimeout; "" when the wait failed.
	Status string
	// Last is Jira's last answer (zero if none), with the issues gating
	// the deployment in Details.
	Last   GatingStatus
	Polls  int
	Waited time.Duration
}

// Allowed reports whether Jira allowed the deployment.
func (r GatingResult) Allowed() bool { return r.Status == GatingAllowed }

// WaitForGating polls the gating status of a deployment submitted with the
// initiate_deployment_gating command, every w.Interval, until Jira decides
// (allowed, prevented, expired, invalid) or w.Timeout has passed (Status
// GatingTimeout). Both end without an error: the caller decides what a
// refusal means. An unknown status is taken as "still waiting" (Progress
// sees it with Unknown set). The error is for a request that failed (a
// 404 only once NotFoundPolls are used up, or after Jira gave a status)
// and for ctx ending; the result then holds the polls made so far.
func (c *Client) WaitForGating(ctx context.Context, pipelineID, environmentID string, seq int64, w GatingWait) (GatingResult, error) {
	now, sleep := w.Now, w.Sleep
	if now == nil {
		now = time.Now
	}
	if sleep == nil {
		sleep = SleepContext
	}
	notFoundLeft := w.NotFoundPolls
	if notFoundLeft == 0 {
		notFoundLeft = DefaultNotFoundPolls
	}
	var res GatingResult
	seen := false // Jira gave a status at least once
	start := now()
	for {
		st, err := c.pollGating(ctx, pipelineID, environmentID, seq, w.RequestTimeout)
		res.Polls++
		res.Waited = now().Sub(start)
		poll := GatingPoll{N: res.Polls, Waited: res.Waited}
		switch {
		case err != nil && !seen && notFoundLeft > 0 && isNotFound(err):
			notFoundLeft--
			poll.NotFound = true
		case err != nil:
			return res, err
		default:
			seen = true
			res.Last = st
			poll.Status = st.Status
			switch s := strings.ToLower(strings.TrimSpace(st.Status)); s {
			case GatingAllowed, GatingPrevented, GatingExpired, GatingInvalid:
				res.Status = s
				poll.Final = true
			case GatingAwaiting:
			default:
				poll.Unknown = true
			}
		}
		timedOut := !poll.Final && res.Waited >= w.Timeout
		if timedOut {
			poll.Final = true
			res.Status = GatingTimeout
		}
		if w.Progress != nil {
			w.Progress(poll)
		}
		if poll.Final {
			return res, nil
		}
		d := w.Interval
		if left := w.Timeout - res.Waited; left < d {
			d = left
		}
		if err := sleep(ctx, d); err != nil {
			return res, err
		}
	}
}

func (c *Client) pollGating(ctx context.Context, pipelineID, environmentID string, seq int64, timeout time.Duration) (GatingStatus, error) {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	return c.GatingStatus(ctx, pipelineID, environmentID, seq)
}

func isNotFound(err error) bool {
	var je *Error
	return errors.As(err, &je) && je.Status == http.StatusNotFound
}

// SleepContext waits d, or less when ctx ends first (returning its error).
func SleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}
