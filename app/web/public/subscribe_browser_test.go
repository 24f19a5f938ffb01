package public_test

import (
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"pharos/app/store/storetest"
	"pharos/app/web/webtest"
)

// TestSubscribeFormWithoutJavaScript drives the subscribe form in Chromium
// with scripts off: the webhook form posts, the refusal of a metadata
// address comes back with what was typed and the ticked component kept.
func TestSubscribeFormWithoutJavaScript(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	a := webtest.SeedTenant(t, st, "a")
	base, _ := webtest.LiveServer(t, st)
	ctx := webtest.BrowserContext(t, 1024, 900)
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	webtest.Do(t, ctx, chromedp.Navigate(base+"/p/a-status/subscribe"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="subscribe-webhook"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="endpoint"]`), "http://169.254.169.254/latest"),
		chromedp.Click(chromedp.CSS(`#webhook-c-`+webtest.ID(a.CompID))),
		chromedp.Click(chromedp.CSS(`[data-testid="subscribe-webhook"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="subscribe-error"]`)))
	msg := webtest.Eval[string](t, ctx, `document.querySelector('[data-testid="subscribe-error"]').innerText`)
	if !strings.Contains(msg, "169.254.169.254") || !strings.Contains(msg, "may not reach") {
		t.Errorf("error shown: %q, want the refused address and why", msg)
	}
	if v := webtest.Eval[string](t, ctx, `document.querySelector('input[name="endpoint"]').value`); v != "http://169.254.169.254/latest" {
		t.Errorf("endpoint field after the error: %q, want what was typed", v)
	}
	if !webtest.Eval[bool](t, ctx, `document.querySelector('#webhook-c-`+webtest.ID(a.CompID)+`').checked`) {
		t.Error("the ticked component is not ticked after the error")
	}
	if !webtest.Eval[bool](t, ctx, `!!document.querySelector('[data-testid="email-off"]')`) {
		t.Error("without SMTP the page does not say email is off")
	}
	webtest.Screenshot(t, ctx, "subscribe.png")
}
