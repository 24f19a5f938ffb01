package checkcmd

import (
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"pharos/probes"
)

// useColour reports whether w is a terminal that wants colour.
func useColour(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	return term.IsTerminal(int(f.Fd()))
}

type painter bool

func (p painter) paint(code, s string) string {
	if !p {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

func (p painter) state(s probes.State) string {
	word := strings.ToUpper(string(s))
	switch s {
	case probes.StateUp:
		return p.paint("1;32", word)
	case probes.StateDegraded:
		return p.paint("1;33", word)
	}
	return p.paint("1;31", word)
}

func (p painter) problem(pr probes.Problem) string {
	mark := p.paint("31", "✗ "+string(pr.Severity))
	switch pr.Severity {
	case probes.SeverityWarning:
		mark = p.paint("33", "! "+string(pr.Severity))
	case probes.SeverityInfo:
		mark = p.paint("2", "· "+string(pr.Severity))
	}
	return fmt.Sprintf("%s %s: %s", mark, pr.Code, pr.Message)
}

// writeSummary prints a readable result: one block per node with its
// status, timings, certificate and problems.
func writeSummary(w io.Writer, r probes.Result, colour bool) {
	p := painter(colour)
	fmt.Fprintf(w, "%s  %s  (%d ms, checked %s)\n", r.URL, p.state(r.State), r.DurationMS, r.CheckedAt.Format("2006-01-02T15:04:05Z07:00"))
	if r.Error != "" {
		fmt.Fprintf(w, "  %s\n", r.Error)
	}
	for _, n := range r.Nodes {
		fmt.Fprintln(w)
		status := "no response"
		if n.StatusCode != 0 {
			status = fmt.Sprintf("HTTP %d", n.StatusCode)
		}
		fmt.Fprintf(w, "  %s  %s  %s\n", p.paint("1", n.Address), p.state(n.State), status)
		t := n.Timings
		fmt.Fprintf(w, "    timings  dns %d ms · connect %d ms · tls %d ms · ttfb %d ms · total %d ms\n", t.DNS, t.Connect, t.TLS, t.TTFB, t.Total)
		if n.FinalURL != "" {
			fmt.Fprintf(w, "    final    %s\n", n.FinalURL)
		}
		if tl := n.TLS; tl != nil {
			trust := "chain trusted"
			if !tl.ChainTrusted {
				trust = p.paint("31", "chain NOT trusted")
			}
			fmt.Fprintf(w, "    tls      %s, %s, %s\n", tl.Version, tl.Cipher, trust)
			names := append(append([]string{}, tl.Leaf.DNSNames...), tl.Leaf.IPs...)
			fmt.Fprintf(w, "    cert     %s (%s)\n", orEmpty(tl.Leaf.Subject), orNone(strings.Join(names, ", ")))
			fmt.Fprintf(w, "    issuer   %s\n", tl.Leaf.Issuer)
			fmt.Fprintf(w, "    expires  %s (%s)\n", tl.Leaf.NotAfter.Format("2006-01-02 15:04 UTC"), daysLeft(tl.Leaf.DaysLeft))
		}
		for _, pr := range n.Problems {
			fmt.Fprintf(w, "    %s\n", p.problem(pr))
		}
	}
	var general []probes.Problem
	for _, pr := range r.Problems {
		if pr.Node == "" {
			general = append(general, pr)
		}
	}
	if len(general) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "  across nodes")
		for _, pr := range general {
			fmt.Fprintf(w, "    %s\n", p.problem(pr))
		}
	}
}

func daysLeft(d int) string {
	switch {
	case d < 0:
		return fmt.Sprintf("expired %d days ago", -d)
	case d == 1:
		return "1 day left"
	}
	return fmt.Sprintf("%d days left", d)
}

func orEmpty(subject string) string {
	if subject == "" {
		return "empty subject"
	}
	return subject
}

func orNone(names string) string {
	if names == "" {
		return "no names"
	}
	return names
}
