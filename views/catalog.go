package views

import (
	"fmt"
	"strings"

	"github.com/a-h/templ"
)

// CatalogForm is a console form for one page, component or check: its
// values and the mistakes found in them, both by configuration key
// ("url", "expect.status"), so each message shows beside its field.
type CatalogForm struct {
	Nav    AdminNav
	Page   PageOption // the page the object is on (for a new page: zero)
	Action string     // where the form posts
	Cancel string     // where "Cancel" goes
	Delete string     // where "Delete" posts; "" for a new object
	New    bool
	Values map[string]string
	Errors map[string]string // "" is a mistake about the form as a whole
	// Managed: a configuration file owns the object; the next apply
	// overwrites what is changed here.
	Managed bool
	// ManagedPage: a file owns the page; the next apply removes what is
	// added here unless the file names it.
	ManagedPage bool
	// Saved is the change just saved (a plan line), Warnings apply's
	// warnings about it, by key.
	Saved    string
	Warnings map[string]string
	// Choices for the form's selects.
	Components []Option
	Groups     []GroupRow
	Zones      []string
	// IntervalRange is the intervals a check may have here (check
	// form): "30s to 24h".
	IntervalRange string
	// GroupErrors are a group form's mistakes (page form), by group id
	// (0: the new group's form).
	GroupErrors map[int64]map[string]string
	GroupValues map[int64]map[string]string
	// Domain is the page's custom domain and how to prove it (page
	// form); nil without one.
	Domain *DomainClaim
}

// DomainClaim is a page's custom domain on its edit screen.
type DomainClaim struct {
	Domain string
	// RecordName and Token are the TXT record that proves the domain;
	// FileURL the HTTP file that may instead.
	RecordName, Token, FileURL string
	VerifiedAt                 string // "" while pending
	VerifyURL                  string // where "Verify now" posts
	// Problem says why the last "Verify now" left it pending.
	Problem string
}

// Option is one choice of a select.
type Option struct {
	Value string
	Label string
}

// GroupRow is a component group on the page form.
type GroupRow struct {
	ID       int64
	Name     string
	Position string
	Managed  bool
}

func (f CatalogForm) value(key string) string { return f.Values[key] }

// fieldID is the id of a field's input; errorID of its message.
func fieldID(key string) string { return "f-" + strings.NewReplacer(".", "-", "_", "-").Replace(key) }
func errorID(key string) string { return "e-" + strings.NewReplacer(".", "-", "_", "-").Replace(key) }
func hintID(key string) string  { return "h-" + strings.NewReplacer(".", "-", "_", "-").Replace(key) }

// describedBy lists the ids describing a field: its hint and its error.
func (f CatalogForm) describedBy(key, hint string) string {
	var ids []string
	if hint != "" {
		ids = append(ids, hintID(key))
	}
	if f.Errors[key] != "" {
		ids = append(ids, errorID(key))
	}
	return strings.Join(ids, " ")
}

func (f CatalogForm) invalid(key string) string {
	if f.Errors[key] != "" {
		return "true"
	}
	return "false"
}

func groupFieldValue(f CatalogForm, id int64, key, fallback string) string {
	if v, ok := f.GroupValues[id][key]; ok {
		return v
	}
	return fallback
}

func groupError(f CatalogForm, id int64, key string) string { return f.GroupErrors[id][key] }

func groupURL(pageID, id int64) templ.SafeURL {
	return templ.SafeURL(fmt.Sprintf("/admin/pages/%d/groups/%d", pageID, id))
}
func groupDeleteURL(pageID, id int64) templ.SafeURL {
	return templ.SafeURL(fmt.Sprintf("/admin/pages/%d/groups/%d/delete", pageID, id))
}
func groupsURL(pageID int64) templ.SafeURL {
	return templ.SafeURL(fmt.Sprintf("/admin/pages/%d/groups", pageID))
}
func pageEditURL(id int64) templ.SafeURL {
	return templ.SafeURL(fmt.Sprintf("/admin/pages/%d/edit", id))
}
func componentNewURL(pageID int64) templ.SafeURL {
	return templ.SafeURL(fmt.Sprintf("/admin/pages/%d/components/new", pageID))
}
func componentEditURL(id int64) templ.SafeURL {
	return templ.SafeURL(fmt.Sprintf("/admin/components/%d/edit", id))
}
func checkNewURL(pageID, componentID int64) templ.SafeURL {
	if componentID == 0 {
		return templ.SafeURL(fmt.Sprintf("/admin/pages/%d/checks/new", pageID))
	}
	return templ.SafeURL(fmt.Sprintf("/admin/pages/%d/checks/new?component=%d", pageID, componentID))
}
func checkEditURL(id int64) templ.SafeURL {
	return templ.SafeURL(fmt.Sprintf("/admin/checks/%d/edit", id))
}

// AutoIncidentChoices and PublicDetailChoices are the page settings'
// values, worded.
var (
	AutoIncidentChoices = []Option{{"publish", "publish (public at once)"}, {"draft", "draft (editors publish it)"}, {"off", "off (none)"}}
	PublicDetailChoices = []Option{{"plain", "plain"}, {"technical", "technical (nodes, URLs, codes)"}}
	TLSVersionChoices   = []Option{{"", "any"}, {"1.0", "TLS 1.0"}, {"1.1", "TLS 1.1"}, {"1.2", "TLS 1.2"}, {"1.3", "TLS 1.3"}}
)

// tlsOpen unfolds the TLS settings when any is set or wrong.
func (f CatalogForm) tlsOpen() bool {
	for k, v := range f.Values {
		if strings.HasPrefix(k, "tls.") && v != "" {
			return true
		}
	}
	for k := range f.Errors {
		if strings.HasPrefix(k, "tls.") {
			return true
		}
	}
	return false
}

func groupOptions(gs []GroupRow) []Option {
	out := make([]Option, 0, len(gs))
	for _, g := range gs {
		out = append(out, Option{Value: fmt.Sprint(g.ID), Label: g.Name})
	}
	return out
}

func rowsText(n int) string { return fmt.Sprint(n) }

func boolText(b bool) string { return fmt.Sprint(b) }
