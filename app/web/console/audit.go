package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"pharos/app/store"
	"pharos/app/web/auth"
	"pharos/app/web/respond"
	"pharos/views"
)

// auditPageSize is how many entries one page of the audit log shows.
const auditPageSize = 100

// AuditLog shows the organisation's audit log, newest first, filtered by
// who, what (an action prefix) and when (from/to, whole UTC days), with
// ids in targets and details turned into names. Every role may read it.
func (s *Console) AuditLog(c echo.Context) error {
	p, err := auth.MustPrincipal(c)
	if err != nil {
		return err
	}
	q := c.QueryParams()
	form := views.AuditFilterForm{Who: strings.TrimSpace(q.Get("who")), Action: strings.TrimSpace(q.Get("action")),
		From: strings.TrimSpace(q.Get("from")), To: strings.TrimSpace(q.Get("to"))}
	data := views.AuditData{Nav: adminNav(p), Filter: form}
	f, msg := auditFilter(form, q.Get("before"))
	if msg != "" {
		data.Error = msg
		return respond.Render(c, http.StatusUnprocessableEntity, views.AuditLog(respond.Layout(c, "Audit log"), data))
	}
	ctx := c.Request().Context()
	page, err := s.st.AuditEntries(ctx, p.OrgID, f)
	if err != nil {
		return err
	}
	var refs []store.AuditRef
	details := make([]map[string]any, len(page.Entries))
	for i, e := range page.Entries {
		if r, ok := store.TargetRef(e.Target); ok {
			refs = append(refs, r)
		}
		details[i] = decodeDetail(e.Detail)
		for k, v := range details[i] {
			if kind := store.DetailRefKind(k); kind != "" {
				for _, id := range detailIDs(v) {
					refs = append(refs, store.AuditRef{Kind: kind, ID: id})
				}
			}
		}
	}
	names, err := s.st.AuditNames(ctx, p.OrgID, refs)
	if err != nil {
		return err
	}
	for i, e := range page.Entries {
		data.Rows = append(data.Rows, views.AuditRow{When: e.CreatedAt.Format("2006-01-02 15:04:05"), Actor: e.Actor,
			Action: e.Action, Target: auditTarget(e.Target, names), Detail: auditDetail(e.Detail, details[i], names)})
	}
	if page.Next != 0 {
		data.OlderURL = auditURL(form, page.Next)
	}
	if f.Before != 0 {
		data.NewestURL = auditURL(form, 0)
	}
	return respond.Render(c, http.StatusOK, views.AuditLog(respond.Layout(c, "Audit log"), data))
}

// auditFilter reads the filter form; msg says what is wrong with it.
func auditFilter(form views.AuditFilterForm, before string) (f store.AuditFilter, msg string) {
	f = store.AuditFilter{Who: form.Who, Action: form.Action, Limit: auditPageSize}
	if len(form.Who) > 200 || len(form.Action) > 100 {
		return f, "The who and what filters are too long."
	}
	day := func(s, field string) (time.Time, string) {
		if s == "" {
			return time.Time{}, ""
		}
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return time.Time{}, fmt.Sprintf("%s: %q is not a date; use YYYY-MM-DD.", field, s)
		}
		return t, ""
	}
	if f.From, msg = day(form.From, "From"); msg != "" {
		return f, msg
	}
	if f.To, msg = day(form.To, "To"); msg != "" {
		return f, msg
	}
	if !f.To.IsZero() {
		f.To = f.To.AddDate(0, 0, 1) // "to" names a whole day
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return f, "From must not be after To."
	}
	if before != "" {
		n, err := strconv.ParseInt(before, 10, 64)
		if err != nil || n <= 0 {
			return f, "That page of the log does not exist; start from the newest entries."
		}
		f.Before = n
	}
	return f, ""
}

// auditURL is the log with the same filters, from before (0: the newest).
func auditURL(form views.AuditFilterForm, before int64) string {
	v := url.Values{}
	for k, s := range map[string]string{"who": form.Who, "action": form.Action, "from": form.From, "to": form.To} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if before != 0 {
		v.Set("before", strconv.FormatInt(before, 10))
	}
	if len(v) == 0 {
		return "/admin/audit"
	}
	return "/admin/audit?" + v.Encode()
}

// auditScreens are the objects with a console screen of their own.
var auditScreens = map[string]string{
	"check": "/admin/checks/%d", "component": "/admin/components/%d", "page": "/admin/pages/%d", "incident": "/admin/incidents/%d",
}

func auditTarget(target string, names map[store.AuditRef]string) views.AuditTarget {
	t := views.AuditTarget{Text: target}
	r, ok := store.TargetRef(target)
	if !ok {
		return t
	}
	t.Name = names[r]
	if pattern, ok := auditScreens[r.Kind]; ok && t.Name != "" {
		t.URL = fmt.Sprintf(pattern, r.ID)
	}
	return t
}

// decodeDetail reads a detail object; nil when it is not one.
func decodeDetail(raw json.RawMessage) map[string]any {
	var m map[string]any
	d := json.NewDecoder(strings.NewReader(string(raw)))
	d.UseNumber()
	if d.Decode(&m) != nil {
		return nil
	}
	return m
}

// detailIDs reads an id or a list of ids.
func detailIDs(v any) []int64 {
	var ids []int64
	add := func(x any) {
		if n, ok := x.(json.Number); ok {
			if id, err := n.Int64(); err == nil && id > 0 {
				ids = append(ids, id)
			}
		}
	}
	if list, ok := v.([]any); ok {
		for _, x := range list {
			add(x)
		}
	} else {
		add(v)
	}
	return ids
}

// auditDetail lists a detail's keys in order, strings as they are and
// other values as JSON, with names beside ids.
func auditDetail(raw json.RawMessage, m map[string]any, names map[store.AuditRef]string) []views.AuditDetail {
	if m == nil {
		if s := strings.TrimSpace(string(raw)); s != "" && s != "null" {
			return []views.AuditDetail{{Key: "detail", Value: s}}
		}
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]views.AuditDetail, 0, len(keys))
	for _, k := range keys {
		d := views.AuditDetail{Key: k}
		if s, ok := m[k].(string); ok {
			d.Value = s
		} else if b, err := json.Marshal(m[k]); err == nil {
			d.Value = string(b)
		}
		if kind := store.DetailRefKind(k); kind != "" {
			var ns []string
			for _, id := range detailIDs(m[k]) {
				if n := names[store.AuditRef{Kind: kind, ID: id}]; n != "" {
					ns = append(ns, n)
				}
			}
			d.Name = strings.Join(ns, ", ")
		}
		out = append(out, d)
	}
	return out
}
