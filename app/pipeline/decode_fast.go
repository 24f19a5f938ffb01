package pipeline

import (
	"crypto/sha256"
	"time"
	"unicode/utf16"
	"unicode/utf8"
	"unique"

	jsonv1 "github.com/go-json-experiment/json/v1"

	"pharos/probes"
)

// decodeResultFast decodes a result as the workers write it, more than twice
// as fast as the reflection engine, and reports false for anything else.
// DecodeResult then decodes the input again with the reflection engine,
// so the fast path only has to be right where it answers: it accepts the
// result's own lowercase field names, each at most once, strings without
// invalid UTF-8 or lone surrogates, integers without fraction or exponent,
// and JSON null where encoding/json leaves a field as it was (every field
// of a fresh Result). An unknown or repeated name, a name in another case
// or with escapes, a float, a string where a number goes: all of those
// take the reflection path, which gives encoding/json's answer for them.
// TestFastDecodeCoversResult fails when a field is added to Result without
// being added here.
func decodeResultFast(b []byte) (Result, bool) {
	s := scanner{b: b}
	var r Result
	if !s.result(&r) {
		return Result{}, false
	}
	s.ws()
	return r, s.i == len(s.b)
}

// decodeJobFast decodes a job as the scheduler writes it, on the same
// terms as decodeResultFast. The spec, the bulk of a job and the same
// bytes every round of a check, is looked up by the digest of its bytes in
// decodedSpecs and decoded by the reflection engine only when it is not
// there: a field's value decodes the same on its own as inside the job,
// since it is given once and into a fresh Job.
func decodeJobFast(b []byte) (Job, bool) {
	s := scanner{b: b}
	var j Job
	if !s.job(&j) {
		return Job{}, false
	}
	s.ws()
	return j, s.i == len(s.b)
}

// scanner reads JSON from b at i.
type scanner struct {
	b []byte
	i int
}

// fields tracks the names an object has given, so a repeated one (whose
// merging rules the fast path does not copy) sends the input to the
// reflection engine.
type fields uint32

func (f *fields) first(n uint) bool {
	if *f&(1<<n) != 0 {
		return false
	}
	*f |= 1 << n
	return true
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// next skips whitespace and consumes c if it comes next.
func (s *scanner) next(c byte) bool {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// null consumes a null literal if one comes next.
func (s *scanner) null() bool {
	s.ws()
	if len(s.b)-s.i >= 4 && string(s.b[s.i:s.i+4]) == "null" {
		s.i += 4
		return true
	}
	return false
}

// object reads an object, calling field for each name with the scanner
// before the value; null leaves the destination as it is.
func (s *scanner) object(field func(name []byte) bool) bool {
	if s.null() {
		return true
	}
	if !s.next('{') {
		return false
	}
	if s.next('}') {
		return true
	}
	for {
		s.ws()
		name, ok := s.name()
		if !ok || !s.next(':') || !field(name) {
			return false
		}
		if s.next('}') {
			return true
		}
		if !s.next(',') {
			return false
		}
	}
}

// array reads an array, calling elem for each element; it reports
// whether the array was null (the slice stays nil).
func (s *scanner) array(elem func() bool) (isNull, ok bool) {
	if s.null() {
		return true, true
	}
	if !s.next('[') {
		return false, false
	}
	if s.next(']') {
		return false, true
	}
	for {
		if !elem() {
			return false, false
		}
		if s.next(']') {
			return false, true
		}
		if !s.next(',') {
			return false, false
		}
	}
}

// plain marks the bytes a string holds as they are: printable ASCII
// other than the quote and the backslash.
var plain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// name reads an object's name, refusing escapes (a name spelled with
// escapes is never the workers').
func (s *scanner) name() ([]byte, bool) {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, false
	}
	j := s.i + 1
	for j < len(s.b) && plain[s.b[j]] {
		j++
	}
	if j == len(s.b) || s.b[j] != '"' {
		return nil, false
	}
	name := s.b[s.i+1 : j]
	s.i = j + 1
	return name, true
}

// raw reads a string without escapes and returns its contents.
func (s *scanner) raw() ([]byte, bool) {
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, false
	}
	ascii := true
	for j := s.i + 1; j < len(s.b); j++ {
		for j < len(s.b) && plain[s.b[j]] {
			j++
		}
		if j == len(s.b) {
			break
		}
		switch c := s.b[j]; {
		case c == '"':
			v := s.b[s.i+1 : j]
			if !ascii && !utf8.Valid(v) {
				return nil, false
			}
			s.i = j + 1
			return v, true
		case c == '\\' || c < 0x20:
			return nil, false
		default: // the bytes of a multi-byte character, checked at the end
			ascii = false
		}
	}
	return nil, false
}

// str reads a string into dst.
func (s *scanner) str(dst *string) bool {
	if s.null() {
		return true
	}
	start := s.i
	if v, ok := s.raw(); ok {
		*dst = string(v)
		return true
	}
	s.i = start
	v, ok := s.escaped()
	if ok {
		*dst = string(v)
	}
	return ok
}

// escaped reads a string with escapes.
func (s *scanner) escaped() ([]byte, bool) {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, false
	}
	out := make([]byte, 0, 64)
	for j := s.i + 1; j < len(s.b); j++ {
		c := s.b[j]
		switch {
		case c == '"':
			if !utf8.Valid(out) {
				return nil, false
			}
			s.i = j + 1
			return out, true
		case c < 0x20:
			return nil, false
		case c != '\\':
			out = append(out, c)
			continue
		}
		j++
		if j >= len(s.b) {
			return nil, false
		}
		switch s.b[j] {
		case '"', '\\', '/':
			out = append(out, s.b[j])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := hex4(s.b, j+1)
			if !ok {
				return nil, false
			}
			j += 4
			if utf16.IsSurrogate(r) {
				// Only a valid pair; encoding/json's replacement of a lone
				// half is left to it.
				if j+6 >= len(s.b) || s.b[j+1] != '\\' || s.b[j+2] != 'u' {
					return nil, false
				}
				r2, ok := hex4(s.b, j+3)
				if r = utf16.DecodeRune(r, r2); !ok || r == utf8.RuneError {
					return nil, false
				}
				j += 6
			}
			out = utf8.AppendRune(out, r)
		default:
			return nil, false
		}
	}
	return nil, false
}

// hex4 reads the four hex digits of a \u escape at b[i:].
func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// integer reads an integer without fraction or exponent (the delimiter
// check after the value refuses those) into dst.
func (s *scanner) integer(dst *int64) bool {
	if s.null() {
		return true
	}
	neg := s.i < len(s.b) && s.b[s.i] == '-'
	j := s.i
	if neg {
		j++
	}
	start := j
	var n uint64
	for ; j < len(s.b) && '0' <= s.b[j] && s.b[j] <= '9'; j++ {
		if n > (1<<63)/10 {
			return false
		}
		n = n*10 + uint64(s.b[j]-'0')
	}
	switch {
	case j == start, j-start > 1 && s.b[start] == '0': // no digits, or a leading zero
		return false
	case neg && n > 1<<63, !neg && n > 1<<63-1:
		return false
	}
	s.i = j
	if neg {
		*dst = -int64(n)
	} else {
		*dst = int64(n)
	}
	return true
}

func (s *scanner) smallInt(dst *int) bool {
	var n int64
	if !s.integer(&n) || int64(int(n)) != n {
		return false
	}
	*dst = int(n)
	return true
}

func (s *scanner) boolean(dst *bool) bool {
	if s.null() {
		return true
	}
	switch {
	case len(s.b)-s.i >= 4 && string(s.b[s.i:s.i+4]) == "true":
		*dst, s.i = true, s.i+4
	case len(s.b)-s.i >= 5 && string(s.b[s.i:s.i+5]) == "false":
		*dst, s.i = false, s.i+5
	default:
		return false
	}
	return true
}

// time reads a timestamp as encoding/json does, with time.Time's own
// UnmarshalJSON.
func (s *scanner) time(dst *time.Time) bool {
	if s.null() {
		return true
	}
	start := s.i
	if _, ok := s.raw(); !ok {
		return false
	}
	return dst.UnmarshalJSON(s.b[start:s.i]) == nil
}

// list reads an array of T into dst with elem: null leaves dst nil, and
// [] makes it empty, as encoding/json does.
func list[T any](s *scanner, dst *[]T, elem func(*T) bool) bool {
	out := []T{}
	isNull, ok := s.array(func() bool {
		var zero T
		out = append(out, zero)
		return elem(&out[len(out)-1]) // in place: a local would escape to elem
	})
	if ok && !isNull {
		*dst = out
	}
	return ok
}

func (s *scanner) result(r *Result) bool {
	var seen fields
	return s.object(func(name []byte) bool {
		switch string(name) {
		case "id":
			return seen.first(0) && s.str(&r.ID)
		case "job_id":
			return seen.first(1) && s.str(&r.JobID)
		case "org_id":
			return seen.first(2) && s.integer(&r.OrgID)
		case "check_id":
			return seen.first(3) && s.integer(&r.CheckID)
		case "region":
			return seen.first(4) && s.str(&r.Region)
		case "round":
			return seen.first(5) && s.integer(&r.Round)
		case "worker":
			return seen.first(6) && s.str(&r.Worker)
		case "produced":
			return seen.first(7) && s.time(&r.Produced)
		case "result":
			return seen.first(8) && s.probe(&r.Result)
		case "beacon":
			return seen.first(9) && s.boolean(&r.Beacon)
		}
		return false
	})
}

func (s *scanner) job(j *Job) bool {
	var seen fields
	return s.object(func(name []byte) bool {
		switch string(name) {
		case "id":
			return seen.first(0) && s.str(&j.ID)
		case "org_id":
			return seen.first(1) && s.integer(&j.OrgID)
		case "check_id":
			return seen.first(2) && s.integer(&j.CheckID)
		case "region":
			return seen.first(3) && s.str(&j.Region)
		case "round":
			return seen.first(4) && s.integer(&j.Round)
		case "spec":
			return seen.first(5) && s.spec(&j.Spec)
		case "due":
			return seen.first(6) && s.time(&j.Due)
		case "deadline":
			return seen.first(7) && s.time(&j.Deadline)
		case "run_now":
			return seen.first(8) && s.boolean(&j.RunNow)
		}
		return false
	})
}

// spec reads a probe specification, from decodedSpecs when its bytes are
// there (by their SHA-256 digest).
func (s *scanner) spec(dst *probes.Spec) bool {
	s.ws()
	if s.null() {
		return true
	}
	start := s.i
	end, ok := s.objectEnd()
	if !ok {
		return false
	}
	raw := s.b[start:end]
	key := sha256.Sum256(raw) // a spec's JSON is most of a kilobyte; the memo keeps 32 bytes of it
	if hit, ok := decodedSpecs.get(key[:]); ok {
		*dst, s.i = hit, end
		return true
	}
	var spec probes.Spec
	if jsonv1.Unmarshal(raw, &spec) != nil {
		return false // the reflection engine explains it, on the whole job
	}
	// The checks that trust one private CA all carry its PEM, most of
	// their spec: the memo's entries share one copy of it.
	spec.TLS.CA = unique.Make(spec.TLS.CA).Value()
	decodedSpecs.put(key[:], spec)
	*dst, s.i = spec, end
	return true
}

func (s *scanner) probe(r *probes.Result) bool {
	var seen fields
	return s.object(func(name []byte) bool {
		switch string(name) {
		case "url":
			return seen.first(0) && s.str(&r.URL)
		case "state":
			return seen.first(1) && s.str((*string)(&r.State))
		case "checked_at":
			return seen.first(2) && s.time(&r.CheckedAt)
		case "duration_ms":
			return seen.first(3) && s.integer(&r.DurationMS)
		case "problems":
			return seen.first(4) && list(s, &r.Problems, s.problem)
		case "nodes":
			return seen.first(5) && list(s, &r.Nodes, s.node)
		case "error":
			return seen.first(6) && s.str(&r.Error)
		}
		return false
	})
}

func (s *scanner) problem(p *probes.Problem) bool {
	var seen fields
	return s.object(func(name []byte) bool {
		switch string(name) {
		case "code":
			return seen.first(0) && s.str((*string)(&p.Code))
		case "severity":
			return seen.first(1) && s.str((*string)(&p.Severity))
		case "node":
			return seen.first(2) && s.str(&p.Node)
		case "message":
			return seen.first(3) && s.str(&p.Message)
		}
		return false
	})
}

func (s *scanner) node(n *probes.NodeResult) bool {
	var seen fields
	return s.object(func(name []byte) bool {
		switch string(name) {
		case "address":
			return seen.first(0) && s.str(&n.Address)
		case "state":
			return seen.first(1) && s.str((*string)(&n.State))
		case "status_code":
			return seen.first(2) && s.smallInt(&n.StatusCode)
		case "timings_ms":
			return seen.first(3) && s.timings(&n.Timings)
		case "tls":
			if !seen.first(4) {
				return false
			}
			if s.null() {
				return true
			}
			n.TLS = new(probes.TLSInfo)
			return s.tls(n.TLS)
		case "final_url":
			return seen.first(5) && s.str(&n.FinalURL)
		case "problems":
			return seen.first(6) && list(s, &n.Problems, s.problem)
		case "error":
			return seen.first(7) && s.str(&n.Error)
		}
		return false
	})
}

func (s *scanner) timings(t *probes.Timings) bool {
	var seen fields
	return s.object(func(name []byte) bool {
		switch string(name) {
		case "dns":
			return seen.first(0) && s.integer(&t.DNS)
		case "connect":
			return seen.first(1) && s.integer(&t.Connect)
		case "tls":
			return seen.first(2) && s.integer(&t.TLS)
		case "ttfb":
			return seen.first(3) && s.integer(&t.TTFB)
		case "total":
			return seen.first(4) && s.integer(&t.Total)
		}
		return false
	})
}

func (s *scanner) tls(t *probes.TLSInfo) bool {
	var seen fields
	return s.object(func(name []byte) bool {
		switch string(name) {
		case "version":
			return seen.first(0) && s.str(&t.Version)
		case "cipher":
			return seen.first(1) && s.str(&t.Cipher)
		case "chain_trusted":
			return seen.first(2) && s.boolean(&t.ChainTrusted)
		case "leaf":
			return seen.first(3) && s.cert(&t.Leaf)
		case "chain":
			return seen.first(4) && list(s, &t.Chain, s.cert)
		}
		return false
	})
}

// cert reads a certificate. The same certificates come in result after
// result (every check of a host, every round until the day changes its
// days_left), so a certificate's object is looked up by its bytes in
// decodedCerts first, and decoded only when it is not there: decoding is a
// function of those bytes alone. The DNSNames and IPs of a certificate
// found there are shared with the results that found it before.
func (s *scanner) cert(c *probes.CertInfo) bool {
	s.ws()
	start := s.i
	if end, ok := s.objectEnd(); ok {
		if hit, ok := decodedCerts.get(s.b[start:end]); ok {
			*c = hit
			s.i = end
			return true
		}
	}
	if !s.certFields(c) {
		return false
	}
	if s.b[start] == '{' {
		decodedCerts.put(s.b[start:s.i], *c)
	}
	return true
}

// objectEnd returns the end of the object at i without reading it: where
// the brace that closes it is, strings skipped whole. It checks nothing
// else, so its answer is only a key to look up; false if no object starts
// at i or none ends.
func (s *scanner) objectEnd() (int, bool) {
	if s.i >= len(s.b) || s.b[s.i] != '{' {
		return 0, false
	}
	depth := 0
	for j := s.i; j < len(s.b); j++ {
		switch s.b[j] {
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return j + 1, true
			}
		case '"':
			for j++; j < len(s.b) && s.b[j] != '"'; j++ {
				if s.b[j] == '\\' {
					j++
				}
			}
		}
	}
	return 0, false
}

func (s *scanner) certFields(c *probes.CertInfo) bool {
	var seen fields
	return s.object(func(name []byte) bool {
		switch string(name) {
		case "subject":
			return seen.first(0) && s.str(&c.Subject)
		case "issuer":
			return seen.first(1) && s.str(&c.Issuer)
		case "serial":
			return seen.first(2) && s.str(&c.Serial)
		case "sha256":
			return seen.first(3) && s.str(&c.SHA256)
		case "dns_names":
			return seen.first(4) && list(s, &c.DNSNames, s.str)
		case "ip_addresses":
			return seen.first(5) && list(s, &c.IPs, s.str)
		case "not_before":
			return seen.first(6) && s.time(&c.NotBefore)
		case "not_after":
			return seen.first(7) && s.time(&c.NotAfter)
		case "days_left":
			return seen.first(8) && s.smallInt(&c.DaysLeft)
		case "source":
			return seen.first(9) && s.str(&c.Source)
		}
		return false
	})
}
