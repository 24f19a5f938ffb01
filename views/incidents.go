package views

import (
	"fmt"

	"github.com/a-h/templ"
)

// Incident statuses a person may choose, in order, and the impacts.
var (
	IncidentStatuses   = []string{"investigating", "identified", "monitoring", "resolved"}
	IncidentImpacts    = []string{"none", "minor", "major", "critical"}
	ComponentStatuses  = []string{"operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance"}
	componentStatusTxt = map[string]string{
		"operational": "Operational", "degraded_performance": "Degraded performance", "partial_outage": "Partial outage",
		"major_outage": "Major outage", "under_maintenance": "Under maintenance",
	}
)

// StatusLabel words a component status for people.
func StatusLabel(status string) string {
	if t, ok := componentStatusTxt[status]; ok {
		return t
	}
	return status
}

// PageOption is a status page in a chooser.
type PageOption struct {
	ID    int64
	Title string
	Slug  string
}

// IncidentRow is an incident in the console's list.
type IncidentRow struct {
	ID        int64
	PageTitle string
	Name      string
	Status    string
	Impact    string
	Started   string
	Automatic bool
	Draft     bool
}

// IncidentListData is the console's incident list.
type IncidentListData struct {
	Nav    AdminNav
	Pages  []PageOption
	Drafts []IncidentRow
	Open   []IncidentRow
	Recent []IncidentRow
}

// ComponentChoice is one component in a composer: its status now and the
// status the form sets ("" leaves it unaffected).
type ComponentChoice struct {
	ID      int64
	Name    string
	Current string
	Chosen  string
}

// TemplateOption is an incident template in the composer's chooser.
type TemplateOption struct {
	ID   int64
	Name string
}

// IncidentForm is what the composer submits.
type IncidentForm struct {
	Name      string
	Status    string
	Impact    string // "" derives it from the components
	Body      string
	Notify    bool
	StartedAt string // datetime-local in the page's zone; "" is now
}

// ComposerData is the new-incident form.
type ComposerData struct {
	Nav        AdminNav
	Page       PageOption
	TimeZone   string
	Templates  []TemplateOption
	Form       IncidentForm
	Components []ComponentChoice
	// PreviewHTML is the body rendered by the public page's sanitiser.
	PreviewHTML string
	Error       string
}

// AdminAffected is what one update did to one component.
type AdminAffected struct {
	Name      string
	OldStatus string
	NewStatus string
}

// AdminUpdateView is one entry of the console's incident timeline.
type AdminUpdateView struct {
	ID        int64
	Status    string
	Body      string
	BodyHTML  string
	At        string
	Edited    string
	Notified  bool
	Affected  []AdminAffected
	Technical string
}

// IncidentDetailData is the console's view of one incident.
type IncidentDetailData struct {
	Nav            AdminNav
	ID             int64
	Page           PageOption
	Name           string
	Status         string
	Impact         string
	Started        string
	Resolved       string
	Automatic      bool
	Draft          bool
	Postmortem     string
	PostmortemHTML string
	Updates        []AdminUpdateView
	Components     []ComponentChoice
	Form           IncidentForm // the next update
	PreviewHTML    string
	Error          string
}

// TemplateData is a page's incident templates.
type TemplateData struct {
	Nav        AdminNav
	Page       PageOption
	Templates  []TemplateView
	Components []ComponentChoice
	Form       TemplateView
	Error      string
}

// TemplateView is one incident template.
type TemplateView struct {
	ID     int64
	Name   string
	Title  string
	Body   string
	Status string
	Impact string
}

func incidentURL(id int64) templ.SafeURL {
	return templ.SafeURL(fmt.Sprintf("/admin/incidents/%d", id))
}
func incidentActionURL(id int64, action string) templ.SafeURL {
	return templ.SafeURL(fmt.Sprintf("/admin/incidents/%d/%s", id, action))
}
func updateEditURL(incidentID, updateID int64) templ.SafeURL {
	return templ.SafeURL(fmt.Sprintf("/admin/incidents/%d/updates/%d", incidentID, updateID))
}
func newIncidentURL(pageID int64) templ.SafeURL {
	return templ.SafeURL(fmt.Sprintf("/admin/incidents/new?page=%d", pageID))
}
func templatesURL(pageID int64) templ.SafeURL {
	return templ.SafeURL(fmt.Sprintf("/admin/pages/%d/templates", pageID))
}
func templateDeleteURL(pageID, id int64) templ.SafeURL {
	return templ.SafeURL(fmt.Sprintf("/admin/pages/%d/templates/%d/delete", pageID, id))
}
func componentStatusURL(id int64) templ.SafeURL {
	return templ.SafeURL(fmt.Sprintf("/admin/components/%d/status", id))
}
func statusFieldName(componentID int64) string { return fmt.Sprintf("component_%d", componentID) }

func publicIncidentURL(slug string, id int64) templ.SafeURL {
	return templ.SafeURL(fmt.Sprintf("/p/%s/incidents/%d", slug, id))
}
