package views

import (
	"fmt"
	"time"

	"github.com/a-h/templ"
)

// MaintenanceRow is a maintenance window in the console's list.
type MaintenanceRow struct {
	ID         int64
	PageID     int64
	PageTitle  string
	Name       string
	When       string // "0 8 * * THU for 2h (Europe/Berlin)" or the one-off span
	Components string
	Next       string
	Status     string
}

// MaintenanceListData is the console's maintenance list.
type MaintenanceListData struct {
	Nav     AdminNav
	Pages   []PageOption
	Windows []MaintenanceRow
}

// MaintenanceForm is what the maintenance form submits.
type MaintenanceForm struct {
	Name       string
	Body       string
	Kind       string // "once" or "recurring"
	Start, End string // datetime-local in TimeZone
	Schedule   string
	Duration   string
	TimeZone   string
	Components map[int64]bool
}

// OccurrenceView is one run of a window, in the window's zone; the <time>
// element lets the browser show it in the viewer's zone too.
type OccurrenceView struct {
	Start, End time.Time
	Local      string // in the page's zone, zone named
}

// MaintenanceFormData is the new-maintenance form.
type MaintenanceFormData struct {
	Nav        AdminNav
	Page       PageOption
	Form       MaintenanceForm
	Components []ComponentChoice
	Zones      []string
	Next       []OccurrenceView // shown once "Show next runs" was pressed
	Previewed  bool
	Error      string
}

func maintenanceDeleteURL(id int64) templ.SafeURL {
	return templ.SafeURL(fmt.Sprintf("/admin/maintenance/%d/delete", id))
}
func newMaintenanceURL(pageID int64) templ.SafeURL {
	return templ.SafeURL(fmt.Sprintf("/admin/maintenance/new?page=%d", pageID))
}
func componentFieldName(id int64) string { return fmt.Sprintf("component_%d", id) }
