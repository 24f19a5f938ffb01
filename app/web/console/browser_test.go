package console_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"pharos/app/store/storetest"
	"pharos/app/web/webtest"
)

// TestBrowserIncidentLifecycle drives the console in Chromium as an owner:
// sign in, compose an incident with two components, preview its Markdown,
// create it, post a resolving update, write a postmortem, delete it, and
// schedule a recurring maintenance after looking at its next runs. A second
// tab holds the public page, which follows each step without a reload.
// Screenshots of the composer and the incident at 1280 and 375 px.
func TestBrowserIncidentLifecycle(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	a := webtest.SeedTenant(t, st, "a")
	cdn := addComponent(t, st, a, "a CDN")
	base, _ := webtest.LiveServer(t, st)
	ctx := webtest.BrowserContext(t, 1280, 900)
	do := func(steps ...chromedp.Action[chromedp.Void]) { t.Helper(); webtest.Do(t, ctx, steps...) }

	// The public page, in its own tab (of the browser the first step
	// starts), stays open throughout.
	do(chromedp.Navigate("about:blank"))
	pub, cancelPub := chromedp.NewContext(ctx)
	defer cancelPub()
	webtest.Do(t, pub, chromedp.Navigate(base+"/p/a-status/"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="component"]`)))
	webtest.Eval[bool](t, pub, `window.__noReload = true`)
	publicShows := func(what string, want bool) {
		t.Helper()
		expr := fmt.Sprintf(`document.body.innerText.includes(%q)`, what)
		deadline := time.Now().Add(3 * time.Second)
		for webtest.Eval[bool](t, pub, expr) != want {
			if time.Now().After(deadline) {
				t.Fatalf("public page: %q shown = %v after 3s, want %v", what, !want, want)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if !webtest.Eval[bool](t, pub, `window.__noReload === true`) {
			t.Fatal("the public page reloaded")
		}
	}

	do(chromedp.Navigate(base+"/login"),
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), a.Owner),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), webtest.TestPassword),
		chromedp.Click(chromedp.CSS(`[data-testid="login-form"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="pages"]`)))

	// Compose and preview.
	do(chromedp.Navigate(fmt.Sprintf("%s/admin/incidents/new?page=%d", base, a.PageID)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="incident-form"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="name"]`), "Images fail to load"),
		chromedp.SetValue(chromedp.CSS(fmt.Sprintf(`select[name="component_%d"]`, a.CompID)), "major_outage"),
		chromedp.SetValue(chromedp.CSS(fmt.Sprintf(`select[name="component_%d"]`, cdn)), "degraded_performance"),
		chromedp.SendKeys(chromedp.CSS(`textarea[name="body"]`), "We are **looking** into it."),
		chromedp.Click(chromedp.CSS(`[data-testid="preview"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="preview-html"] strong`)))
	shot(t, ctx, "composer", 1280)
	do(chromedp.Click(chromedp.CSS(`[data-testid="create-incident"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="incident-detail"]`)))
	if impact := webtest.Eval[string](t, ctx, `document.querySelector('[data-testid="incident-impact"]').innerText`); impact != "critical" {
		t.Errorf("impact: got %q, want critical (a major outage among the components)", impact)
	}
	publicShows("Images fail to load", true)

	// Resolve with an update, then a postmortem.
	do(chromedp.SetValue(chromedp.CSS(`[data-testid="update-form"] select[name="status"]`), "resolved"),
		chromedp.SetValue(chromedp.CSS(fmt.Sprintf(`[data-testid="update-form"] select[name="component_%d"]`, a.CompID)), "operational"),
		chromedp.SetValue(chromedp.CSS(fmt.Sprintf(`[data-testid="update-form"] select[name="component_%d"]`, cdn)), "operational"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="update-form"] textarea[name="body"]`), "Fixed: the certificate is renewed."),
		chromedp.Click(chromedp.CSS(`[data-testid="post-update"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="postmortem-form"]`)))
	if n := webtest.Eval[int](t, ctx, `document.querySelectorAll('[data-testid="update"]').length`); n != 2 {
		t.Errorf("timeline: %d updates, want 2", n)
	}
	affected := webtest.Eval[string](t, ctx, `document.querySelector('[data-testid="timeline"]').innerText`)
	if !strings.Contains(affected, "Major outage → Operational") || !strings.Contains(affected, "Operational → Major outage") {
		t.Errorf("timeline lacks each update's component changes:\n%s", affected)
	}
	publicShows("Fixed: the certificate is renewed.", false) // resolved incidents leave the front page
	do(chromedp.SendKeys(chromedp.CSS(`[data-testid="postmortem-form"] textarea`), "## Cause\n\nA renewal failed."),
		chromedp.Click(chromedp.CSS(`[data-testid="publish-postmortem"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="postmortem"] h2`)))
	shot(t, ctx, "incident", 1280)
	do(chromedp.EmulateViewport(375, 800), chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`[data-testid="incident-detail"]`)))
	if w := webtest.Eval[int](t, ctx, `document.documentElement.scrollWidth`); w > 375 {
		t.Errorf("the incident page is %d px wide at 375 px: it scrolls sideways", w)
	}
	shot(t, ctx, "incident", 375)
	do(chromedp.EmulateViewport(1280, 900))

	// Delete (confirmed).
	do(chromedp.Click(chromedp.CSS(`[data-testid="delete-form"] input[name="confirm"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="delete"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="no-open"]`)))
	if webtest.Eval[bool](t, ctx, `document.body.innerText.includes("Images fail to load")`) {
		t.Error("the deleted incident is still listed in the console")
	}

	// A recurring maintenance: next runs first, then saved.
	do(chromedp.Navigate(fmt.Sprintf("%s/admin/maintenance/new?page=%d", base, a.PageID)),
		chromedp.SendKeys(chromedp.CSS(`input[name="name"]`), "Weekly window"),
		chromedp.Click(chromedp.CSS(`[data-testid="kind-recurring"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="schedule"]`), "0 8 * * THU"),
		chromedp.SendKeys(chromedp.CSS(`input[name="duration"]`), "2h"),
		chromedp.SetValue(chromedp.CSS(`input[name="timezone"]`), "Europe/Berlin"),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`input[name="component_%d"]`, cdn))),
		chromedp.Click(chromedp.CSS(`[data-testid="show-runs"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="next-runs"]`)))
	if n := webtest.Eval[int](t, ctx, `document.querySelectorAll('[data-testid="next-runs"] li').length`); n != 5 {
		t.Errorf("next runs: %d listed, want 5", n)
	}
	shot(t, ctx, "maintenance", 1280)
	do(chromedp.Click(chromedp.CSS(`[data-testid="save-maintenance"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="maintenance-row"]`)))
	publicShows("Weekly window", true)

	// A one-off window: its single run shows before saving, in its zone.
	start := time.Now().Add(48 * time.Hour).In(time.UTC)
	do(chromedp.Navigate(fmt.Sprintf("%s/admin/maintenance/new?page=%d", base, a.PageID)),
		chromedp.SendKeys(chromedp.CSS(`input[name="name"]`), "Database upgrade"),
		chromedp.SetValue(chromedp.CSS(`input[name="start"]`), start.Format("2006-01-02T15:04")),
		chromedp.SetValue(chromedp.CSS(`input[name="end"]`), start.Add(time.Hour).Format("2006-01-02T15:04")),
		chromedp.SetValue(chromedp.CSS(`input[name="timezone"]`), "UTC"),
		chromedp.Click(chromedp.CSS(`[data-testid="show-runs"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="next-runs"] li`)))
	if runs := webtest.Eval[string](t, ctx, `document.querySelector('[data-testid="next-runs"]').innerText`); !strings.Contains(runs, start.Format("15:04 UTC")) {
		t.Errorf("one-off run: %q, want its start %s", runs, start.Format("15:04 UTC"))
	}
	do(chromedp.Click(chromedp.CSS(`[data-testid="save-maintenance"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="maintenance-row"]`)))
	publicShows("Database upgrade", true)
}

// TestBrowserComposerWithoutJavaScript: with scripts disabled an editor
// still signs in, previews and creates an incident.
func TestBrowserComposerWithoutJavaScript(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	a := webtest.SeedTenant(t, st, "a")
	base, _ := webtest.LiveServer(t, st)
	ctx := webtest.BrowserContext(t, 1280, 900)
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	webtest.Do(t, ctx, chromedp.Navigate(base+"/login"),
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), a.Editor),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), webtest.TestPassword),
		chromedp.Click(chromedp.CSS(`[data-testid="login-form"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="pages"]`)),
		chromedp.Navigate(fmt.Sprintf("%s/admin/incidents/new?page=%d", base, a.PageID)),
		chromedp.SendKeys(chromedp.CSS(`input[name="name"]`), "No script needed"),
		chromedp.SendKeys(chromedp.CSS(`textarea[name="body"]`), "Plain *forms*."),
		chromedp.Click(chromedp.CSS(`[data-testid="preview"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="preview-html"] em`)),
		chromedp.Click(chromedp.CSS(`[data-testid="create-incident"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="incident-detail"]`)))
	if name := webtest.Eval[string](t, ctx, `document.querySelector('h1').innerText`); name != "No script needed" {
		t.Errorf("after create the console shows %q, want the new incident", name)
	}
}

func shot(t *testing.T, ctx context.Context, name string, width int) {
	t.Helper()
	webtest.Screenshot(t, ctx, fmt.Sprintf("console-%s-%d.png", name, width))
}
