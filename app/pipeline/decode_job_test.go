package pipeline

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
	"unsafe"

	jsonv1 "github.com/go-json-experiment/json/v1"
	"github.com/google/go-cmp/cmp"

	"pharos/probes"
)

// referenceDecodeJob is DecodeJob on encoding/json: the semantics the fast
// path must keep.
func referenceDecodeJob(b []byte) (Job, error) {
	var j Job
	if err := json.Unmarshal(b, &j); err != nil {
		return Job{}, err
	}
	if j.ID == "" || j.CheckID == 0 || j.Region == "" {
		return Job{}, errors.New("without identity")
	}
	return j, nil
}

// realisticSpec is a check of every node of an image host, with content
// and certificate expectations.
func realisticSpec(i int) probes.Spec {
	return probes.Spec{
		URL:   fmt.Sprintf("https://media%d.example.org/logo.png", i),
		Nodes: probes.Nodes{All: true},
		TLS:   probes.TLSSpec{WarnDays: 21, CriticalDays: 7, Issuer: "Let's Encrypt", MinVersion: "1.2"},
		Expect: probes.Expect{
			BodyContains: []string{"PNG"}, BodyNotContains: []string{"maintenance"},
			Headers: map[string]string{"Content-Type": "image/png"},
			JSON:    map[string]any{"status": "ok", "items": []any{1.0, "two"}},
		},
		Timeout:  probes.Duration(10 * time.Second),
		Severity: map[probes.Code]probes.Severity{probes.CodeCertIssuerChanged: "critical"},
	}
}

// schedulerJob lays a job out as the scheduler writes it: the round's
// fields first, then the check's, which it encodes once per catalogue.
func schedulerJob(t testing.TB, i int, runNow bool) []byte {
	t.Helper()
	static, err := json.Marshal(struct {
		OrgID   int64       `json:"org_id"`
		CheckID int64       `json:"check_id"`
		Region  string      `json:"region"`
		Spec    probes.Spec `json:"spec"`
	}{1, int64(1 + i), "fra", realisticSpec(i)})
	if err != nil {
		t.Fatal(err)
	}
	due := time.Date(2026, 12, 2, 10, 0, i%60, 0, time.UTC)
	b := fmt.Appendf(nil, `{"id":"0190f3a2-7c1e-7b3d-9a55-%012d","round":%d,"due":%q,"deadline":%q,`,
		i, 29_000_000+i, due.Format(time.RFC3339Nano), due.Add(30*time.Second).Format(time.RFC3339Nano))
	if runNow {
		b = append(b, `"run_now":true,`...)
	}
	return append(b, static[1:]...)
}

// TestDecodeJobMatchesEncodingJSON holds DecodeJob to encoding/json for
// jobs as the scheduler writes them, twice each (the second finds the spec
// decoded), and for the odd inputs where decoders differ.
func TestDecodeJobMatchesEncodingJSON(t *testing.T) {
	inputs := []string{string(schedulerJob(t, 1, false)), string(schedulerJob(t, 2, true))}
	marshalled, err := Marshal(Job{ID: "j", OrgID: 2, CheckID: 3, Region: "fra", Round: 4, Spec: realisticSpec(3)})
	if err != nil {
		t.Fatal(err)
	}
	const id = `"id":"a","check_id":1,"region":"fra"`
	inputs = append(inputs, string(marshalled),
		`{`+id+`}`, `{`+id+`,"spec":null}`, `{`+id+`,"spec":{}}`, `{`+id+`,"spec":"x"}`, `{`+id+`,"spec":[]}`,
		`{`+id+`,"spec":{"url":"https://a"},"spec":{"timeout":"5s"}}`, `{`+id+`,"Spec":{"url":"https://a"}}`,
		`{`+id+`,"spec":{"url":"https://a","URL":"https://b","nodes":"all","unknown":[{"}":"{"}]}}`,
		`{`+id+`,"spec":{"nodes":"some"}}`, `{`+id+`,"spec":{"nodes":["10.0.0.1",7]}}`, `{`+id+`,"spec":{"timeout":"soon"}}`,
		`{`+id+`,"spec":{"url":"\u0068ttps://a\"}\\"}}`, `{`+id+`,"spec":{"url":"a\xff"}}`, `{`+id+`,"spec":{"url":1}`,
		`{`+id+`,"spec":{"url":"https://a"}} x`, `{`+id+`,"spec":{"url":"https://a"}`, `{`+id+`,"spec":{"url":}}`,
		`{`+id+`,"run_now":true}`, `{`+id+`,"run_now":"yes"}`, `{`+id+`,"round":1.5}`, `{`+id+`,"due":"never"}`,
		`{"ID":"a","check_id":1,"region":"fra"}`, `{"id":"a","id":"b","check_id":1,"region":"fra"}`,
		`{"check_id":1,"region":"fra"}`, `not json`, ``, `{}`,
	)
	for _, in := range inputs {
		want, wantErr := referenceDecodeJob([]byte(in))
		for range 2 {
			got, gotErr := DecodeJob([]byte(in))
			if (wantErr == nil) != (gotErr == nil) {
				t.Errorf("%.160q: encoding/json error %v, DecodeJob error %v", in, wantErr, gotErr)
				break
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%.160q: DecodeJob differs (-encoding/json +DecodeJob):\n%s", in, diff)
				break
			}
		}
	}
}

// TestFastDecodeCoversJob requires the fast path to take every field of
// a job, as the scheduler writes it and as Marshal does: a field added to
// Job and not to decodeJobFast fails here instead of sending every job
// quietly to the slower engine.
func TestFastDecodeCoversJob(t *testing.T) {
	j := Job{ID: "x", OrgID: 1, CheckID: 2, Region: "fra", Round: 3, Spec: realisticSpec(9),
		Due: time.Unix(60, 0).UTC(), Deadline: time.Unix(90, 0).UTC(), RunNow: true}
	full, err := Marshal(j)
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(full, &fields); err != nil {
		t.Fatal(err)
	}
	if n := reflect.TypeFor[Job]().NumField(); len(fields) != n {
		t.Errorf("Marshal wrote %d fields, want every one of Job's %d set", len(fields), n)
	}
	for _, b := range [][]byte{full, schedulerJob(t, 9, true)} {
		got, ok := decodeJobFast(b)
		if !ok {
			t.Fatalf("the fast path refused a job:\n%s", b)
		}
		want, err := referenceDecodeJob(b)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("fast path differs (-encoding/json +fast):\n%s", diff)
		}
	}
}

// TestDecodedSpecsBounded decodes more distinct specs than two generations
// hold: each is decoded right, and the memo stays within its bound.
func TestDecodedSpecsBounded(t *testing.T) {
	for i := range 2*memoSize + 10 {
		b := schedulerJob(t, i, false)
		got, err := DecodeJob(b)
		if err != nil {
			t.Fatal(err)
		}
		if want := realisticSpec(i).URL; got.Spec.URL != want || got.CheckID != int64(1+i) {
			t.Fatalf("job %d: spec URL %q check %d, want %q", i, got.Spec.URL, got.CheckID, want)
		}
	}
	checkBounded(t, "specs", decodedSpecs)
}

// BenchmarkDecodeJob compares DecodeJob with encoding/json and with its
// own reflection engine alone (DecodeJob before decodeJobFast) on a job
// as the scheduler writes it, one of 1,000 checks in turn, as a worker
// sees them.
func BenchmarkDecodeJob(b *testing.B) {
	jobs := make([][]byte, 1000)
	for i := range jobs {
		jobs[i] = schedulerJob(b, i, false)
	}
	for _, bc := range []struct {
		name   string
		decode func([]byte) (Job, error)
	}{{"encoding_json", referenceDecodeJob}, {"reflection", func(b []byte) (Job, error) {
		var j Job
		return j, jsonv1.Unmarshal(b, &j)
	}}, {"pipeline", DecodeJob}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(jobs[0])))
			i := 0
			for b.Loop() {
				if _, err := bc.decode(jobs[i%len(jobs)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// Jobs of checks that trust one private CA decode to specs sharing one
// copy of its PEM: the memo holds one spec per check, and the PEM is most
// of each.
func TestDecodedSpecsShareTheirCA(t *testing.T) {
	pem := strings.Repeat("MIIBszCCAVmgAwIBAgIUQ3x9", 25)
	var cas []string
	for i := range 3 {
		spec := realisticSpec(9000 + i)
		spec.TLS.CA = string([]byte(pem)) // each check's its own bytes, as apply reads them
		b, err := Marshal(Job{ID: "j", OrgID: 1, CheckID: int64(9000 + i), Region: "fra", Spec: spec})
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeJob(b)
		if err != nil {
			t.Fatal(err)
		}
		if got.Spec.TLS.CA != pem || got.Spec.URL != spec.URL {
			t.Fatalf("job %d: CA %.20q… URL %q, want the PEM and %q", i, got.Spec.TLS.CA, got.Spec.URL, spec.URL)
		}
		cas = append(cas, got.Spec.TLS.CA)
	}
	for i, ca := range cas[1:] {
		if unsafe.StringData(ca) != unsafe.StringData(cas[0]) {
			t.Errorf("job %d: its spec holds its own copy of the CA", i+1)
		}
	}
}
