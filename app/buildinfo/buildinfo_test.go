package buildinfo

import (
	"runtime/debug"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestFromBuild(t *testing.T) {
	t.Parallel()
	vcs := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "pharos", Version: "v0.0.0-20260101120000-1a2b3c4d5e6f+dirty"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "1a2b3c4d5e6f"}, {Key: "vcs.modified", Value: "true"}}}
	tests := []struct {
		name     string
		injected string
		bi       *debug.BuildInfo
		ok       bool
		want     Info
	}{
		{"injected wins", "v1.4.0", vcs, true, Info{"v1.4.0", "go1.26.8", "1a2b3c4d5e6f-dirty"}},
		{"module version from vcs", "", vcs, true, Info{"v0.0.0-20260101120000-1a2b3c4d5e6f+dirty", "go1.26.8", "1a2b3c4d5e6f-dirty"}},
		{"clean tree", "", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.3"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc"}, {Key: "vcs.modified", Value: "false"}}}, true, Info{"v1.2.3", "go1.26.8", "abc"}},
		{"no vcs", "", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}}, true, Info{"(devel)", "go1.26.8", "unknown"}},
		{"empty main version", "", &debug.BuildInfo{GoVersion: "go1.26.8"}, true, Info{"(devel)", "go1.26.8", "unknown"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := fromBuild(tc.injected, tc.bi, tc.ok); got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
	if got := fromBuild("", nil, false); got.Version != "(devel)" || got.Revision != "unknown" || got.GoVersion == "" {
		t.Errorf("without build info: got %+v, want (devel), unknown and the runtime's Go version", got)
	}
}

func TestCollector(t *testing.T) {
	t.Parallel()
	info := Info{Version: "v1.4.0", GoVersion: "go1.26.8", Revision: "1a2b3c-dirty"}
	want := "# HELP pharos_build_info The running build: version, Go version and VCS revision in labels; always 1.\n" +
		"# TYPE pharos_build_info gauge\n" +
		`pharos_build_info{goversion="go1.26.8",revision="1a2b3c-dirty",version="v1.4.0"} 1` + "\n"
	if err := testutil.CollectAndCompare(info.Collector(), strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}
