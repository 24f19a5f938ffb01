package views

import (
	"fmt"

	"github.com/a-h/templ"
)

// AdminNav is what every console page's header needs.
type AdminNav struct {
	OrgName string
	Role    string
	CSRF    string
	CanEdit bool // editor or owner
	IsOwner bool
}

// AdminPage is a status page as the console lists it.
type AdminPage struct {
	ID         int64
	Slug       string
	Title      string
	Domain     string
	TimeZone   string
	Regions    string
	Components []AdminComponent
	Checks     []AdminCheck
}

// AdminComponent is a component as the console shows it.
type AdminComponent struct {
	ID          int64
	PageID      int64
	PageTitle   string
	Name        string
	Description string
	Status      string
	Checks      []AdminCheck
	// OpenIncidents of the page a hand-set status may be linked to.
	OpenIncidents []IncidentRow
}

// AdminCheck is a check as the console shows it.
type AdminCheck struct {
	ID            int64
	PageID        int64
	PageTitle     string
	ComponentID   int64
	ComponentName string
	Name          string
	URL           string
	Regions       string
	Interval      string
	Enabled       bool
	State         string
	Queued        bool // a "Run now" was just queued
}

// AdminToken is an API token as the console lists it (never the secret).
type AdminToken struct {
	ID       int64
	Name     string
	Prefix   string
	Role     string
	Created  string
	LastUsed string
	Revoked  string
}

// AdminHomeData is the console's start page.
type AdminHomeData struct {
	Nav    AdminNav
	Pages  []AdminPage
	Tokens []AdminToken
	// NewToken is a just-created token's secret, shown this once.
	NewToken     string
	NewTokenName string
	TokenError   string
}

// AuditRow is one line of the audit log page.
type AuditRow struct {
	When   string
	Actor  string
	Action string
	Target string
	Detail string
}

func pageURL(id int64) templ.SafeURL { return templ.SafeURL(fmt.Sprintf("/admin/pages/%d", id)) }
func componentURL(id int64) templ.SafeURL {
	return templ.SafeURL(fmt.Sprintf("/admin/components/%d", id))
}
func checkURL(id int64) templ.SafeURL { return templ.SafeURL(fmt.Sprintf("/admin/checks/%d", id)) }
func checkRunURL(id int64) templ.SafeURL {
	return templ.SafeURL(fmt.Sprintf("/admin/checks/%d/run", id))
}
func checkEnabledURL(id int64) templ.SafeURL {
	return templ.SafeURL(fmt.Sprintf("/admin/checks/%d/enabled", id))
}
func tokenRevokeURL(id int64) templ.SafeURL {
	return templ.SafeURL(fmt.Sprintf("/admin/tokens/%d/revoke", id))
}

func enabledText(b bool) string {
	if b {
		return "enabled"
	}
	return "paused"
}
