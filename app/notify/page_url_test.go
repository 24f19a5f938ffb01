package notify

import (
	"testing"
	"time"

	"pharos/app/store"
)

// TestPageURLNamesOnlyAProvenDomain: mails and webhooks link a page's
// custom domain only once its owner has proven it; until then, the page
// under PHAROS_BASE_URL.
func TestPageURLNamesOnlyAProvenDomain(t *testing.T) {
	t.Parallel()
	n := &Notifier{opts: Options{BaseURL: "https://status.example.org/"}}
	pending := store.Page{Slug: "acme", Domain: "status.acme.example"}
	if got, want := n.pageURL(pending), "https://status.example.org/p/acme/"; got != want {
		t.Errorf("pending domain: got %q, want %q", got, want)
	}
	verified := pending
	at := time.Now()
	verified.DomainVerifiedAt = &at
	if got, want := n.pageURL(verified), "https://status.acme.example/"; got != want {
		t.Errorf("verified domain: got %q, want %q", got, want)
	}
	e := &Email{opts: EmailOptions{BaseURL: "https://status.example.org"}}
	if got, want := pending.PublicRoot(e.opts.BaseURL), "https://status.example.org/p/acme"; got != want {
		t.Errorf("mail root, pending domain: got %q, want %q", got, want)
	}
}
