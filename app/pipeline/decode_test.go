package pipeline

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"pharos/probes"
)

// referenceDecode is DecodeResult on encoding/json: the semantics the fast
// engine must keep.
func referenceDecode(b []byte) (Result, error) {
	var r Result
	if err := json.Unmarshal(b, &r); err != nil {
		return Result{}, err
	}
	if r.ID == "" || (r.CheckID == 0 && !r.Beacon) || r.Region == "" {
		return Result{}, errors.New("without identity")
	}
	return r, nil
}

// realisticResult is what a worker sends for a TLS check of one node.
func realisticResult(i int, state probes.State) Result {
	at := time.Date(2026, 11, 21, 10, 0, i%60, 0, time.UTC)
	leaf := probes.CertInfo{Subject: "CN=media.example.org", Issuer: "CN=R11,O=Let's Encrypt,C=US", Serial: "04ab3f",
		SHA256: strings.Repeat("9f", 32), DNSNames: []string{"media.example.org", "www.media.example.org"},
		NotBefore: at.AddDate(0, -1, 0), NotAfter: at.AddDate(0, 2, 0), DaysLeft: 61}
	node := probes.NodeResult{Address: "203.0.113.7:443", State: state, StatusCode: 200,
		Timings: probes.Timings{DNS: 3, Connect: 12, TLS: 40, TTFB: 61, Total: 70},
		TLS: &probes.TLSInfo{Version: "TLS 1.3", Cipher: "TLS_AES_128_GCM_SHA256", ChainTrusted: true, Leaf: leaf,
			Chain: []probes.CertInfo{leaf, {Subject: "CN=R11,O=Let's Encrypt,C=US", Issuer: "CN=ISRG Root X1", Source: "presented"}}},
		Problems: []probes.Problem{}}
	res := probes.Result{URL: "https://media.example.org/logo.png", State: state, CheckedAt: at, DurationMS: 182,
		Problems: []probes.Problem{}, Nodes: []probes.NodeResult{node}}
	if state == probes.StateDown {
		p := probes.Problem{Code: "cert_expired", Severity: "critical", Node: node.Address,
			Message: "certificate for media.example.org expired 2026-11-20 03:07 UTC (1 day ago) on 203.0.113.7:443"}
		res.Problems, res.Nodes[0].Problems = []probes.Problem{p}, []probes.Problem{p}
	}
	return Result{ID: "0190f3a2-7c1e-7b3d-9a55-1c2d3e4f5a6b", JobID: "0190f3a2-7c1e-7b3d-9a55-000000000001",
		OrgID: 1, CheckID: int64(1 + i), Region: "fra", Round: 29_000_000 + int64(i), Worker: "probe-fra-1-ab12",
		Produced: at.Add(70 * time.Millisecond), Result: res}
}

// refusedResult is what a worker sends when the node refused the
// connection: no TLS, no status, the failure as the node's error.
func refusedResult(i int) Result {
	r := realisticResult(i, probes.StateDown)
	n := &r.Result.Nodes[0]
	p := probes.Problem{Code: "connection_failed", Severity: "critical", Node: n.Address,
		Message: "could not connect to 203.0.113.7:443: connection refused"}
	n.TLS, n.StatusCode, n.Timings = nil, 0, probes.Timings{Total: 1}
	n.Problems, r.Result.Problems, n.Error = []probes.Problem{p}, []probes.Problem{p}, p.Message
	return r
}

// TestDecodeMatchesEncodingJSON holds the fast engine to encoding/json: the
// same result, or an error from both, for what workers send and for the odd
// inputs where JSON decoders tend to differ.
func TestDecodeMatchesEncodingJSON(t *testing.T) {
	var inputs []string
	for i, state := range []probes.State{probes.StateUp, probes.StateDown, probes.StateDegraded} {
		b, err := Marshal(realisticResult(i, state))
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, string(b))
	}
	refused, err := Marshal(refusedResult(3))
	if err != nil {
		t.Fatal(err)
	}
	const id = `"id":"a","check_id":1,"region":"fra"`
	inputs = append(inputs, string(refused),
		`{`+id+`,"result":{"nodes":[{"error":"refused","error":"again"}]}}`, `{`+id+`,"result":{"nodes":[{"error":null}]}}`,
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
		want, wantErr := referenceDecode([]byte(in))
		got, gotErr := DecodeResult([]byte(in))
		if (wantErr == nil) != (gotErr == nil) {
			t.Errorf("%.120q: encoding/json error %v, DecodeResult error %v", in, wantErr, gotErr)
			continue
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%.120q: DecodeResult differs (-encoding/json +DecodeResult):\n%s", in, diff)
		}
	}
}

// BenchmarkDecodeResult compares the engine with encoding/json on a
// realistic result. Its certificates repeat, as they do from round to
// round, so after the first iteration the engine finds them decoded
// (decodedCerts).
func BenchmarkDecodeResult(b *testing.B) {
	payload, err := Marshal(realisticResult(1, probes.StateUp))
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name   string
		decode func([]byte) (Result, error)
	}{{"encoding_json", referenceDecode}, {"pipeline", DecodeResult}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(payload)))
			for b.Loop() {
				if _, err := bc.decode(payload); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestFastDecodeCoversResult fills every field of a Result, nested ones
// included, encodes it as a worker does and requires the fast path to
// accept it with encoding/json's answer. A field added to Result (or to
// what it holds) and not to decodeResultFast fails here, instead of
// sending every result quietly to the slower engine.
func TestFastDecodeCoversResult(t *testing.T) {
	var r Result
	fill(reflect.ValueOf(&r).Elem(), "x<&>\"é😀\u2028\\/\t")
	r.Beacon = true
	b, err := Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := decodeResultFast(b)
	if !ok {
		t.Fatalf("the fast path refused a full result:\n%s", b)
	}
	want, err := referenceDecode(b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("fast path differs (-encoding/json +fast):\n%s", diff)
	}
	if diff := cmp.Diff(r, got); diff != "" {
		t.Errorf("round trip differs (-sent +decoded):\n%s", diff)
	}
	for _, state := range []probes.State{probes.StateUp, probes.StateDown, probes.StateDegraded} {
		b, err := Marshal(realisticResult(3, state))
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := decodeResultFast(b); !ok {
			t.Errorf("the fast path refused a realistic %s result", state)
		}
	}
	b, err = Marshal(refusedResult(3))
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := decodeResultFast(b); !ok || got.Result.Nodes[0].Error == "" {
		t.Errorf("the fast path refused a result with a node error, or lost it (ok %v):\n%s", ok, b)
	}
}

// fill sets every field reachable from v to a value other than its zero,
// with str in every string.
func fill(v reflect.Value, str string) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(str)
	case reflect.Int, reflect.Int64:
		v.SetInt(-1234567890123)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), str)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			fill(v.Index(i), str)
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Date(2026, 11, 30, 19, 4, 5, 123456789, time.FixedZone("", 3600))))
			return
		}
		for i := range v.NumField() {
			fill(v.Field(i), str)
		}
	default:
		panic("fill: add " + v.Kind().String())
	}
}

// FuzzDecodeResult holds the fast path to encoding/json on any input it
// accepts: the same result, and no result where encoding/json refuses the
// input. (What it refuses goes to the reflection engine, which
// TestDecodeMatchesEncodingJSON holds to encoding/json; that engine takes
// a time with escapes, "…05\u005a", which encoding/json does not.)
func FuzzDecodeResult(f *testing.F) {
	for i, state := range []probes.State{probes.StateUp, probes.StateDown, probes.StateDegraded} {
		b, err := Marshal(realisticResult(i, state))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	refused, err := Marshal(refusedResult(3))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(refused)
	const id = `"id":"a","check_id":1,"region":"fra"`
	for _, s := range []string{
		`{` + id + `,"worker":"\ud83d\ude00 \u00e9 \u003c \"\\\/\b\f\n\r\t"}`, `{` + id + `,"worker":"\ud83dx"}`,
		`{` + id + `,"worker":"\udc00\ud83d"}`, `{` + id + `,"worker":"\u12"}`, `{` + id + `,"worker":"a\x01"}`,
		`{` + id + `,"round":-9223372036854775808}`, `{` + id + `,"round":9223372036854775808}`, `{` + id + `,"round":-0}`,
		`{` + id + `,"round":01}`, `{` + id + `,"round":1.0}`, `{` + id + `,"round":1E2}`, `{` + id + `,"round":-}`,
		`{` + id + `,"beacon":true}`, `{` + id + `,"beacon":tru}`, `{` + id + `,"beacon":null}`, `{` + id + `,"beacon":1}`,
		`{` + id + `,"result":{"nodes":[null,{"tls":{"chain":[null],"leaf":null}}],"problems":[null]}}`,
		`{` + id + `,"result":{"nodes":[{"tls":{"leaf":{"dns_names":["a",null],"not_after":"2026-01-02T03:04:05Z"}}}]}}`,
		`{` + id + `,"result":{"nodes":[{"tls":{"leaf":{"not_after":"2026-01-02T03:04:05\u005a"}}}]}}`,
		`{` + id + `,"result":{"nodes":[{"status_code":200,"timings_ms":{"dns":1,"dns":2}}]}}`,
		`{` + id + `,"result":{"state":"up","STATE":"down"}}`, `{` + id + `,"Worker":"w"}`, `{` + id + `,"w\u006frker":"w"}`,
		`{` + id + `,}`, `{` + id + ` , "worker" : "w" }` + "\n", `{` + id + `}` + "\t ", `{"id":"a",` + "\xff" + `}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, ok := decodeResultFast(b)
		if !ok {
			return
		}
		var want Result
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatalf("%q: encoding/json error %v, the fast path took it", b, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("%q: fast path differs (-encoding/json +fast):\n%s", b, diff)
		}
	})
}
