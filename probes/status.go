package probes

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// StatusRange is an inclusive range of HTTP status codes; Lo == Hi for one code.
type StatusRange struct{ Lo, Hi int }

// StatusSet is a set of accepted HTTP status codes, written "200,204" or
// "200-399" on the command line and `[200]` or `["200-299", 304]` in YAML.
// An empty set means the default, 200-399.
type StatusSet []StatusRange

// ParseStatusSet parses a comma-separated list of codes and ranges such as
// "200,204" or "200-299,304".
func ParseStatusSet(s string) (StatusSet, error) {
	var set StatusSet
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		r, err := parseStatusRange(part)
		if err != nil {
			return nil, err
		}
		set = append(set, r)
	}
	if len(set) == 0 {
		return nil, fmt.Errorf("status set %q is empty", s)
	}
	return set, nil
}

func parseStatusRange(s string) (StatusRange, error) {
	lo, hi, isRange := strings.Cut(s, "-")
	a, err := parseStatusCode(lo)
	if err != nil {
		return StatusRange{}, err
	}
	if !isRange {
		return StatusRange{a, a}, nil
	}
	b, err := parseStatusCode(hi)
	if err != nil {
		return StatusRange{}, err
	}
	if b < a {
		return StatusRange{}, fmt.Errorf("status range %q runs backwards", s)
	}
	return StatusRange{a, b}, nil
}

func parseStatusCode(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 100 || n > 599 {
		return 0, fmt.Errorf("%q is not an HTTP status code (100-599)", s)
	}
	return n, nil
}

// Contains reports whether code is in the set; an empty set means 200-399.
func (s StatusSet) Contains(code int) bool {
	if len(s) == 0 {
		return code >= 200 && code <= 399
	}
	for _, r := range s {
		if code >= r.Lo && code <= r.Hi {
			return true
		}
	}
	return false
}

// String formats the set as ParseStatusSet reads it.
func (s StatusSet) String() string {
	if len(s) == 0 {
		return "200-399"
	}
	parts := make([]string, len(s))
	for i, r := range s {
		parts[i] = r.String()
	}
	return strings.Join(parts, ",")
}

// String formats r as "200" or "200-299".
func (r StatusRange) String() string {
	if r.Lo == r.Hi {
		return strconv.Itoa(r.Lo)
	}
	return fmt.Sprintf("%d-%d", r.Lo, r.Hi)
}

func (s StatusSet) items() []any {
	out := make([]any, len(s))
	for i, r := range s {
		if r.Lo == r.Hi {
			out[i] = r.Lo
		} else {
			out[i] = r.String()
		}
	}
	return out
}

// MarshalJSON writes a list of codes and "lo-hi" strings, like the YAML form.
func (s StatusSet) MarshalJSON() ([]byte, error) { return json.Marshal(s.items()) }

// UnmarshalJSON reads a code, a string such as "200-299,304", or a list of either.
func (s *StatusSet) UnmarshalJSON(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("status: %w", err)
	}
	set, err := statusFromAny(v)
	if err != nil {
		return fmt.Errorf("status: %w", err)
	}
	*s = set
	return nil
}

// MarshalYAML writes a list of codes and "lo-hi" strings.
func (s StatusSet) MarshalYAML() (any, error) { return s.items(), nil }

// UnmarshalYAML reads `status: [200]`, `status: 200-299` or `status: [200, "300-399"]`.
func (s *StatusSet) UnmarshalYAML(v *yaml.Node) error {
	var raw any
	if err := v.Decode(&raw); err != nil {
		return fmt.Errorf("line %d: status: %w", v.Line, err)
	}
	set, err := statusFromAny(raw)
	if err != nil {
		return fmt.Errorf("line %d: status: %w", v.Line, err)
	}
	*s = set
	return nil
}

func statusFromAny(v any) (StatusSet, error) {
	switch v := v.(type) {
	case string:
		return ParseStatusSet(v)
	case float64:
		if v != float64(int(v)) {
			return nil, fmt.Errorf("%v is not an HTTP status code", v)
		}
		return statusFromAny(int(v))
	case int:
		c, err := parseStatusCode(strconv.Itoa(v))
		if err != nil {
			return nil, err
		}
		return StatusSet{{c, c}}, nil
	case []any:
		var set StatusSet
		for _, item := range v {
			part, err := statusFromAny(item)
			if err != nil {
				return nil, err
			}
			set = append(set, part...)
		}
		if len(set) == 0 {
			return nil, fmt.Errorf("status list is empty")
		}
		return set, nil
	}
	return nil, fmt.Errorf("want a status code, a range such as \"200-299\", or a list of them; got %v", v)
}
