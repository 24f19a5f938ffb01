// Package config is Pharos's one typed configuration, read once from the
// environment (DESIGN §9) and then from flags, which override it. Every
// problem is reported with the variable (or flag) and the bad value.
package config

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"pharos/app/housekeep"
)

// Config is everything a Pharos process needs to know about its environment.
type Config struct {
	Listen              string // PHAROS_LISTEN, default ":8080"
	DatabaseURL         string // PHAROS_DATABASE_URL, default sqlite://./data/pharos.db
	RedisURL            string // PHAROS_REDIS_URL; "" = in-process bus
	Region              string // PHAROS_REGION (else FLY_REGION), the worker region (default "local")
	SMTPURL             string // PHAROS_SMTP_URL
	BaseURL             string // PHAROS_BASE_URL, public URL used in emails and links
	SecretKey           string // PHAROS_SECRET_KEY
	AllowPrivateTargets bool   // PHAROS_ALLOW_PRIVATE_TARGETS
	// AllowMetadataTargets (PHAROS_ALLOW_METADATA_TARGETS, comma-separated
	// addresses or host names) are the cloud metadata endpoints probes may
	// reach; every other one stays refused even with AllowPrivateTargets.
	AllowMetadataTargets []string
	// CanaryURL (PHAROS_CANARY_URL) is the control-plane URL every probe
	// worker fetches with its beacons, so a region that cannot reach it
	// while another can is judged unhealthy at once; "off" disables it.
	// Unset, it is PHAROS_BASE_URL's /healthz (see Canary).
	CanaryURL string
	// MetricsToken (PHAROS_METRICS_TOKEN), when set, is the bearer token
	// /metrics requires: region health and job figures are operator data.
	MetricsToken string
	// DebugListen (PHAROS_DEBUG_LISTEN), when set, is where the Go
	// runtime's profiles (net/http/pprof) are served, apart from the web
	// listener and without authentication: a loopback or private address.
	DebugListen string
	// MetricsChecks (PHAROS_METRICS_CHECKS) adds per-check series to the
	// web role's /metrics: checks × regions × 7 series, so off by default.
	MetricsChecks bool
	// TrustedProxies (PHAROS_TRUSTED_PROXIES, comma-separated CIDRs or
	// addresses) are reverse proxies whose X-Forwarded-For is believed.
	TrustedProxies []*net.IPNet
	// DefaultPage (PHAROS_DEFAULT_PAGE) is the slug of a page served at the
	// root of the service's own host (/, /api/v2/…, /feed.atom…), as on a
	// custom domain, for clients that look for a Statuspage at a host's
	// root; /admin, /login and /setup keep working there.
	DefaultPage string
	// ResultRetention (PHAROS_RESULT_RETENTION, a Go duration such as
	// "48h" or a number of days such as "14d") is how long raw results are
	// kept; daily rollups keep the history beyond it. Default and minimum
	// 48 hours (housekeep.DefaultRetention, housekeep.MinRetention); zero
	// selects the default.
	ResultRetention time.Duration
	// SSEMaxStreams (PHAROS_SSE_MAX_STREAMS) caps the public pages' open
	// event streams in all, SSEMaxPerClient (PHAROS_SSE_MAX_PER_CLIENT)
	// per client network (IPv4 address, IPv6 /64). 0 (unset) sizes them
	// from the open-file limit: half of it, at most 10,000, in all, and a
	// tenth of that, at most 100, per client.
	SSEMaxStreams   int
	SSEMaxPerClient int
	// MaxChecks (PHAROS_MAX_CHECKS), MaxComponents (PHAROS_MAX_COMPONENTS)
	// and MaxPages (PHAROS_MAX_PAGES) are how many checks, components and
	// status pages one organisation may have; 0 is no limit. MinInterval
	// (PHAROS_MIN_INTERVAL) is the shortest interval a check may have; 0
	// leaves only the configuration format's own floor (10s). Apply, the
	// API and the console enforce them (apply.Limits).
	MaxChecks     int
	MaxComponents int
	MaxPages      int
	MinInterval   time.Duration
}

// The variables that set the quotas; apply names them in its refusals.
const (
	EnvMaxChecks     = "PHAROS_MAX_CHECKS"
	EnvMaxComponents = "PHAROS_MAX_COMPONENTS"
	EnvMaxPages      = "PHAROS_MAX_PAGES"
	EnvMinInterval   = "PHAROS_MIN_INTERVAL"
)

// Default quotas. One organisation's share of a shared service: 1,000
// checks at the 30s floor are 33 probes a second in each region, a large
// slice of a worker but not all of it; 500 components and 50 pages are
// far beyond a real status page (a few dozen components) yet stop a
// runaway file or script long before it fills the database. An operator
// running Pharos for one team can lift any of them with 0.
const (
	DefaultMaxChecks     = 1000
	DefaultMaxComponents = 500
	DefaultMaxPages      = 50
	DefaultMinInterval   = 30 * time.Second
)

// maxMinInterval is the longest interval a check may have at all (apply's
// own bound): a higher floor would refuse every check.
const maxMinInterval = 24 * time.Hour

// Defaults.
const (
	DefaultListen      = ":8080"
	DefaultDatabaseURL = "sqlite://./data/pharos.db"
	DefaultRegion      = "local"
)

var regionPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)

// slugPattern is a page slug as pharos apply accepts it.
var slugPattern = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`)

// Load reads the environment through getenv. Flags registered with
// RegisterFlags then override it; call Validate once they are parsed.
func Load(getenv func(string) string) (Config, error) {
	c := Config{
		Listen:      orDefault(getenv("PHAROS_LISTEN"), DefaultListen),
		DatabaseURL: orDefault(getenv("PHAROS_DATABASE_URL"), DefaultDatabaseURL),
		RedisURL:    getenv("PHAROS_REDIS_URL"),
		Region:      orDefault(getenv("PHAROS_REGION"), orDefault(getenv("FLY_REGION"), DefaultRegion)),
		SMTPURL:     getenv("PHAROS_SMTP_URL"),
		BaseURL:     getenv("PHAROS_BASE_URL"),
		SecretKey:   getenv("PHAROS_SECRET_KEY"),

		MetricsToken: getenv("PHAROS_METRICS_TOKEN"),
		DebugListen:  strings.TrimSpace(getenv("PHAROS_DEBUG_LISTEN")),
		CanaryURL:    strings.TrimSpace(getenv("PHAROS_CANARY_URL")),

		AllowMetadataTargets: splitList(getenv("PHAROS_ALLOW_METADATA_TARGETS")),
		DefaultPage:          getenv("PHAROS_DEFAULT_PAGE"),
	}
	if v := getenv("PHAROS_ALLOW_PRIVATE_TARGETS"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return Config{}, fmt.Errorf("config: PHAROS_ALLOW_PRIVATE_TARGETS=%q: want true or false", v)
		}
		c.AllowPrivateTargets = b
	}
	if v := getenv("PHAROS_METRICS_CHECKS"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return Config{}, fmt.Errorf("config: PHAROS_METRICS_CHECKS=%q: want true or false", v)
		}
		c.MetricsChecks = b
	}
	c.ResultRetention = housekeep.DefaultRetention
	if v := getenv("PHAROS_RESULT_RETENTION"); v != "" {
		d, err := parseRetention(v)
		if err != nil {
			return Config{}, fmt.Errorf("config: PHAROS_RESULT_RETENTION=%q: %w", v, err)
		}
		c.ResultRetention = d
	}
	for _, v := range []struct {
		name string
		dst  *int
	}{{"PHAROS_SSE_MAX_STREAMS", &c.SSEMaxStreams}, {"PHAROS_SSE_MAX_PER_CLIENT", &c.SSEMaxPerClient}} {
		s := getenv(v.name)
		if s == "" {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return Config{}, fmt.Errorf("config: %s=%q: want a whole number of streams, at least 1", v.name, s)
		}
		*v.dst = n
	}
	if err := c.loadQuotas(getenv); err != nil {
		return Config{}, err
	}
	if v := getenv("PHAROS_TRUSTED_PROXIES"); v != "" {
		nets, err := parseNetworks(v)
		if err != nil {
			return Config{}, fmt.Errorf("config: PHAROS_TRUSTED_PROXIES=%q: %w", v, err)
		}
		c.TrustedProxies = nets
	}
	return c, nil
}

// loadQuotas reads the per-organisation quotas, each defaulting when unset.
func (c *Config) loadQuotas(getenv func(string) string) error {
	for _, v := range []struct {
		name, what string
		dst        *int
		def        int
	}{
		{EnvMaxChecks, "checks", &c.MaxChecks, DefaultMaxChecks},
		{EnvMaxComponents, "components", &c.MaxComponents, DefaultMaxComponents},
		{EnvMaxPages, "pages", &c.MaxPages, DefaultMaxPages},
	} {
		*v.dst = v.def
		s := strings.TrimSpace(getenv(v.name))
		if s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return fmt.Errorf("config: %s=%q: want a whole number of %s per organisation, or 0 for no limit", v.name, s, v.what)
		}
		*v.dst = n
	}
	c.MinInterval = DefaultMinInterval
	s := strings.TrimSpace(getenv(EnvMinInterval))
	if s == "" {
		return nil
	}
	if s == "0" {
		c.MinInterval = 0
		return nil
	}
	d, err := time.ParseDuration(s)
	switch {
	case err != nil || d < 0:
		return fmt.Errorf("config: %s=%q: want a duration such as \"30s\" or \"1m\", or 0 for no minimum", EnvMinInterval, s)
	case d%time.Second != 0:
		return fmt.Errorf("config: %s=%q: want whole seconds, such as \"30s\"", EnvMinInterval, s)
	case d > maxMinInterval:
		return fmt.Errorf("config: %s=%q: want at most 24h, the longest interval a check may have", EnvMinInterval, s)
	}
	c.MinInterval = d
	return nil
}

// parseRetention reads a Go duration ("48h") or a number of days ("14d").
func parseRetention(v string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(v, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 {
			return 0, errors.New(`want a duration such as "48h" or a number of days such as "14d"`)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, errors.New(`want a duration such as "48h" or a number of days such as "14d"`)
	}
	return d, nil
}

// parseNetworks reads a comma-separated list of CIDRs or single addresses.
func parseNetworks(list string) ([]*net.IPNet, error) {
	var out []*net.IPNet
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			ip := net.ParseIP(f)
			if ip == nil {
				return nil, fmt.Errorf("%q is neither an address nor a CIDR", f)
			}
			bits := 128
			if ip.To4() != nil {
				ip, bits = ip.To4(), 32
			}
			out = append(out, &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)})
			continue
		}
		_, n, err := net.ParseCIDR(f)
		if err != nil {
			return nil, fmt.Errorf("%q is neither an address nor a CIDR", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// RegisterFlags adds the flags that override the environment to fs, writing
// into c; call Validate after fs.Parse.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Listen, "listen", c.Listen, "address to listen on (PHAROS_LISTEN)")
	fs.Var(secretURL{&c.DatabaseURL}, "database-url", "postgres://… or sqlite://PATH (PHAROS_DATABASE_URL)")
	fs.Var(secretURL{&c.RedisURL}, "redis-url", "redis://… ; empty = in-process bus (PHAROS_REDIS_URL)")
	fs.StringVar(&c.Region, "region", c.Region, "probe worker region (PHAROS_REGION)")
	fs.Var(secretURL{&c.SMTPURL}, "smtp-url", "smtp://user:pass@host:587 (PHAROS_SMTP_URL)")
	fs.StringVar(&c.BaseURL, "base-url", c.BaseURL, "public base URL (PHAROS_BASE_URL)")
	fs.BoolVar(&c.AllowPrivateTargets, "allow-private-targets", c.AllowPrivateTargets, "let probes reach private addresses (PHAROS_ALLOW_PRIVATE_TARGETS)")
}

// DurationText writes d as people write it, 24h, 1h30m or 90s rather than
// 24h0m0s; it parses back unchanged. Configuration messages, the apply
// plan and the console show durations so.
func DurationText(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// secretURL is a flag over a URL that may hold a password: --help shows
// its default (from the environment) with the password masked, as the
// configuration errors do.
type secretURL struct{ p *string }

func (v secretURL) String() string {
	if v.p == nil {
		return ""
	}
	return redact(*v.p)
}

func (v secretURL) Set(s string) error { *v.p = s; return nil }

// listenProblem says what is wrong with a listen address, "" when
// nothing: shape is the complaint when it is not HOST:PORT (or has no host
// while needHost).
func listenProblem(addr, shape string, needHost bool) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || (needHost && host == "") {
		return shape
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return "port must be 0-65535"
	}
	return ""
}

// Validate checks every field and returns all problems at once.
func (c *Config) Validate() error {
	var errs []error
	bad := func(name, value, why string) {
		errs = append(errs, fmt.Errorf("config: %s=%q: %s", name, value, why))
	}
	if c.MetricsToken != "" && (len(c.MetricsToken) < 16 || strings.ContainsAny(c.MetricsToken, " \t\r\n")) {
		bad("PHAROS_METRICS_TOKEN", "…", "want at least 16 characters without spaces")
	}
	if why := listenProblem(c.Listen, "want HOST:PORT or :PORT", false); why != "" {
		bad("PHAROS_LISTEN", c.Listen, why)
	}
	if c.DebugListen != "" {
		if why := listenProblem(c.DebugListen, "want HOST:PORT with a host, e.g. 127.0.0.1:6060: profiles have no authentication, so name the interface", true); why != "" {
			bad("PHAROS_DEBUG_LISTEN", c.DebugListen, why)
		}
	}
	switch {
	case strings.HasPrefix(c.DatabaseURL, "postgres://"), strings.HasPrefix(c.DatabaseURL, "postgresql://"):
		if _, err := url.Parse(c.DatabaseURL); err != nil {
			bad("PHAROS_DATABASE_URL", redact(c.DatabaseURL), err.Error())
		}
	case strings.HasPrefix(c.DatabaseURL, "sqlite:"):
		if strings.TrimPrefix(strings.TrimPrefix(c.DatabaseURL, "sqlite://"), "sqlite:") == "" {
			bad("PHAROS_DATABASE_URL", c.DatabaseURL, "names no SQLite file")
		}
	default:
		bad("PHAROS_DATABASE_URL", redact(c.DatabaseURL), "want postgres://… or sqlite://PATH")
	}
	if c.RedisURL != "" {
		if _, err := redis.ParseURL(c.RedisURL); err != nil {
			bad("PHAROS_REDIS_URL", redact(c.RedisURL), err.Error())
		}
	}
	if !regionPattern.MatchString(c.Region) {
		bad("PHAROS_REGION", c.Region, "want lower-case letters, digits and '-', e.g. fra")
	}
	if c.SMTPURL != "" {
		u, err := url.Parse(c.SMTPURL)
		if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Host == "" {
			bad("PHAROS_SMTP_URL", redact(c.SMTPURL), "want smtp://user:pass@host:587 or smtps://…")
		}
	}
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("PHAROS_BASE_URL", c.BaseURL, "want an absolute http(s) URL, e.g. https://status.example.org")
		}
	}
	if c.CanaryURL != "" && c.CanaryURL != "off" {
		if u, err := url.Parse(c.CanaryURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("PHAROS_CANARY_URL", c.CanaryURL, "want an absolute http(s) URL, e.g. https://status.example.org/healthz, or off")
		}
	}
	if c.DefaultPage != "" && !slugPattern.MatchString(c.DefaultPage) {
		bad("PHAROS_DEFAULT_PAGE", c.DefaultPage, "want a page slug: lower-case letters, digits and '-', e.g. acme")
	}
	if c.ResultRetention != 0 && c.ResultRetention < housekeep.MinRetention {
		bad("PHAROS_RESULT_RETENTION", DurationText(c.ResultRetention),
			"want at least 48h: the daily rollup replays today and yesterday from raw results")
	}
	if c.SecretKey != "" && len(c.SecretKey) < 32 {
		bad("PHAROS_SECRET_KEY", "(hidden)", "must be at least 32 characters")
	}
	return errors.Join(errs...)
}

// Embedded reports whether the process runs on the embedded default
// database (SQLite) rather than a shared server.
func (c *Config) Embedded() bool { return strings.HasPrefix(c.DatabaseURL, "sqlite:") }

// Canary is the URL probe workers fetch as their canary: PHAROS_CANARY_URL,
// else PHAROS_BASE_URL's /healthz, else none ("").
func (c *Config) Canary() string {
	switch {
	case c.CanaryURL == "off":
		return ""
	case c.CanaryURL != "":
		return c.CanaryURL
	case c.BaseURL != "":
		return strings.TrimSuffix(c.BaseURL, "/") + "/healthz"
	}
	return ""
}

// SecureCookies reports whether cookies should carry the Secure attribute:
// whenever the public URL is HTTPS.
func (c *Config) SecureCookies() bool { return strings.HasPrefix(c.BaseURL, "https://") }

// EnsureSecretKey fills SecretKey when it is unset. In embedded mode it is
// generated once and kept in a 0600 file beside the SQLite database, so
// sessions and signatures survive restarts; on a shared database the operator
// must provide it, because every process needs the same one.
func (c *Config) EnsureSecretKey() error {
	if c.SecretKey != "" {
		return nil
	}
	if !c.Embedded() {
		return errors.New("config: PHAROS_SECRET_KEY is not set: every process of a PostgreSQL deployment needs the same key (e.g. `openssl rand -hex 32`)")
	}
	path := filepath.Join(filepath.Dir(sqlitePath(c.DatabaseURL)), "secret.key")
	if b, err := os.ReadFile(path); err == nil {
		key := strings.TrimSpace(string(b))
		if len(key) < 32 {
			return fmt.Errorf("config: %s holds a key shorter than 32 characters", path)
		}
		c.SecretKey = key
		return nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("config: read %s: %w", path, err)
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return fmt.Errorf("config: generate secret key: %w", err)
	}
	key := hex.EncodeToString(b[:])
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return fmt.Errorf("config: create %s: %w", filepath.Dir(path), err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return c.EnsureSecretKey() // another process won the race; use its key
	}
	if err != nil {
		return fmt.Errorf("config: store secret key: %w", err)
	}
	if _, err := f.WriteString(key + "\n"); err != nil {
		f.Close()
		return fmt.Errorf("config: store secret key: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("config: store secret key: %w", err)
	}
	c.SecretKey = key
	return nil
}

func sqlitePath(dbURL string) string {
	p := strings.TrimPrefix(strings.TrimPrefix(dbURL, "sqlite://"), "sqlite:")
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	return p
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// redact hides the password of a URL so error messages never leak it.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// splitList splits a comma-separated value into its trimmed, non-empty
// items.
func splitList(v string) []string {
	var out []string
	for item := range strings.SplitSeq(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
