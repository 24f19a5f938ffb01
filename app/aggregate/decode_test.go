package aggregate

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"pharos/app/pipeline"
	"pharos/app/store/storetest"
	"pharos/probes"
)

// TestDecodeResultMatchesPipeline holds decodeResult to
// pipeline.DecodeResult: the same result, or an error from both, for what
// workers send and for the odd inputs where JSON decoders tend to differ.
func TestDecodeResultMatchesPipeline(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t), 600)
	var inputs []string
	for _, i := range []int{0, 1, 3, 5, 7, 501} { // up, down everywhere, down in sin, cert expiring, slow in iad
		for _, region := range regions3 {
			for _, r := range []pipeline.Result{drainResult(f, i, region, 2), f.result(i, region, 1, probes.StateDown)} {
				b, err := pipeline.Marshal(r)
				if err != nil {
					t.Fatal(err)
				}
				inputs = append(inputs, string(b))
			}
		}
	}
	const id = `"id":"a","check_id":1,"region":"fra"`
	inputs = append(inputs,
		`{`+id+`}`, ` {`+id+`} `, `{`+id+`} x`, `{`+id+`}{}`, `{`+id, ``, `null`, `[]`, `"x"`, `{}`, `1`,
		`{"ID":"a","CHECK_ID":1,"Region":"fra"}`, `{"Id":"a","checkId":1,"region":"fra"}`, `{"id":"a","check-id":1,"region":"fra"}`,
		`{"id":"a","id":"b","check_id":1,"check_id":2,"region":"fra","ID":"c"}`,
		`{`+id+`,"worker":"w\xffx","job_id":"\ud800","round":"2"}`, `{`+id+`,"worker":"\u00e9\n\"\\"}`,
		`{"id":"a","check_id":1e30,"region":"fra"}`, `{"id":"a","check_id":1.5,"region":"fra"}`, `{"id":"a","check_id":"1","region":"fra"}`,
		`{"id":"a","check_id":-1,"region":"fra","org_id":null,"round":9223372036854775807}`,
		`{`+id+`,"produced":"2026-01-02T03:04:05.123456789+02:00"}`, `{`+id+`,"produced":"yesterday"}`, `{`+id+`,"produced":null}`,
		`{`+id+`,"produced":"2026-01-02T03:04:05Z","unknown":{"deep":[1,2,{"x":null}]}}`,
		`{`+id+`,"result":{"state":"up","problems":null,"nodes":[{"tls":null,"timings_ms":{"total":5}}]}}`,
		`{`+id+`,"result":{"state":7}}`, `{`+id+`,"result":{"nodes":{}}}`, `{`+id+`,"result":[]}`,
		`{`+id+`,"result":{"checked_at":"2026-13-01T00:00:00Z"}}`, `{`+id+`,"result":{"duration_ms":1e3}}`,
		`{"id":"","check_id":1,"region":"fra"}`, `{"id":"a","check_id":0,"region":"fra"}`, `{"id":"a","check_id":1}`,
		strings.Repeat(`[`, 20000)+strings.Repeat(`]`, 20000),
	)
	for _, in := range inputs {
		want, wantErr := pipeline.DecodeResult([]byte(in))
		got, gotErr := decodeResult([]byte(in))
		if (wantErr == nil) != (gotErr == nil) {
			t.Errorf("%.120q: pipeline.DecodeResult error %v, decodeResult error %v", in, wantErr, gotErr)
			continue
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%.120q: decodeResult differs (-pipeline +ours):\n%s", in, diff)
		}
	}
}
