package public

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
)

// Each open event stream holds a connection, so a file descriptor, for as
// long as the browser stays: without a bound, a thousand of them ran the
// process out of descriptors and the pages, login and API stopped
// answering. Streams are capped in all and per client network; a refused
// stream gets 503 with Retry-After, and public.js keeps the page current by
// polling instead.

const (
	// maxStreamsCeiling bounds the default global cap however high the
	// file limit is; defaultStreams applies when the limit is unknown.
	maxStreamsCeiling = 10000
	defaultStreams    = maxStreamsCeiling
	// maxPerClientCeiling bounds the default per-client cap: a company
	// behind one NAT address keeps live pages for a hundred viewers, the
	// rest poll.
	maxPerClientCeiling = 100
	// DefaultStreamRetryAfter is the Retry-After of a refused stream, and
	// so how often a refused page polls and tries the stream again.
	DefaultStreamRetryAfter = 30 * time.Second
)

// StreamLimits are the caps on open event streams.
type StreamLimits struct {
	// Max is the most streams open at once, from every client
	// (PHAROS_SSE_MAX_STREAMS); 0 sizes it from FileLimit.
	Max int
	// PerClient is the most streams open at once from one client network,
	// an IPv4 address or an IPv6 /64 (PHAROS_SSE_MAX_PER_CLIENT); 0 means
	// a tenth of Max, at most 100.
	PerClient int
	// FileLimit is the process's limit on open files (0: unknown). Half of
	// it, at most 10,000, is the default Max: the other half stays for the
	// database, Redis and every other request.
	FileLimit int
	// RetryAfter is what a refused stream is told to wait
	// (DefaultStreamRetryAfter when 0).
	RetryAfter time.Duration
}

// withDefaults fills the caps left at zero.
func (l StreamLimits) withDefaults() StreamLimits {
	if l.Max <= 0 {
		l.Max = defaultStreams
		if l.FileLimit > 0 {
			l.Max = max(1, min(maxStreamsCeiling, l.FileLimit/2))
		}
	}
	if l.PerClient <= 0 {
		l.PerClient = max(1, min(maxPerClientCeiling, l.Max/10))
	}
	l.PerClient = min(l.PerClient, l.Max)
	if l.RetryAfter <= 0 {
		l.RetryAfter = DefaultStreamRetryAfter
	}
	return l
}

// streamGate counts the open streams, in all and per client network.
type streamGate struct {
	limits StreamLimits

	mu       sync.Mutex
	open     int
	byClient map[string]int

	refused *prometheus.CounterVec
}

func newStreamGate(l StreamLimits) *streamGate {
	return &streamGate{limits: l.withDefaults(), byClient: map[string]int{},
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pharos_sse_refused_total",
			Help: "Event streams refused with 503, by the cap that was reached (all, client).",
		}, []string{"cap"})}
}

// collectors are the gate's metrics: open streams and refusals.
func (g *streamGate) collectors() []prometheus.Collector {
	return []prometheus.Collector{g.refused, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "pharos_sse_streams",
		Help: "Event streams open now.",
	}, func() float64 {
		g.mu.Lock()
		defer g.mu.Unlock()
		return float64(g.open)
	})}
}

// acquire takes a stream slot for client, or names the cap that is full.
func (g *streamGate) acquire(client string) (release func(), full string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case g.open >= g.limits.Max:
		full = "all"
	case g.byClient[client] >= g.limits.PerClient:
		full = "client"
	}
	if full != "" {
		g.refused.WithLabelValues(full).Inc()
		return nil, full
	}
	g.open++
	g.byClient[client]++
	var once sync.Once
	return func() { once.Do(func() { g.release(client) }) }, ""
}

func (g *streamGate) release(client string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.open--
	if g.byClient[client]--; g.byClient[client] <= 0 {
		delete(g.byClient, client)
	}
}

// refuse answers a stream over a cap: 503 with Retry-After, a short plain
// body and no error, so a flood of refusals costs neither a rendered
// error page nor an error log line each.
func (g *streamGate) refuse(c echo.Context, full string) error {
	h := c.Response().Header()
	h.Set("Retry-After", strconv.Itoa(max(1, int(g.limits.RetryAfter.Round(time.Second)/time.Second))))
	h.Set("Cache-Control", "no-store")
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Expose-Headers", "Retry-After")
	msg := "Too many live updates are open; this page refreshes itself instead. Try the stream again later.\n"
	if full == "client" {
		msg = "Too many live updates are open from your network; this page refreshes itself instead. Try the stream again later.\n"
	}
	return c.String(http.StatusServiceUnavailable, msg)
}
