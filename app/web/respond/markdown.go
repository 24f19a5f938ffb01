package respond

import (
	"bytes"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
)

// Markdown renders incident text: goldmark without raw HTML (it is
// dropped, not passed through), then bluemonday's UGC policy as a second
// line of defence, so no script, event handler, javascript: link or raw HTML
// reaches a page whatever the text contains. The public pages and the
// console's preview use the same one.
type Markdown struct {
	md     goldmark.Markdown
	policy *bluemonday.Policy
}

// NewMarkdown builds the renderer; it is safe for concurrent use.
func NewMarkdown() *Markdown {
	p := bluemonday.UGCPolicy()
	p.AllowURLSchemes("http", "https", "mailto")
	p.RequireNoFollowOnLinks(true)
	p.RequireNoReferrerOnLinks(true)
	p.AllowRelativeURLs(false)
	return &Markdown{
		md:     goldmark.New(goldmark.WithExtensions(extension.Strikethrough, extension.Table, extension.Linkify)),
		policy: p,
	}
}

// HTML returns the sanitised HTML of src. Text that fails to render is
// shown escaped rather than dropped.
func (m *Markdown) HTML(src string) string {
	if src == "" {
		return ""
	}
	var b bytes.Buffer
	if err := m.md.Convert([]byte(src), &b); err != nil {
		return m.policy.Sanitize("<p>" + bluemonday.StrictPolicy().Sanitize(src) + "</p>")
	}
	return string(m.policy.SanitizeBytes(b.Bytes()))
}
