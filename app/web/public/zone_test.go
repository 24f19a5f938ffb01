package public_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"pharos/app/store"
	"pharos/app/store/storetest"
	"pharos/views"
)

// TestPublicTimesInPageZone: the status page, incident page, history and
// bar tooltips show times in the page's zone (Europe/Berlin) with the zone
// named, each in a <time> whose datetime stays UTC; the Statuspage JSON
// keeps UTC.
func TestPublicTimesInPageZone(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	ctx := context.Background()
	f := seedPublicPage(t, st, fixtureOptions{components: 1, incidents: 1, days: 1})
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	started := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	resolved := started.Add(45 * time.Minute)
	summer, err := st.InsertIncident(ctx, store.IncidentRecord{OrgID: f.org.ID, PageID: f.page.ID, Name: "Summer outage",
		Status: store.IncidentResolved, Impact: "major", StartedAt: started, ResolvedAt: &resolved,
		Updates: []store.UpdateRecord{{Status: store.IncidentInvestigating, Body: "Looking.", DisplayAt: started},
			{Status: store.IncidentResolved, Body: "Fixed.", DisplayAt: resolved}}})
	if err != nil {
		t.Fatal(err)
	}
	br, _ := newPublicServer(t, st)

	detail := br.Get("/p/acme/incidents/" + strconv.FormatInt(summer, 10)).Body
	for _, want := range []string{
		`<time datetime="2026-07-01T12:00:00Z">1 Jul 2026, 14:00 CEST</time>`,
		`<time datetime="2026-07-01T12:45:00Z">1 Jul 2026, 14:45 CEST</time>`,
	} {
		if !strings.Contains(detail, want) {
			t.Errorf("incident page lacks %s", want)
		}
	}
	if strings.Contains(detail, " UTC<") {
		t.Error("the incident page still shows a time in UTC")
	}

	// History: three months a page, counted back from this month in Berlin.
	now := time.Now().In(berlin)
	if back := (now.Year()*12 + int(now.Month())) - (2026*12 + 7); back >= 0 {
		history := br.Get("/p/acme/history?page=" + strconv.Itoa(back/3)).Body
		if want := `<time datetime="2026-07-01T12:00:00Z">1 Jul 2026, 14:00 CEST</time>`; !strings.Contains(history, want) {
			t.Errorf("history lacks %s", want)
		}
	}

	// The status page: the open incident's latest update and its day's
	// tooltip, in the zone of the day (CET in winter, CEST in summer).
	open, err := st.PublicIncident(ctx, f.org.ID, f.page.ID, f.incidents[0])
	if err != nil {
		t.Fatal(err)
	}
	page := br.Get("/p/acme/").Body
	latest := open.Updates[0].DisplayAt
	if want := `<time datetime="` + latest.UTC().Format(time.RFC3339) + `">` + views.Stamp(latest.In(berlin)) + `</time>`; !strings.Contains(page, want) {
		t.Errorf("status page lacks %s", want)
	}
	if want := "(started " + views.Stamp(open.StartedAt.In(berlin)) + ")"; !strings.Contains(page, want) {
		t.Errorf("status page's bar tooltips lack %q", want)
	}
	if zone := now.Format("MST"); !strings.Contains(page, " "+zone+"</time>") {
		t.Errorf("status page names no time in %s", zone)
	}

	// Statuspage v2 JSON keeps UTC (contract).
	res := br.Get("/p/acme/api/v2/incidents.json")
	if res.Code != http.StatusOK || !strings.Contains(res.Body, `"started_at":"2026-07-01T12:00:00.000Z"`) {
		t.Errorf("incidents.json: got %d, want started_at in UTC: %.300s", res.Code, res.Body)
	}
}

func TestStamp(t *testing.T) {
	t.Parallel()
	zone := func(name string) *time.Location {
		loc, err := time.LoadLocation(name)
		if err != nil {
			t.Fatal(err)
		}
		return loc
	}
	at := time.Date(2026, 11, 30, 13, 5, 0, 0, time.UTC)
	cases := []struct {
		loc  *time.Location
		at   time.Time
		want string
	}{
		{zone("Europe/Berlin"), at, "30 Nov 2026, 14:05 CET"},
		{zone("Europe/Berlin"), time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC), "1 Jul 2026, 14:00 CEST"},
		{time.UTC, at, "30 Nov 2026, 13:05 UTC"},
		{zone("America/New_York"), at, "30 Nov 2026, 08:05 EST"},
		{zone("America/Sao_Paulo"), at, "30 Nov 2026, 10:05 UTC-03"}, // no abbreviation: the offset
		{zone("Asia/Kolkata"), at, "30 Nov 2026, 18:35 IST"},
	}
	for _, tc := range cases {
		if got := views.Stamp(tc.at.In(tc.loc)); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.loc, got, tc.want)
		}
	}
}

// TestNoDataYet: a component whose checks were never judged says "No data
// yet" on the HTML page while components.json keeps it operational; once
// a check is judged it shows its status.
func TestNoDataYet(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := seedPublicPage(t, st, fixtureOptions{components: 2, days: 0})
		err := st.InTx(ctx, func(tx *store.Tx) error { // the second component's check has been judged
			return tx.SetCheckStates(ctx, []store.StateChange{{OrgID: f.org.ID, ID: f.checks[1], State: "up", At: time.Now()}})
		})
		if err != nil {
			t.Fatal(err)
		}
		br, _ := newPublicServer(t, st)
		page := br.Get("/p/acme/").Body
		rows := strings.Split(page, `data-testid="component"`)[1:]
		if len(rows) != 2 {
			t.Fatalf("got %d component rows, want 2", len(rows))
		}
		if !strings.Contains(rows[0], `data-testid="component-status">No data yet</span>`) || strings.Contains(rows[0], `component-status">Operational`) {
			t.Errorf("never-checked component: want \"No data yet\", not Operational: %.400s", rows[0])
		}
		if !strings.Contains(rows[1], `data-testid="component-status">Operational</span>`) {
			t.Errorf("judged component: want Operational: %.400s", rows[1])
		}
		if !strings.Contains(page, `<span class="st s-operational">Operational</span>Backend</h3>`) {
			t.Error("the group of the judged component is not Operational")
		}
		seedPublicPage(t, st, fixtureOptions{slug: "fresh", components: 2, days: 0})
		if fresh := br.Get("/p/fresh/").Body; !strings.Contains(fresh, `<span class="st s-no_data">No data yet</span>Backend</h3>`) {
			t.Error("a group of never-checked components does not say No data yet")
		}
		var doc struct {
			Components []struct{ Name, Status string } `json:"components"`
		}
		if err := json.Unmarshal([]byte(br.Get("/p/acme/api/v2/components.json").Body), &doc); err != nil {
			t.Fatal(err)
		}
		for _, c := range doc.Components {
			if c.Status != "operational" {
				t.Errorf("components.json: %s is %q, want operational", c.Name, c.Status)
			}
		}
	})
}
