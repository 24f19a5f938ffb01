// Package probes is the probe engine: it probes one URL on one or more
// nodes and names precisely what is wrong (DESIGN §1, §6).
//
// A probe dials every node directly, with a fresh connection and a full TLS
// handshake (no pooling, so a renewed or broken certificate shows at once),
// sends the URL's host as SNI and Host header, judges the certificate chain
// itself with crypto/x509, runs the content assertions, and returns a
// Result whose JSON is the `pharos check --json` contract.
//
// Using it:
//
//	spec := probes.Spec{URL: "https://api.example.org/health",
//		Expect: probes.Expect{JSON: map[string]any{"$.status": "ok"}}}
//	if err := spec.Validate(); err != nil { ... } // *probes.ValidationError
//	res := probes.New(probes.Options{}).Run(ctx, spec)
//
// Configuration files: a check's `expect:`, `tls:`, `nodes:` and `timeout:`
// keys decode directly into Spec with go.yaml.in/yaml/v3 (the YAML and JSON
// keys are those of DESIGN §7); turn `tls.ca` into PEM with ResolveCA and call
// Spec.Validate, which reports every bad field with its key path.
//
// The scheduler sets Spec.PreviousIssuer from the last result of a check to
// get cert_issuer_changed.
package probes

import (
	"context"
	"crypto/x509"
	"net"
	"net/netip"
	"sync"
	"time"
)

// Options configure a Prober. The zero value probes the internet with the
// system roots and DNS, refusing private addresses.
type Options struct {
	// Roots are the trusted roots; nil means the system roots. A check's
	// own CA (Spec.TLS.CA) is trusted in addition.
	Roots *x509.CertPool
	// Now is the clock used for certificate validity and Result.CheckedAt.
	Now func() time.Time
	// Resolver resolves host names; nil means net.DefaultResolver.
	Resolver Resolver
	// Dial opens TCP connections to an ip:port; nil means a net.Dialer whose
	// Control function enforces the guard. Every address is also checked
	// against the guard before Dial is called.
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
	// Allow, when set, permits addresses the guard would refuse (tests).
	Allow func(netip.Addr) bool
	// AllowPrivate lets every probe reach private, loopback and link-local
	// addresses (PHAROS_ALLOW_PRIVATE_TARGETS).
	AllowPrivate bool
	// AllowMetadata lists cloud metadata endpoints, by address or host
	// name, that probes may reach (PHAROS_ALLOW_METADATA_TARGETS); every
	// other known metadata endpoint stays refused, even with AllowPrivate.
	AllowMetadata []string
	// UserAgent is sent with every request.
	UserAgent string
	// ACMEDirectories maps an issuer organisation to its CA's ACME
	// directory, for ACME Renewal Information (cert_renewal_due); nil means
	// DefaultACMEDirectories. A check's tls.acme_directory wins.
	ACMEDirectories map[string]string
}

// Prober runs probes. It holds no per-probe state and is safe for
// concurrent use; build one per worker and share it.
type Prober struct {
	roots        *x509.CertPool
	now          func() time.Time
	resolver     Resolver
	customDial   func(ctx context.Context, network, address string) (net.Conn, error)
	guard        *Guard
	allowPrivate bool
	userAgent    string
	aia          *aiaCache
	rev          *revocationCache
	ari          *ariCache
	cas          *caPools
	acmeDirs     map[string]string
}

// New returns a Prober configured by o.
func New(o Options) *Prober {
	pr := &Prober{
		roots:        o.Roots,
		now:          o.Now,
		resolver:     o.Resolver,
		customDial:   o.Dial,
		guard:        NewGuard(o.Allow, o.AllowMetadata...),
		allowPrivate: o.AllowPrivate,
		userAgent:    orDefault(o.UserAgent, "Pharos-Probe/1.0"),
		aia:          newAIACache(),
		rev:          newRevocationCache(),
		ari:          newARICache(),
		cas:          newCAPools(),
		acmeDirs:     o.ACMEDirectories,
	}
	if pr.now == nil {
		pr.now = time.Now
	}
	if pr.resolver == nil {
		pr.resolver = net.DefaultResolver
	}
	if pr.acmeDirs == nil {
		pr.acmeDirs = DefaultACMEDirectories()
	}
	return pr
}

func (pr *Prober) dial(ctx context.Context, allowPrivate bool, network, address string) (net.Conn, error) {
	if pr.customDial != nil {
		return pr.customDial(ctx, network, address)
	}
	d := net.Dialer{Control: pr.guard.control(allowPrivate), KeepAlive: -1}
	return d.DialContext(ctx, network, address)
}

// Run probes spec on every node it selects and returns the verdict. An
// invalid spec gives StateUnknown with Result.Error set; every other
// failure is a Problem.
func (pr *Prober) Run(ctx context.Context, spec Spec) Result {
	start := time.Now()
	res := Result{URL: spec.URL, CheckedAt: pr.now().UTC().Truncate(time.Second), Problems: []Problem{}, Nodes: []NodeResult{}}
	p, err := spec.compile(pr.cas)
	if err != nil {
		res.State, res.Error = StateUnknown, err.Error()
		return res
	}
	// The check's timeout covers the whole probe: DNS, every node's
	// request and body, TLS judgement and the content assertions.
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	addrs, dnsTook, dnsProblem := pr.resolveNodes(ctx, p)
	if dnsProblem != nil {
		res.Problems = append(res.Problems, *dnsProblem)
	}
	res.Nodes = make([]NodeResult, len(addrs))
	if len(addrs) == 1 {
		res.Nodes[0] = pr.probeNode(ctx, p, addrs[0], dnsTook) // most hosts have one node: no goroutine
	} else {
		var wg sync.WaitGroup
		for i, a := range addrs {
			wg.Go(func() { res.Nodes[i] = pr.probeNode(ctx, p, a, dnsTook) })
		}
		wg.Wait()
	}
	for i := range res.Nodes {
		res.Problems = append(res.Problems, res.Nodes[i].Problems...)
	}
	if pb := nodesDisagree(p.host, res.Nodes); pb != nil {
		res.Problems = append(res.Problems, *pb)
	}
	applySeverity(p.spec.Severity, res.Problems)
	for i := range res.Nodes {
		applySeverity(p.spec.Severity, res.Nodes[i].Problems)
		res.Nodes[i].State = Worst(res.Nodes[i].Problems)
	}
	res.State = Worst(res.Problems)
	res.DurationMS = time.Since(start).Milliseconds()
	return res
}

// probeNode probes one node: connection, TLS judgement, HTTP and assertions.
func (pr *Prober) probeNode(ctx context.Context, p *plan, node netip.AddrPort, dnsTook time.Duration) NodeResult {
	np := &nodeProbe{pr: pr, p: p, node: node, allowPrivate: pr.allowPrivate || p.spec.AllowPrivate, start: time.Now(), phase: "TCP connection"}
	addr := node.String()
	nr := NodeResult{Address: addr, Problems: []Problem{}}
	resp, fetchErr := np.fetch(ctx)

	np.mu.Lock()
	state := np.state
	nr.Timings = Timings{
		DNS:     dnsTook.Milliseconds(),
		Connect: np.connect.Milliseconds(),
		TTFB:    np.ttfb.Milliseconds(),
		Total:   np.since().Milliseconds(),
	}
	if np.tlsDone > 0 {
		nr.Timings.TLS = (np.tlsDone - np.tlsStart).Milliseconds()
	}
	phase, tooMany, redirects, tlsErr := np.phase, np.tooMany, np.redirects, np.tlsErr
	np.mu.Unlock()

	if state != nil {
		info, problems := judgeTLS(ctx, tlsInput{
			host: p.host, node: addr, now: pr.now(),
			version: state.Version, cipher: state.CipherSuite, certs: state.PeerCertificates,
			roots: pr.roots, extra: p.extraRoots, plan: p,
			fetch: func(ctx context.Context, url string) (*x509.Certificate, error) {
				return pr.fetchAIA(ctx, url, np.allowPrivate)
			},
			stapled: state.OCSPResponse,
			revocation: func(ctx context.Context, cert, issuer *x509.Certificate, stapled []byte) revocation {
				return pr.checkRevocation(ctx, cert, issuer, stapled, np.allowPrivate)
			},
			ari: func(ctx context.Context, leaf *x509.Certificate) (ariWindow, bool) {
				dir := pr.acmeDirectory(p, leaf)
				if dir == "" {
					return ariWindow{}, false
				}
				w, err := pr.renewalWindow(ctx, dir, leaf, np.allowPrivate)
				return w, err == nil
			},
		})
		nr.TLS = info
		nr.Problems = append(nr.Problems, problems...)
	}
	if fetchErr != nil {
		failure, named := firstProblem(nr.Problems, CodeTLSHandshakeFailed) // a misordered chain is already named
		if !named {
			failure = np.failure(ctx, fetchErr, phase, state, tlsErr)
			nr.Problems = append(nr.Problems, failure)
		}
		nr.Error = failure.Message
		return nr
	}
	nr.StatusCode = resp.status
	if redirects > 0 {
		nr.FinalURL = resp.url
	}
	if tooMany {
		nr.Problems = append(nr.Problems, problemf(CodeStatusUnexpected, addr,
			"%s on %s still redirected after %d redirects (last to %s)", p.url, addr, p.maxRedirects, resp.url))
	}
	nr.Problems = append(nr.Problems, p.assert(ctx, addr, resp)...)
	return nr
}

func applySeverity(over map[Code]Severity, problems []Problem) {
	for i := range problems {
		// Info notes (an unreachable revocation source) stay notes.
		if s, ok := over[problems[i].Code]; ok && problems[i].Severity != SeverityInfo {
			problems[i].Severity = s
		}
	}
}
