package app

import (
	"fmt"
	"strings"

	"github.com/jira-cicd/jira-cicd/internal/settings"
)

// onlyCredentialsMissing reports settings errors that say nothing but that
// the Jira credential is absent: client_id and client_secret both empty (a
// CI withholding secrets withholds both), and at most site missing too (it
// may be a secret as well). Any other invalid setting stays an error, in
// untrusted runs too.
func onlyCredentialsMissing(s *settings.Settings, errs settings.Errors) bool {
	if s == nil || len(errs) == 0 || strings.TrimSpace(s.ClientID) != "" || strings.TrimSpace(s.ClientSecret.Value()) != "" {
		return false
	}
	for _, e := range errs {
		switch {
		case e.Setting == "client_id", e.Setting == "client_secret":
		case e.Setting == "site" && s.Site == "" && s.CloudID == "":
		default:
			return false
		}
	}
	return true
}

// untrusted ends a run the CI gave no secrets because it does not trust it
// (a fork's pull request, a Dependabot run, ...): nothing can be sent, and
// the contributor can do nothing about it, so it passes with a notice.
func (r *run) untrusted() int {
	r.out.Status = "skipped"
	r.out.Message = fmt.Sprintf("no Jira credentials in this untrusted run (%s); nothing sent", r.c.Untrusted)
	r.rep.Noticef("%s", r.out.Message)
	return r.finish(ExitOK)
}
