package public_test

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"pharos/app/store/storetest"
	"pharos/app/web/webtest"
)

// badgeSVG is what the tests read of a badge.
type badgeSVG struct {
	Width  int    `xml:"width,attr"`
	Height int    `xml:"height,attr"`
	Title  string `xml:"title"`
	Rects  []struct {
		X     int    `xml:"x,attr"`
		Width int    `xml:"width,attr"`
		Fill  string `xml:"fill,attr"`
	} `xml:"g>rect"`
	Texts []struct {
		Hidden     string `xml:"aria-hidden,attr"`
		TextLength int    `xml:"textLength,attr"`
		Text       string `xml:",chardata"`
	} `xml:"g>text"`
}

func TestBadges(t *testing.T) {
	t.Parallel()
	st := storetest.SQLite(t)
	f := seedPublicPage(t, st, fixtureOptions{components: 2, incidents: 1, days: 1})
	br := webtest.NewBrowser(t, webtest.NewServer(t, st, nil).Handler())
	get := func(path string) badgeSVG {
		t.Helper()
		res := br.Get(path)
		if res.Code != http.StatusOK || res.Header.Get("Content-Type") != "image/svg+xml" {
			t.Fatalf("%s: %d %s", path, res.Code, res.Header.Get("Content-Type"))
		}
		wellFormed(t, path, res.Body)
		var b badgeSVG
		if err := xml.Unmarshal([]byte(res.Body), &b); err != nil {
			t.Fatal(err)
		}
		return b
	}

	flat := get("/p/acme/badge.svg")
	if flat.Height != 20 || flat.Title != "status: partial outage" || len(flat.Rects) != 3 {
		t.Errorf("flat badge: %+v, want 20 px, titled, label, message and gradient rects", flat)
	}
	if flat.Rects[0].Fill != "#555" || flat.Rects[1].Fill != "#fe7d37" || flat.Rects[0].Width+flat.Rects[1].Width != flat.Width ||
		flat.Rects[1].X != flat.Rects[0].Width {
		t.Errorf("flat badge rects %+v (width %d): want #555 label then shields orange, filling the badge", flat.Rects, flat.Width)
	}

	long := strings.Repeat("W", 40) // 40 Ws are about 435 px in 11 px Verdana
	lb := get("/p/acme/badge.svg?label=" + long)
	if lb.Rects[0].Width < 435+10 || lb.Width != lb.Rects[0].Width+lb.Rects[1].Width {
		t.Errorf("long label: label rect %d px of %d, want at least 445 and the parts to add up", lb.Rects[0].Width, lb.Width)
	}
	for _, tx := range lb.Texts {
		if tx.Text == long && tx.TextLength+100 != 10*lb.Rects[0].Width {
			t.Errorf("long label: textLength %d, want the rect's width less 10 px padding (x10)", tx.TextLength)
		}
	}
	escaped := br.Get("/p/acme/badge.svg?label=" + "R%26D%20%3Cops%3E")
	wellFormed(t, "label with & and <", escaped.Body)

	square := get("/p/acme/badge.svg?style=flat-square")
	if len(square.Rects) != 2 || slices.ContainsFunc(square.Texts, func(x struct {
		Hidden     string `xml:"aria-hidden,attr"`
		TextLength int    `xml:"textLength,attr"`
		Text       string `xml:",chardata"`
	}) bool {
		return x.Hidden != ""
	}) {
		t.Errorf("flat-square: %+v, want two rects and no shadow text", square)
	}
	big := get("/p/acme/badge.svg?style=for-the-badge")
	if big.Height != 28 || len(big.Texts) != 2 || big.Texts[1].Text != "PARTIAL OUTAGE" {
		t.Errorf("for-the-badge: %+v, want 28 px and upper-case text", big)
	}
	if bare := get("/p/acme/badge.svg?label="); bare.Title != "partial outage" || bare.Rects[0].Width != 0 {
		t.Errorf("empty label: %+v, want the message alone", bare)
	}

	comp := get("/p/acme/components/" + strconv.FormatInt(f.components[1].ID, 10) + "/badge.svg")
	if comp.Title != "Component 02: operational" || comp.Rects[1].Fill != "#4c1" {
		t.Errorf("component badge: %q %+v, want the component's name and shields brightgreen", comp.Title, comp.Rects)
	}
	if res := br.Get("/p/acme/components/999999/badge.svg"); res.Code != http.StatusNotFound {
		t.Errorf("unknown component: got %d, want 404", res.Code)
	}

	for path, want := range map[string]map[string]any{
		"/p/acme/badge.json": {"schemaVersion": 1.0, "label": "status", "message": "partial outage", "color": "orange"},
		"/p/acme/components/" + strconv.FormatInt(f.components[0].ID, 10) + "/badge.json": {"schemaVersion": 1.0, "label": "Media",
			"message": "partial outage", "color": "orange"},
	} {
		res := br.Get(path)
		var doc map[string]any
		if err := json.Unmarshal([]byte(res.Body), &doc); err != nil {
			t.Fatalf("%s: %v (%d)", path, err, res.Code)
		}
		if len(doc) != len(want) {
			t.Errorf("%s: keys %v, want exactly schemaVersion, label, message, color", path, keySet(doc))
		}
		for k, v := range want {
			if doc[k] != v {
				t.Errorf("%s: %s = %v, want %v", path, k, doc[k], v)
			}
		}
	}
}
