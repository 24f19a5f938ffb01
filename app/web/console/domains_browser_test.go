package console_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"pharos/app/store/storetest"
	"pharos/app/web/webtest"
)

// TestBrowserDomainSection: the edit screen of a page with a pending
// domain shows the TXT record and "Verify now", and a phone's width does
// not scroll sideways for the long record and token.
func TestBrowserDomainSection(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	a := webtest.SeedTenant(t, st, "a")
	if _, err := st.DB().ExecContext(context.Background(), webtest.Rebind(st, `UPDATE pages SET domain = ? WHERE id = ?`),
		"status.a-very-long-subdomain-name.example", a.PageID); err != nil {
		t.Fatal(err)
	}
	base, _ := webtest.LiveServer(t, st)
	ctx := webtest.BrowserContext(t, 1280, 900)
	do := func(steps ...chromedp.Action[chromedp.Void]) { t.Helper(); webtest.Do(t, ctx, steps...) }
	do(chromedp.Navigate(base+"/login"),
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), a.Editor),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), webtest.TestPassword),
		chromedp.Click(chromedp.CSS(`[data-testid="login-form"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="new-page"]`)),
		chromedp.Navigate(fmt.Sprintf("%s/admin/pages/%d/edit", base, a.PageID)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="verify-domain"]`)))
	if got := webtest.Eval[string](t, ctx, `document.querySelector('[data-testid="domain-record"]').textContent`); got != "_pharos-challenge.status.a-very-long-subdomain-name.example" {
		t.Errorf("record: got %q", got)
	}
	shot(t, ctx, "domain", 1280)
	do(chromedp.EmulateViewport(375, 800))
	if !webtest.Eval[bool](t, ctx, `document.scrollingElement.scrollWidth <= innerWidth`) {
		t.Errorf("the edit screen scrolls sideways at 375 px: %d > %d",
			webtest.Eval[int](t, ctx, `document.scrollingElement.scrollWidth`), webtest.Eval[int](t, ctx, `innerWidth`))
	}
	shot(t, ctx, "domain", 375)
}
