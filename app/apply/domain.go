package apply

import (
	"context"
	"fmt"
	"os"

	envconfig "pharos/app/config"
	"pharos/app/store"
)

// A page's custom domain is accepted pending: it is served once its owner
// proves control of it (store/domains.go). Apply refuses the service's own
// host names and says which record to create.

// serviceHosts are the service's own host names (store.ServiceHosts) from
// the environment every role reads: PHAROS_BASE_URL and PHAROS_LISTEN.
func serviceHosts() []string {
	cfg, err := envconfig.Load(os.Getenv)
	if err != nil {
		return store.ServiceHosts("", "")
	}
	return store.ServiceHosts(cfg.BaseURL, cfg.Listen)
}

// ownHostError refuses a domain that is one of the service's own names.
func ownHostError(errs *errorList, pc pageConfig) {
	if pc.domain != "" && store.IsServiceHost(pc.domain, serviceHosts()) {
		errs.add(pc.domainLine, "page.domain", "%q is this service's own host name: no page can have it", pc.domain)
	}
}

// domainNotices say, after an apply, what the page's pending domain
// needs: the TXT record to create, and how to verify it. A dry run names
// the record only: the token is issued when the page is written.
func domainNotices(ctx context.Context, st *store.Store, orgID int64, pc pageConfig, dryRun bool) []string {
	if pc.domain == "" {
		return nil
	}
	record := store.DomainChallengeName(pc.domain)
	pg, err := st.PageBySlug(ctx, pc.slug)
	mine := err == nil && pg.OrgID == orgID
	if mine && pg.Domain == pc.domain && pg.DomainVerifiedAt != nil {
		return nil
	}
	general := fmt.Sprintf("domain %s is served only once verified: a DNS TXT record %s holding the page's token proves it "+
		"(the page's edit screen in the console shows both)", pc.domain, record)
	if dryRun || !mine {
		return []string{general}
	}
	claim, err := st.DomainClaim(ctx, orgID, pg.ID)
	if err != nil {
		return []string{general}
	}
	return []string{fmt.Sprintf("domain %s is pending: create the DNS TXT record %s with the value %s "+
		"(or serve the value at http://%s%s), then verify it: \"Verify now\" on the page's edit screen, or POST /api/v1/pages/%d/domain/verify",
		pc.domain, record, claim.Token, pc.domain, store.DomainChallengePath(claim.Token), pg.ID)}
}
