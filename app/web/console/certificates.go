package console

import (
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"pharos/app/store"
	"pharos/app/web/auth"
	"pharos/app/web/respond"
	"pharos/views"
)

// The certificate inventory: every certificate seen across checks, nodes
// and regions, filtered, and exported as CSV or JSON (the JSON is the
// admin API's GET /api/v1/certificates).

// Certificates lists the organisation's certificates a page (?page=N) at a
// time; ?expiring=N and ?filter=… narrow the list, ?format=csv|json
// downloads all of it.
func (s *Console) Certificates(c echo.Context) error {
	p, err := auth.MustPrincipal(c)
	if err != nil {
		return err
	}
	f, err := store.ParseCertFilter(c.QueryParam("expiring"), c.QueryParam("filter"))
	if fe := (*store.CertFilterError)(nil); errors.As(err, &fe) {
		return &respond.ValidationError{Field: fe.Field, Message: fe.Message}
	} else if err != nil {
		return err
	}
	ctx, now := c.Request().Context(), time.Now().UTC()
	switch format := c.QueryParam("format"); format {
	case "json", "csv": // every place of every certificate
		all, err := s.st.CertInventory(ctx, p.OrgID)
		if err != nil {
			return err
		}
		certs := store.FilterCerts(all, f, now)
		if format == "csv" {
			return writeCertCSV(c, certs, now)
		}
		c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="certificates.json"`)
		return c.JSON(http.StatusOK, store.ExportCerts(certs, now))
	case "", "html":
	default:
		return &respond.ValidationError{Field: "format", Message: "want csv or json"}
	}
	// The screen: a page of certificates, judged with the checks they were
	// seen on rather than the whole inventory.
	page, err := pageParam(c.QueryParam("page"))
	if err != nil {
		return err
	}
	cp, err := s.st.CertInventoryPage(ctx, p.OrgID, f, now, (page-1)*certPageSize, certPageSize)
	if err != nil {
		return err
	}
	d := views.CertificatesData{Nav: adminNav(p), Total: cp.Total, Filter: f.Kind, ExportQuery: exportQuery(f)}
	if f.ExpiringDays > 0 {
		d.Expiring = strconv.Itoa(f.ExpiringDays)
	}
	for _, ct := range cp.Certs {
		d.Certs = append(d.Certs, certRow(ct, now))
	}
	d.Matching = cp.Matching
	if len(cp.Certs) > 0 {
		d.First = (page-1)*certPageSize + 1
	}
	pageURL := func(n int) string {
		q := exportQuery(f)
		if q != "" {
			q += "&"
		}
		return "/admin/certificates?" + q + "page=" + strconv.Itoa(n)
	}
	if page > 1 {
		d.PrevURL = pageURL(page - 1)
	}
	if page*certPageSize < cp.Matching {
		d.NextURL = pageURL(page + 1)
	}
	return respond.Render(c, http.StatusOK, views.Certificates(respond.Layout(c, "Certificates"), d))
}

// certPageSize is how many certificates a page of the inventory lists:
// enough to read at a glance, few enough that a page of an organisation
// with thousands is judged and rendered in milliseconds.
const certPageSize = 100

// pageParam reads ?page=N (1 when absent).
func pageParam(v string) (int, error) {
	if v == "" {
		return 1, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 1_000_000 {
		return 0, &respond.ValidationError{Field: "page", Message: "want a page number from 1"}
	}
	return n, nil
}

// exportQuery is the filter as a query string the export links keep.
func exportQuery(f store.CertFilter) string {
	var q []string
	if f.ExpiringDays > 0 {
		q = append(q, "expiring="+strconv.Itoa(f.ExpiringDays))
	}
	if f.Kind != "" {
		q = append(q, "filter="+f.Kind)
	}
	return strings.Join(q, "&")
}

// certCSVHeader names the CSV export's columns, those of the JSON export
// with lists joined by spaces.
var certCSVHeader = []string{"sha256", "subject", "dns_names", "issuer", "serial", "not_before", "not_after", "days_left",
	"lifetime_used_percent", "served_now", "nodes_disagree", "renewal_overdue", "issuer_changed", "nodes", "regions", "checks",
	"first_seen", "last_seen"}

func writeCertCSV(c echo.Context, certs []store.InventoryCert, now time.Time) error {
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	h.Set(echo.HeaderContentDisposition, `attachment; filename="certificates.csv"`)
	c.Response().WriteHeader(http.StatusOK)
	w := csv.NewWriter(c.Response())
	if err := w.Write(certCSVHeader); err != nil {
		return fmt.Errorf("console: certificates csv: %w", err)
	}
	for _, ct := range certs {
		r := ct.Record(now)
		checks := map[string]bool{}
		var names []string
		for _, p := range r.Seen {
			if !checks[p.Check] {
				checks[p.Check] = true
				names = append(names, p.Check)
			}
		}
		row := []string{r.SHA256, r.Subject, strings.Join(r.DNSNames, " "), r.Issuer, r.Serial,
			r.NotBefore.Format(time.RFC3339), r.NotAfter.Format(time.RFC3339), strconv.Itoa(r.DaysLeft),
			strconv.FormatFloat(r.LifetimeUsed*100, 'f', 1, 64), strconv.FormatBool(r.ServedNow),
			strconv.FormatBool(r.NodesDisagree), strconv.FormatBool(r.RenewalOverdue), strconv.FormatBool(r.IssuerChanged),
			strings.Join(r.Nodes, " "), strings.Join(r.Regions, " "), strings.Join(names, "; "),
			r.FirstSeen.Format(time.RFC3339), r.LastSeen.Format(time.RFC3339)}
		for _, i := range []int{1, 2, 3, 4, 13, 14, 15} { // the text the servers and operators chose
			row[i] = csvSafe(row[i])
		}
		if err := w.Write(row); err != nil {
			return fmt.Errorf("console: certificates csv: %w", err)
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return fmt.Errorf("console: certificates csv: %w", err)
	}
	return nil
}

// csvSafe keeps a spreadsheet from reading a cell as a formula: a
// certificate's subject is whatever its server chose.
func csvSafe(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}
