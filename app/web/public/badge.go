package public

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"pharos/app/incident"
	"pharos/app/store"
)

// Status badges in shields.io's look (flat by default; ?style=flat-square
// or for-the-badge; ?label= replaces the label), the same status as a
// shields.io endpoint document (badge.json) so people can restyle it with
// shields itself, and the same for one component.

// shields.io's named colours, by the name its endpoint documents accept.
var shieldsColours = map[string]string{
	"brightgreen": "#4c1", "green": "#97ca00", "yellow": "#dfb317", "yellowgreen": "#a4a61d",
	"orange": "#fe7d37", "red": "#e05d44", "blue": "#007ec6", "grey": "#555", "lightgrey": "#9f9f9f",
}

const badgeLabelColour = "#555"

// maxBadgeLabel bounds ?label= (runes): it is part of a cache key.
const maxBadgeLabel = 64

// pageBadge is the page's overall status as badge text and shields colour.
func pageBadge(indicator string) (message, colour string) {
	switch indicator {
	case "minor":
		return "degraded", "yellow"
	case "major":
		return "partial outage", "orange"
	case "critical":
		return "major outage", "red"
	case "maintenance":
		return "maintenance", "blue"
	}
	return "operational", "brightgreen"
}

// componentBadge is a component status as badge text and shields colour.
func componentBadge(status string) (message, colour string) {
	switch status {
	case incident.DegradedPerformance:
		return "degraded performance", "yellow"
	case incident.PartialOutage:
		return "partial outage", "orange"
	case incident.MajorOutage:
		return "major outage", "red"
	case incident.UnderMaintenance:
		return "under maintenance", "blue"
	}
	return "operational", "brightgreen"
}

// badgeQuery reads ?style= (unknown styles are flat, as on shields) and
// ?label= (present and empty: no label part).
func badgeQuery(c echo.Context, defaultLabel string) (style, label string, err error) {
	style = c.QueryParam("style")
	if style != "flat-square" && style != "for-the-badge" {
		style = "flat"
	}
	label = defaultLabel
	if v, ok := c.QueryParams()["label"]; ok {
		label = v[0]
	}
	if utf8.RuneCountInString(label) > maxBadgeLabel || !utf8.ValidString(label) {
		return "", "", echo.NewHTTPError(400, "label: at most 64 characters")
	}
	return style, label, nil
}

// Badge serves the page's status badge (SVG).
func (s *Site) Badge(c echo.Context) error {
	style, label, err := badgeQuery(c, "status")
	if err != nil {
		return err
	}
	return s.servePublic(c, "badge:"+style+":"+label, func(_ context.Context, st *pageState, _ publicReq) (*rendered, error) {
		msg, colour := pageBadge(st.snap.overallStatus().Indicator)
		return newRendered(renderBadge(style, label, msg, colour), "image/svg+xml", badgeCacheControl), nil
	})
}

// BadgeJSON serves the page's status as a shields.io endpoint document.
func (s *Site) BadgeJSON(c echo.Context) error {
	_, label, err := badgeQuery(c, "status")
	if err != nil {
		return err
	}
	return s.servePublic(c, "badge.json:"+label, func(_ context.Context, st *pageState, _ publicReq) (*rendered, error) {
		msg, colour := pageBadge(st.snap.overallStatus().Indicator)
		return shieldsEndpoint(label, msg, colour)
	})
}

// ComponentBadge serves one component's status badge (SVG); its label is
// the component's name.
func (s *Site) ComponentBadge(c echo.Context) error { return s.componentBadge(c, false) }

// ComponentBadgeJSON serves one component's status as a shields.io
// endpoint document.
func (s *Site) ComponentBadgeJSON(c echo.Context) error { return s.componentBadge(c, true) }

func (s *Site) componentBadge(c echo.Context, asJSON bool) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return store.ErrNotFound
	}
	style, label, err := badgeQuery(c, "\x00") // NUL: the component's name
	if err != nil {
		return err
	}
	key := fmt.Sprintf("component-badge:%d:%t:%s:%s", id, asJSON, style, label)
	return s.servePublic(c, key, func(_ context.Context, st *pageState, _ publicReq) (*rendered, error) {
		cs := st.snap.componentsByID([]int64{id})
		if len(cs) == 0 {
			return nil, store.ErrNotFound
		}
		if label == "\x00" {
			label = cs[0].Name
		}
		msg, colour := componentBadge(cs[0].Status)
		if asJSON {
			return shieldsEndpoint(label, msg, colour)
		}
		return newRendered(renderBadge(style, label, msg, colour), "image/svg+xml", badgeCacheControl), nil
	})
}

// shieldsEndpoint is shields.io's endpoint document (schemaVersion 1).
func shieldsEndpoint(label, message, colour string) (*rendered, error) {
	body, err := json.Marshal(struct {
		SchemaVersion int    `json:"schemaVersion"`
		Label         string `json:"label"`
		Message       string `json:"message"`
		Color         string `json:"color"`
	}{1, label, message, colour})
	if err != nil {
		return nil, err
	}
	return newRendered(body, "application/json", badgeCacheControl), nil
}

// renderBadge draws a badge as shields.io's badge-maker does: text widths
// from Verdana's advance widths, 5 px padding (flat, flat-square) or 12 px
// (for-the-badge, upper case, 10 px, letter-spaced), white text with a
// shadow on the flat style.
func renderBadge(style, label, message, colour string) []byte {
	hex := shieldsColours[colour]
	if hex == "" {
		hex = colour
	}
	esc := html.EscapeString
	aria := message
	if label != "" {
		aria = label + ": " + message
	}
	var b strings.Builder
	if style == "for-the-badge" {
		label, message = strings.ToUpper(label), strings.ToUpper(message)
		lt, mt := spacedWidth(label, 10, 1.25), spacedWidth(message, 10, 1.25)
		lw, mw := 0, mt+24
		if label != "" {
			lw = lt + 24
		}
		fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="28" role="img" aria-label="%s"><title>%s</title>`,
			lw+mw, esc(aria), esc(aria))
		fmt.Fprintf(&b, `<g shape-rendering="crispEdges"><rect width="%d" height="28" fill="%s"/><rect x="%d" width="%d" height="28" fill="%s"/></g>`,
			lw, badgeLabelColour, lw, mw, hex)
		fmt.Fprintf(&b, `<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" text-rendering="geometricPrecision" font-size="100">`)
		if label != "" {
			fmt.Fprintf(&b, `<text transform="scale(.1)" x="%d" y="175" textLength="%d" fill="#fff">%s</text>`, 5*lw, 10*lt, esc(label))
		}
		fmt.Fprintf(&b, `<text transform="scale(.1)" x="%d" y="175" textLength="%d" fill="%s" font-weight="bold">%s</text></g></svg>`,
			10*lw+5*mw, 10*mt, textColour(hex), esc(message))
		return []byte(b.String())
	}
	lt, mt := textWidth(label), textWidth(message)
	lw, mw := 0, mt+10
	if label != "" {
		lw = lt + 10
	}
	w := lw + mw
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="20" role="img" aria-label="%s"><title>%s</title>`, w, esc(aria), esc(aria))
	flat := style == "flat"
	if flat {
		fmt.Fprintf(&b, `<linearGradient id="s" x2="0" y2="100%%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>`+
			`<clipPath id="r"><rect width="%d" height="20" rx="3" fill="#fff"/></clipPath><g clip-path="url(#r)">`, w)
	} else {
		b.WriteString(`<g shape-rendering="crispEdges">`)
	}
	fmt.Fprintf(&b, `<rect width="%d" height="20" fill="%s"/><rect x="%d" width="%d" height="20" fill="%s"/>`, lw, badgeLabelColour, lw, mw, hex)
	if flat {
		fmt.Fprintf(&b, `<rect width="%d" height="20" fill="url(#s)"/>`, w)
	}
	b.WriteString(`</g><g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" text-rendering="geometricPrecision" font-size="110">`)
	text := func(x, width int, s, fill string) {
		if flat {
			shadow := "#010101"
			if fill != "#fff" {
				shadow = "#ccc"
			}
			fmt.Fprintf(&b, `<text aria-hidden="true" x="%d" y="150" fill="%s" fill-opacity=".3" transform="scale(.1)" textLength="%d">%s</text>`,
				x, shadow, 10*width, esc(s))
		}
		fmt.Fprintf(&b, `<text x="%d" y="140" transform="scale(.1)" fill="%s" textLength="%d">%s</text>`, x, fill, 10*width, esc(s))
	}
	if label != "" {
		text(10*(1+5)+5*lt, lt, label, textColour(badgeLabelColour))
	}
	margin := lw - 1
	if label == "" {
		margin = 1
	}
	text(10*(margin+5)+5*mt, mt, message, textColour(hex))
	b.WriteString(`</g></svg>`)
	return []byte(b.String())
}

// textColour is shields' choice of text colour for a background: white
// unless the background is light.
func textColour(hex string) string {
	h := strings.TrimPrefix(hex, "#")
	if len(h) == 3 {
		h = string([]byte{h[0], h[0], h[1], h[1], h[2], h[2]})
	}
	v, err := strconv.ParseUint(h, 16, 32)
	if err != nil || len(h) != 6 {
		return "#fff"
	}
	r, g, bl := float64(v>>16&0xff), float64(v>>8&0xff), float64(v&0xff)
	if (r*299+g*587+bl*114)/255000 > 0.69 {
		return "#333"
	}
	return "#fff"
}

// textWidth is s's width in pixels in 11 px Verdana, rounded as
// badge-maker does (truncated, then up to an odd number, which keeps the
// text on the pixel grid).
func textWidth(s string) int {
	if s == "" {
		return 0
	}
	return roundUpToOdd(int(verdanaEm(s) * 11))
}

// spacedWidth is s's width at size px with letter spacing (for-the-badge;
// its bold message is about 10 % wider).
func spacedWidth(s string, size, spacing float64) int {
	if s == "" {
		return 0
	}
	return roundUpToOdd(int(verdanaEm(s)*size*1.1 + spacing*float64(utf8.RuneCountInString(s))))
}

func roundUpToOdd(n int) int {
	if n%2 == 0 {
		return n + 1
	}
	return n
}

// verdanaEm sums Verdana's advance widths (in em) over s.
func verdanaEm(s string) float64 {
	total := 0
	for _, r := range s {
		switch {
		case r >= ' ' && r <= '~':
			total += verdanaASCII[r-' ']
		case r >= 0x2E80: // CJK and beyond: full width
			total += 1000
		default:
			total += 636 // a digit's width: a fair guess for Latin letters with marks
		}
	}
	return float64(total) / 1000
}

// verdanaASCII is Verdana's advance width of each printable ASCII
// character, space to tilde, in thousandths of an em (the font's hmtx
// table over its 2048 units per em).
var verdanaASCII = [95]int{
	352, 394, 459, 818, 636, 1076, 727, 269, 454, 454, 636, 818, 364, 454, 364, 454, // space to /
	636, 636, 636, 636, 636, 636, 636, 636, 636, 636, // 0 to 9
	454, 454, 818, 818, 818, 545, 1000, // : to @
	684, 686, 698, 771, 632, 575, 775, 751, 421, 455, 693, 557, 843, 748, 787, 603, 787, 695, 684, 616, 732, 684, 989, 685, 615, 685, // A to Z
	454, 454, 454, 818, 636, 636, // [ to `
	601, 623, 521, 623, 596, 352, 623, 633, 274, 344, 592, 274, 973, 633, 607, 623, 623, 427, 521, 394, 633, 592, 818, 592, 592, 525, // a to z
	635, 454, 635, 818, // { to ~
}
