package checkcmd

import (
	"fmt"
	"io"
	"math"
	"net"
	"strconv"
	"strings"
	"time"

	"pharos/probes"
)

// The first line of the human output follows the monitoring plugins'
// output format (https://www.monitoring-plugins.org/doc/guidelines.html),
// so Nagios, Icinga, Naemon and Sensu run `pharos check` unchanged:
//
//	PHAROS CRITICAL - cert_expired: certificate for … expired … | time=0.182s;;;0;10 tls_days_left=-1.25;30:;7:
//
// The detailed summary follows on later lines (the plugin's long output).

// serviceName is the plugin's name in its status line.
const serviceName = "PHAROS"

// stateWord is the status word for an exit status.
func stateWord(exit int) string {
	switch exit {
	case exitUp:
		return "OK"
	case exitDegraded:
		return "WARNING"
	case exitDown:
		return "CRITICAL"
	}
	return "UNKNOWN"
}

// writeUnknown prints the status line of a check that could not be
// carried out: a bad flag, a bad URL, an internal error.
func writeUnknown(w io.Writer, reason string) {
	fmt.Fprintf(w, "%s UNKNOWN - %s\n", serviceName, oneLine(reason))
}

// writeStatusLine prints the first line for a result whose exit status is
// exit, with its performance data.
func writeStatusLine(w io.Writer, r probes.Result, exit int, th thresholdFlags, timeout time.Duration) {
	fmt.Fprintf(w, "%s %s - %s | %s\n", serviceName, stateWord(exit), oneLine(reason(r)), strings.Join(perfdata(r, th, timeout), " "))
}

// reason says in one line why the result is what it is: the most severe
// problem (and how many more there are), or what answered when all is well.
func reason(r probes.Result) string {
	if r.Error != "" {
		return r.Error
	}
	var worst *probes.Problem
	count := 0
	for i, p := range r.Problems {
		if p.Severity == probes.SeverityInfo {
			continue
		}
		count++
		if worst == nil || rank(p.Severity) > rank(worst.Severity) {
			worst = &r.Problems[i]
		}
	}
	if worst != nil {
		s := string(worst.Code) + ": " + worst.Message
		if count > 1 {
			s += fmt.Sprintf(" (+%d more)", count-1)
		}
		return s
	}
	return upReason(r)
}

func rank(s probes.Severity) int {
	switch s {
	case probes.SeverityCritical:
		return 2
	case probes.SeverityWarning:
		return 1
	}
	return 0
}

// upReason describes a healthy result: who answered, and the nearest
// certificate expiry.
func upReason(r probes.Result) string {
	var b strings.Builder
	b.WriteString(r.URL)
	switch len(r.Nodes) {
	case 0:
		b.WriteString(" answered")
	case 1:
		fmt.Fprintf(&b, " answered HTTP %d in %d ms", r.Nodes[0].StatusCode, r.Nodes[0].Timings.Total)
	default:
		fmt.Fprintf(&b, ": %d nodes answered in %d ms", len(r.Nodes), r.DurationMS)
	}
	soonest := -1
	for _, n := range r.Nodes {
		if n.TLS != nil && (soonest < 0 || n.TLS.Leaf.DaysLeft < soonest) {
			soonest = n.TLS.Leaf.DaysLeft
		}
	}
	if soonest >= 0 {
		fmt.Fprintf(&b, ", certificate expires in %s", plural(soonest, "day"))
	}
	return b.String()
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

// oneLine makes s safe for the status line: no line breaks, and no "|",
// which would start the performance data.
func oneLine(s string) string {
	return strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ", "|", "¦").Replace(s)
}

// thresholdFlags are the --warn-days and --critical-days of the command
// line as the Spec holds them: 0 unset (the lifetime-scaled default),
// negative disabled, positive explicit.
type thresholdFlags struct{ warnDays, criticalDays int }

// effective returns the days-left thresholds at which a leaf valid for
// lifetime turns the check WARNING and CRITICAL, 0 for none. The warning
// point is the earlier of cert_expiring and cert_renewal_overdue (2/3 of
// the lifetime used), since either makes the plugin WARNING; the
// thresholds are the probe's own (probes.ExpiryThresholds).
func (f thresholdFlags) effective(lifetime time.Duration) (warn, crit time.Duration) {
	t := probes.ExpiryThresholds(lifetime, f.warnDays, f.criticalDays)
	return max(t.Warn, t.Overdue), t.Critical
}

// perfdata lists the result's performance data:
//
//	time=<s>s;;;0;<timeout>            the whole probe
//	tls_days_left=<days>;<warn>;<crit>  the leaf's time left (one node)
//
// With several nodes, each gets 'time_<node>' and 'tls_days_left_<node>'.
// Days left are fractional (short-lived certificates count in hours), and
// the thresholds are ranges "N:" — alert below N — as the guidelines'
// range format requires ("N" alone would mean alert above N).
func perfdata(r probes.Result, th thresholdFlags, timeout time.Duration) []string {
	out := []string{perf("time", seconds(time.Duration(r.DurationMS)*time.Millisecond)+"s", "", "", "0", seconds(timeout))}
	labels := nodeLabels(r.Nodes)
	for i, n := range r.Nodes {
		if len(r.Nodes) > 1 {
			out = append(out, perf("time_"+labels[i], seconds(time.Duration(n.Timings.Total)*time.Millisecond)+"s", "", "", "0", seconds(timeout)))
		}
		if n.TLS == nil || n.TLS.Leaf.NotAfter.IsZero() {
			continue
		}
		leaf := n.TLS.Leaf
		warn, crit := th.effective(leaf.NotAfter.Sub(leaf.NotBefore))
		label := "tls_days_left"
		if len(r.Nodes) > 1 {
			label += "_" + labels[i]
		}
		out = append(out, perf(label, inDays(leaf.NotAfter.Sub(r.CheckedAt)), below(warn), below(crit), "", ""))
	}
	return out
}

// perf formats one 'label'=value[UOM];[warn];[crit];[min];[max], dropping
// trailing empty fields as the guidelines allow.
func perf(label, value string, fields ...string) string {
	for len(fields) > 0 && fields[len(fields)-1] == "" {
		fields = fields[:len(fields)-1]
	}
	return strings.Join(append([]string{quoteLabel(label) + "=" + value}, fields...), ";")
}

// quoteLabel puts a label in single quotes unless it is plain letters,
// digits and underscores; a quote inside is doubled.
func quoteLabel(l string) string {
	for _, c := range l {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return "'" + strings.ReplaceAll(l, "'", "''") + "'"
		}
	}
	return l
}

// nodeLabels names each node for its labels: its address without the port
// when all nodes share one port, the whole address otherwise.
func nodeLabels(nodes []probes.NodeResult) []string {
	hosts := make([]string, len(nodes))
	ports := map[string]bool{}
	for i, n := range nodes {
		host, port, err := net.SplitHostPort(n.Address)
		if err != nil {
			host, port = n.Address, ""
		}
		hosts[i] = host
		ports[port] = true
	}
	if len(ports) <= 1 {
		return hosts
	}
	labels := make([]string, len(nodes))
	for i, n := range nodes {
		labels[i] = n.Address
	}
	return labels
}

// seconds writes d in seconds, to the millisecond ("0.182", "10").
func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Round(time.Millisecond).Seconds(), 'f', -1, 64)
}

// inDays writes d in days, to two decimals at most ("88.99", "21", "0.25").
func inDays(d time.Duration) string {
	return strconv.FormatFloat(math.Round(d.Hours()/24*100)/100, 'f', -1, 64)
}

// below is the range "alert when the value is below d", "" for none.
func below(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	return inDays(d) + ":"
}
