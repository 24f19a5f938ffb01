package public_test

import (
	"context"
	"encoding/xml"
	"strconv"
	"strings"
	"testing"
	"time"

	"pharos/app/store"
	"pharos/app/store/storetest"
)

type feedDoc struct {
	Entries []struct {
		ID      string `xml:"id"`
		Title   string `xml:"title"`
		Content string `xml:"content"`
	} `xml:"entry"`
	Items []struct {
		GUID struct {
			IsPermaLink string `xml:"isPermaLink,attr"`
			Body        string `xml:",chardata"`
		} `xml:"guid"`
		Description string `xml:"description"`
	} `xml:"channel>item"`
}

// TestMaintenanceInFeedsAndHistory: after the maintenance tick, the feeds
// carry one entry per run with its updates and a stable id, and the
// history shows a past run of a recurring window.
func TestMaintenanceInFeedsAndHistory(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := seedPublicPage(t, st, fixtureOptions{components: 2, incidents: 1})
		daily, err := st.CreateMaintenance(ctx, f.org.ID, store.CLIActor(), store.MaintenanceWindow{PageID: f.page.ID,
			Name: "Nightly <b>backup</b>", Schedule: "0 8 * * *", Duration: time.Hour, TimeZone: "Europe/Berlin",
			ComponentIDs: []int64{f.components[1].ID}})
		if err != nil {
			t.Fatal(err)
		}
		query := `UPDATE maintenance_windows SET created_at = ? WHERE id = ?`
		if st.Dialect() == store.Postgres {
			query = `UPDATE maintenance_windows SET created_at = $1 WHERE id = $2`
		}
		if _, err := st.DB().ExecContext(ctx, query, time.Now().Add(-72*time.Hour), daily.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := st.AdvanceMaintenance(ctx, time.Now(), 24*time.Hour); err != nil {
			t.Fatal(err)
		}
		ups, err := st.MaintenanceUpdates(ctx, f.org.ID, f.page.ID, daily.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		var past time.Time
		for _, u := range ups {
			if u.Status == "completed" {
				past = u.OccurrenceStart
			}
		}
		if past.IsZero() {
			t.Fatalf("no completed run of the daily window after the tick: %+v", ups)
		}
		var oneOff int64
		ws, err := st.MaintenanceWindows(ctx, f.org.ID, f.page.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range ws {
			if w.Name == "Database upgrade" {
				oneOff = w.ID
			}
		}
		pastID := "/maintenance/m" + strconv.FormatInt(daily.ID, 10) + "-" + strconv.FormatInt(past.Unix(), 10)
		oneOffID := "/maintenance/m" + strconv.FormatInt(oneOff, 10)

		br, _ := newPublicServer(t, st)
		var first []string
		for round := range 2 {
			var atom feedDoc
			if err := xml.Unmarshal([]byte(br.Get("/p/acme/feed.atom").Body), &atom); err != nil {
				t.Fatal(err)
			}
			var ids []string
			found := map[string]bool{}
			for _, e := range atom.Entries {
				ids = append(ids, e.ID)
				switch {
				case strings.HasSuffix(e.ID, pastID):
					found["past"] = true
					if !strings.HasPrefix(e.Title, "Maintenance: Nightly <b>backup</b> (") || !strings.Contains(e.Content, "<strong>Completed</strong>") ||
						!strings.Contains(e.Content, "<strong>In progress</strong>") || !strings.Contains(e.Content, "Affected: Component 02") {
						t.Errorf("past run entry: title %q, content %q", e.Title, e.Content)
					}
				case strings.HasSuffix(e.ID, oneOffID):
					found["one-off"] = true
					if !strings.Contains(e.Content, "<strong>Scheduled</strong>") || !strings.Contains(e.Content, "<strong>database</strong>") {
						t.Errorf("announcement entry: content %q", e.Content)
					}
				case strings.HasSuffix(e.ID, "/incident/"+strconv.FormatInt(f.incidents[0], 10)):
					found["incident"] = true
				}
				if strings.Contains(e.Content, "<b>backup") {
					t.Errorf("entry %s carries the window name unescaped: %q", e.ID, e.Content)
				}
			}
			if !found["past"] || !found["one-off"] || !found["incident"] {
				t.Errorf("atom entries %q: want the past run (%s), the one-off announcement (%s) and the incident", ids, pastID, oneOffID)
			}
			if round == 0 {
				first = ids
			} else if strings.Join(first, " ") != strings.Join(ids, " ") {
				t.Errorf("entry ids changed between fetches: %q then %q", first, ids)
			}
		}

		var rss feedDoc
		if err := xml.Unmarshal([]byte(br.Get("/p/acme/feed.rss").Body), &rss); err != nil {
			t.Fatal(err)
		}
		seen := false
		for _, it := range rss.Items {
			if strings.HasSuffix(it.GUID.Body, pastID) {
				seen = true
				if it.GUID.IsPermaLink != "false" {
					t.Errorf("maintenance guid isPermaLink: got %q, want false", it.GUID.IsPermaLink)
				}
			}
		}
		if !seen {
			t.Errorf("rss lacks the past run %s", pastID)
		}

		history := br.Get("/p/acme/history").Body
		if !strings.Contains(history, "Nightly &lt;b&gt;backup&lt;/b&gt;") {
			t.Errorf("history does not show the past run of the daily window")
		}
	})
}
