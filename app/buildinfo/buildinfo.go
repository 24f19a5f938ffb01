// Package buildinfo says which build of Pharos is running: the version
// `pharos check --version` prints and pharos_build_info exports. One home
// for the fact, so the command line and /metrics never disagree.
package buildinfo

import (
	"runtime"
	"runtime/debug"

	"github.com/prometheus/client_golang/prometheus"
)

// version is set at link time by release builds:
//
//	go build -ldflags "-X pharos/app/buildinfo.version=v1.4.0"
//
// Without it the version comes from the build's own record (the module
// version the go command derives from the VCS tag, "(devel)" otherwise).
var version string

// Info identifies a build.
type Info struct {
	// Version is the injected version, else the main module's version,
	// else "(devel)".
	Version string
	// GoVersion is the toolchain that built the binary ("go1.26.8").
	GoVersion string
	// Revision is the VCS commit the binary was built from, with
	// "-dirty" when the tree had local changes; "unknown" when the build
	// recorded none (go test, go run, -buildvcs=false).
	Revision string
}

// Read returns the running binary's build information.
func Read() Info {
	bi, ok := debug.ReadBuildInfo()
	return fromBuild(version, bi, ok)
}

// fromBuild decides Info from an injected version and the build record.
func fromBuild(injected string, bi *debug.BuildInfo, ok bool) Info {
	info := Info{Version: injected, GoVersion: runtime.Version(), Revision: "unknown"}
	if !ok || bi == nil {
		if info.Version == "" {
			info.Version = "(devel)"
		}
		return info
	}
	if bi.GoVersion != "" {
		info.GoVersion = bi.GoVersion
	}
	if info.Version == "" {
		info.Version = bi.Main.Version
	}
	if info.Version == "" {
		info.Version = "(devel)"
	}
	modified := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			info.Revision = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if modified && info.Revision != "unknown" {
		info.Revision += "-dirty"
	}
	return info
}

// String is the one-line form the command line prints:
// "pharos v1.4.0 (revision 1a2b3c…, go1.26.8)".
func (i Info) String() string {
	return "pharos " + i.Version + " (revision " + i.Revision + ", " + i.GoVersion + ")"
}

// Collector returns the pharos_build_info{version,goversion,revision}
// gauge of i, always 1: the usual way to join a build's identity onto
// other series. Every role that serves /metrics registers it.
func (i Info) Collector() prometheus.Collector {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "pharos_build_info",
		Help:        "The running build: version, Go version and VCS revision in labels; always 1.",
		ConstLabels: prometheus.Labels{"version": i.Version, "goversion": i.GoVersion, "revision": i.Revision},
	})
	g.Set(1)
	return g
}
