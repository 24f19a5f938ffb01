package console_test

import (
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"pharos/app/store/storetest"
	"pharos/app/web/webtest"
)

// TestBrowserInviteWithoutJavaScript: with scripts disabled an owner
// reaches the team screen from the header, invites an editor and copies
// the link; the link's page creates the account and signs it in as an
// editor. Screenshots of the team screen at 1280 and 375 px.
func TestBrowserInviteWithoutJavaScript(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	a := webtest.SeedTenant(t, st, "a")
	base, _ := webtest.LiveServer(t, st)
	ctx := webtest.BrowserContext(t, 1280, 900)
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	webtest.Do(t, ctx, chromedp.Navigate(base+"/login"),
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), a.Owner),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), webtest.TestPassword),
		chromedp.Click(chromedp.CSS(`[data-testid="login-form"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="pages"]`)),
		chromedp.Click(chromedp.CSS(`a[href="/admin/team"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="invite-form"]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="invite-form"] input[name="email"]`), "grace@example.org"),
		chromedp.SetValue(chromedp.CSS(`[data-testid="invite-form"] select[name="role"]`), "editor"),
		chromedp.Click(chromedp.CSS(`[data-testid="invite-form"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="invite-link"]`)))
	shot(t, ctx, "team", 1280)
	webtest.Do(t, ctx, chromedp.EmulateViewport(375, 800))
	if w := webtest.Eval[int](t, ctx, `document.documentElement.scrollWidth`); w > 375 {
		t.Errorf("the team page is %d px wide at 375 px: it scrolls sideways", w)
	}
	shot(t, ctx, "team", 375)
	webtest.Do(t, ctx, chromedp.EmulateViewport(1280, 900))

	link := webtest.Eval[string](t, ctx, `document.querySelector('[data-testid="invite-link"]').innerText`)
	webtest.Do(t, ctx, chromedp.Navigate(link),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="invite-accept-form"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), newPassword),
		chromedp.SendKeys(chromedp.CSS(`input[name="password_confirm"]`), newPassword),
		chromedp.Click(chromedp.CSS(`[data-testid="invite-accept-form"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="pages"]`)))
	if r := webtest.Eval[string](t, ctx, `document.querySelector('[data-testid="role"]').innerText`); r != "editor" {
		t.Errorf("after accepting the console says role %q, want editor", r)
	}
}
