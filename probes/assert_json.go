package probes

import (
	"context"
	"errors"

	"github.com/ohler55/ojg/oj"
)

// assertJSON evaluates the JSONPath assertions on r's body under the
// limits of json_budget.go. A body beyond a limit is refused with one
// json_mismatch naming the limit, and nothing of the body in the message.
// The error is ctx's when the probe's deadline passed; the problems found
// until then are returned with it.
func (p *plan) assertJSON(ctx context.Context, node string, r *response, capNote string) ([]Problem, error) {
	sh, err := scanJSON(ctx, r.body, MaxJSONDepth, MaxJSONNodes)
	if se := (*shapeError)(nil); errors.As(err, &se) {
		return []Problem{problemf(CodeJSONMismatch, node, "body of %s on %s: %s; its JSON paths were not evaluated",
			r.url, node, se)}, nil
	}
	if err != nil {
		return nil, err
	}
	data, err := oj.Parse(r.body)
	if err != nil {
		return []Problem{problemf(CodeJSONMismatch, node, "body of %s on %s is not JSON (%s): %v%s",
			r.url, node, r.header.Get("Content-Type"), err, capNote)}, nil
	}
	b := newBudget(ctx, maxJSONCompareSteps)
	var out []Problem
	for _, jc := range p.jsonChecks {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		if cost := pathCost(jc.path, sh); cost > maxJSONPathCost {
			out = append(out, problemf(CodeJSONMismatch, node,
				"%s on %s: %s was not evaluated: its %d recursive descents (..) over a body of %s would visit more than %d values",
				r.url, node, jc.path, descents(jc.path), describeShape(sh), maxJSONPathCost))
			continue
		}
		got := jc.expr.Get(data)
		found, err := anyEqual(got, jc.want, b)
		switch {
		case errors.Is(err, errBudget):
			out = append(out, problemf(CodeJSONMismatch, node,
				"%s on %s: comparing the %d matches of %s with the expected value took more than %d steps",
				r.url, node, len(got), jc.path, maxJSONCompareSteps))
		case err != nil:
			return out, err
		case len(got) == 0:
			out = append(out, problemf(CodeJSONMismatch, node, "%s on %s: %s not found in the JSON body, expected %s",
				r.url, node, jc.path, jsonText(jc.want)))
		case !found:
			out = append(out, problemf(CodeJSONMismatch, node, "%s on %s: %s is %s, expected %s",
				r.url, node, jc.path, describeJSON(jc.path, got[0]), jsonText(jc.want)))
		}
	}
	return out, nil
}

// anyEqual reports whether some match equals want, spending b.
func anyEqual(matches []any, want any, b *budget) (bool, error) {
	for _, m := range matches {
		eq, err := jsonEqual(m, want, b)
		if eq || err != nil {
			return eq, err
		}
		if err := b.spend(1); err != nil { // a match costs a step even when compared at once
			return false, err
		}
	}
	return false, nil
}
