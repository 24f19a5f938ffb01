package apply

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"pharos/probes"
)

// probeValidate hands each check's spec to the probe engine, which reads it
// exactly as a worker will: anything it refuses (a JSON path it cannot
// compile, say) is refused here, on the line the key was written.
func probeValidate(c *config) errorList {
	var errs errorList
	for i, comp := range c.components {
		for j, chk := range comp.checks {
			errs = append(errs, chk.probeValidate(fmt.Sprintf("components[%d].checks[%d]", i, j))...)
		}
	}
	return errs
}

// probeValidate is probeValidate for one check at path.
func (chk checkConfig) probeValidate(path string) errorList {
	var errs errorList
	b, err := json.Marshal(chk.spec)
	if err != nil {
		errs.add(chk.line, path, "encode: %v", err)
		return errs
	}
	var spec probes.Spec
	if err := json.Unmarshal(b, &spec); err != nil {
		errs.add(chk.line, path, "the probe engine cannot read this check: %v", err)
		return errs
	}
	err = spec.Validate()
	var ve *probes.ValidationError
	switch {
	case err == nil:
	case errors.As(err, &ve):
		for _, fe := range ve.Errors {
			errs.add(chk.fieldLine(fe.Field), join(path, fe.Field), "%s", fe.Msg)
		}
	default:
		errs.add(chk.line, path, "%v", err)
	}
	return errs
}

// fieldLine finds the line of a spec key path such as "expect.json" or
// "nodes[1]", falling back to the enclosing key and then to the check.
func (c checkConfig) fieldLine(field string) int {
	field, _, _ = strings.Cut(field, "[")
	for field != "" {
		if l, ok := c.lines[field]; ok {
			return l
		}
		i := strings.LastIndex(field, ".")
		if i < 0 {
			break
		}
		field = field[:i]
	}
	return c.line
}
