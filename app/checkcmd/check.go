// Package checkcmd implements `pharos check`: one probe from the command
// line, with the flags, output and exit status of DESIGN §6.
package checkcmd

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"pharos/app/buildinfo"
	"pharos/app/config"
	"pharos/probes"
)

// Exit statuses, the monitoring-plugin convention of DESIGN §6.
const (
	exitUp       = 0
	exitDegraded = 1
	exitDown     = 2
	exitUnknown  = 3
)

// options is the parsed command line.
type options struct {
	json            bool
	version         bool
	resolve         listFlag
	allNodes        bool
	caFile          string
	expectIssuer    string
	acmeDirectory   string
	warnDays        int
	warnSet         bool
	criticalDays    int
	criticalSet     bool
	expectStatus    string
	bodyContains    listFlag
	bodyNotContains listFlag
	bodyRegex       string
	jsonPaths       listFlag
	expectImage     bool
	timeout         time.Duration
	allowPrivate    bool
	url             string
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// Main runs `pharos check` with args (the words after "check") and returns
// the exit status: 0 up, 1 degraded, 2 down, 3 unknown. Without --json the
// first line of stdout is a monitoring plugin's status line (plugin.go),
// for every outcome including the unknown ones; their reason goes to
// stderr too.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	unknown := func(reason string) int {
		fmt.Fprintf(stderr, "pharos check: %s\n", reason)
		if !wantsJSON(args) {
			writeUnknown(stdout, reason)
		}
		return exitUnknown
	}
	o, err := parse(args, stdout)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return exitUnknown // monitoring plugins exit 3 on --help
	case err != nil:
		return unknown(err.Error())
	case o.version:
		fmt.Fprintln(stdout, buildinfo.Read())
		return exitUp
	}
	spec, err := o.spec()
	if err != nil {
		return unknown(err.Error())
	}
	res := probes.New(probes.Options{}).Run(ctx, spec)
	if res.State == probes.StateUnknown {
		return unknown(res.Error)
	}
	refused := refusedByGuard(&res)
	exit := res.State.ExitCode()
	if o.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			fmt.Fprintf(stderr, "pharos check: write result: %v\n", err)
			return exitUnknown
		}
	} else {
		writeStatusLine(stdout, res, exit, thresholdFlags{spec.TLS.WarnDays, spec.TLS.CriticalDays}, o.timeout)
		writeSummary(stdout, res, useColour(stdout))
	}
	if refused != "" {
		fmt.Fprintf(stderr, "pharos check: %s\n", refused)
	}
	return exit
}

// wantsJSON reports whether args ask for --json, read without the flag
// parser so that a command line it refuses still answers in the format
// asked for: nothing on stdout for --json, whose stdout is a result or
// nothing.
func wantsJSON(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-json", "--json", "-json=true", "--json=true", "-json=1", "--json=1":
			return true
		}
	}
	return false
}

// refusedByGuard marks res unknown when the SSRF guard refused a target
// (DESIGN §6): the check could not be carried out, which the
// monitoring-plugin convention calls UNKNOWN (3), not CRITICAL. The
// blocked_address problems stay in the result; the reason is returned for
// stderr and set as the result's error, so it is on stdout too.
func refusedByGuard(res *probes.Result) string {
	var reasons []string
	for _, p := range res.Problems {
		if p.Code == probes.CodeBlockedAddress {
			reasons = append(reasons, p.Message)
		}
	}
	if len(reasons) == 0 {
		return ""
	}
	res.State = probes.StateUnknown
	res.Error = "target refused by the SSRF guard: " + strings.Join(reasons, "; ")
	return res.Error
}

// parse reads the command line; -h prints the usage on stdout, where
// monitoring plugins print it.
func parse(args []string, stdout io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("pharos check", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported on one line by Main
	fs.BoolVar(&o.json, "json", false, "machine-readable result instead of a summary")
	fs.BoolVar(&o.version, "V", false, "print the version and exit")
	fs.BoolVar(&o.version, "version", false, "print the version and exit")
	fs.Var(&o.resolve, "resolve", "probe this node address instead of DNS (IP or IP:port, repeatable)")
	fs.BoolVar(&o.allNodes, "all-nodes", false, "probe every A/AAAA address of the host")
	fs.StringVar(&o.caFile, "ca-file", "", "also trust the PEM roots in this file (internal CAs)")
	fs.StringVar(&o.expectIssuer, "expect-issuer", "", "the leaf's issuer must contain this text (organisation or common name)")
	fs.StringVar(&o.acmeDirectory, "acme-directory", "", "ACME directory URL of the certificate's CA, for renewal information (Let's Encrypt's is built in)")
	fs.IntVar(&o.warnDays, "warn-days", 0, "cert_expiring warning threshold in days, 0 for none (default: a quarter of the certificate's lifetime, at most 21)")
	fs.IntVar(&o.criticalDays, "critical-days", 0, "cert_expiring becomes critical below this many days, 0 for never (default: a twelfth of the lifetime, at most 7)")
	fs.StringVar(&o.expectStatus, "expect-status", "200-399", "accepted status codes, e.g. 200,204 or 200-299")
	fs.Var(&o.bodyContains, "body-contains", "the body must contain this text (repeatable)")
	fs.Var(&o.bodyNotContains, "body-not-contains", "the body must not contain this text (repeatable)")
	fs.StringVar(&o.bodyRegex, "body-regex", "", "the body must match this regular expression")
	fs.Var(&o.jsonPaths, "json-path", "'PATH=VALUE': the JSON body at PATH must equal VALUE (repeatable)")
	fs.BoolVar(&o.expectImage, "expect-image", false, "the body must decode as an image")
	fs.DurationVar(&o.timeout, "timeout", probes.DefaultTimeout, "time allowed for the whole probe, all nodes together: DNS, connections, TLS checks, requests and assertions")
	// The environment is read by the one configuration parser, which
	// refuses a bad value with the variable named.
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		return nil, err
	}
	fs.BoolVar(&o.allowPrivate, "allow-private", cfg.AllowPrivateTargets, "allow private, loopback and link-local targets (default $PHAROS_ALLOW_PRIVATE_TARGETS)")

	// Go's flag package stops at the first non-flag; accept flags after the
	// URL too by parsing again from there.
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				usage(stdout, fs)
			}
			return nil, fmt.Errorf("%w (see pharos check -h)", err)
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	// Unset thresholds stay zero in the Spec, which means the
	// lifetime-scaled defaults; an explicit 0 disables the threshold.
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "warn-days":
			o.warnSet = true
		case "critical-days":
			o.criticalSet = true
		}
	})
	switch {
	case o.version:
		return o, nil
	case len(positional) == 0:
		return nil, errors.New("missing URL: pharos check [flags] URL")
	case len(positional) == 1:
		o.url = positional[0]
	default:
		return nil, fmt.Errorf("one URL at a time, got %d: %s", len(positional), strings.Join(positional, " "))
	}
	return o, nil
}

func usage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintln(w, "usage: pharos check [flags] URL")
	fmt.Fprintln(w, "exit status: 0 up (OK), 1 degraded (WARNING), 2 down (CRITICAL), 3 unknown (UNKNOWN, and after -h)")
	fmt.Fprintln(w, "output: a monitoring-plugin status line with performance data, then the details (or --json)")
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

// spec turns the options into a validated probe spec.
func (o *options) spec() (probes.Spec, error) {
	s := probes.Spec{
		URL:          o.url,
		Timeout:      probes.Duration(o.timeout),
		AllowPrivate: o.allowPrivate,
		TLS: probes.TLSSpec{
			WarnDays:      days(o.warnDays, o.warnSet),
			CriticalDays:  days(o.criticalDays, o.criticalSet),
			Issuer:        o.expectIssuer,
			ACMEDirectory: o.acmeDirectory,
		},
		Expect: probes.Expect{
			BodyContains:    o.bodyContains,
			BodyNotContains: o.bodyNotContains,
			BodyRegex:       o.bodyRegex,
			Image:           o.expectImage,
		},
	}
	if o.timeout <= 0 {
		return s, fmt.Errorf("--timeout %s: must be positive", o.timeout)
	}
	if o.allNodes && len(o.resolve) > 0 {
		return s, errors.New("--all-nodes and --resolve exclude each other")
	}
	s.Nodes = probes.Nodes{All: o.allNodes, Addrs: o.resolve}
	if o.caFile != "" {
		pem, err := probes.ResolveCA(o.caFile, ".")
		if err != nil {
			return s, fmt.Errorf("--ca-file: %w", err)
		}
		s.TLS.CA = pem
	}
	set, err := probes.ParseStatusSet(o.expectStatus)
	if err != nil {
		return s, fmt.Errorf("--expect-status: %w", err)
	}
	s.Expect.Status = set
	for _, jp := range o.jsonPaths {
		path, want, err := probes.ParseJSONAssertion(jp)
		if err != nil {
			return s, fmt.Errorf("--json-path: %w", err)
		}
		if s.Expect.JSON == nil {
			s.Expect.JSON = map[string]any{}
		}
		s.Expect.JSON[path] = want
	}
	if err := s.Validate(); err != nil {
		return s, err
	}
	return s, nil
}

// days maps a threshold flag to the Spec: unset is zero (the
// lifetime-scaled default), and the CLI's "0 days" (no threshold) is the
// Spec's negative "disabled".
func days(n int, set bool) int {
	switch {
	case !set:
		return 0
	case n == 0:
		return -1
	}
	return n
}
