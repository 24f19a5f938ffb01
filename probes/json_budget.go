package probes

import (
	"bytes"
	"context"
	"errors"
	"fmt"
)

// Limits on the JSON a probe evaluates assertions on. A response is
// written by whoever controls the target, so the work it can cause is
// bounded before anything is built from it (DESIGN §10): parsing is linear,
// but a JSONPath with recursive descent costs the node count times the
// depth for every further descent, and a deep body used to make every
// comparison re-serialise each matched subtree.
const (
	// MaxJSONDepth is how deeply a JSON body may nest (objects and arrays).
	MaxJSONDepth = 64
	// MaxJSONNodes is how many values (objects, arrays and scalars) a JSON
	// body may hold.
	MaxJSONNodes = 100_000
	// maxJSONPathCost bounds the estimated node visits of one JSONPath over
	// a body (see pathCost); beyond it the path is not evaluated.
	maxJSONPathCost = 1_000_000
	// maxJSONCompareSteps bounds the values visited while comparing the
	// matches of all JSON assertions with their expected values.
	maxJSONCompareSteps = 1_000_000
	// ctxCheckEvery is how many steps (bytes, values) pass between two
	// looks at the probe's deadline inside a loop.
	ctxCheckEvery = 1 << 12
)

// errBudget reports that the comparison budget ran out.
var errBudget = errors.New("the comparison budget ran out")

// budget counts the steps of one assertion evaluation and watches the
// probe's deadline while doing so.
type budget struct {
	ctx   context.Context
	left  int
	since int // steps since the deadline was last looked at
}

func newBudget(ctx context.Context, steps int) *budget { return &budget{ctx: ctx, left: steps} }

// spend takes n steps; it fails once the budget is spent or the probe's
// deadline has passed (looked at every ctxCheckEvery steps).
func (b *budget) spend(n int) error {
	b.left -= n
	if b.left < 0 {
		return errBudget
	}
	b.since += n
	if b.since >= ctxCheckEvery {
		b.since = 0
		return b.ctx.Err()
	}
	return nil
}

// jsonShape is what a scan of a body found: its nesting depth and how many
// values it holds.
type jsonShape struct {
	depth, nodes int
}

// shapeError says which limit a body exceeds. Its message names the limit
// and where it was crossed, never the body's content.
type shapeError struct {
	msg string
}

func (e *shapeError) Error() string { return e.msg }

// scanJSON measures body without building anything, and stops at the
// first limit crossed: a *shapeError, or ctx's error when the probe's
// deadline passes first. It does not validate: oj.Parse does that on a
// body the scan accepted. On valid JSON the node count is exact.
func scanJSON(ctx context.Context, body []byte, maxDepth, maxNodes int) (jsonShape, error) {
	var (
		sh       = jsonShape{nodes: 1} // the root value (oj reads an empty body as null)
		stack    = make([]byte, 0, 16) // '{' or '[' per open container
		newArray bool                  // just after '[': the next token starts its first element
		next     = ctxCheckEvery
	)
	count := func(at int) error {
		if sh.nodes++; sh.nodes > maxNodes {
			return &shapeError{fmt.Sprintf("the body holds more than %d JSON values (at byte %d)", maxNodes, at)}
		}
		return nil
	}
	for i := 0; i < len(body); i++ {
		if i >= next {
			if err := ctx.Err(); err != nil {
				return sh, err
			}
			next = i + ctxCheckEvery
		}
		c := body[i]
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			continue
		}
		if newArray {
			newArray = false
			if c != ']' {
				if err := count(i); err != nil {
					return sh, err
				}
			}
		}
		switch c {
		case '"':
			i = skipString(body, i)
		case '{', '[':
			if len(stack) >= maxDepth {
				return sh, &shapeError{fmt.Sprintf("the body nests deeper than %d levels (at byte %d)", maxDepth, i)}
			}
			stack = append(stack, c)
			sh.depth = max(sh.depth, len(stack))
			newArray = c == '['
		case '}', ']':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case ':':
			if err := count(i); err != nil { // an object member's value
				return sh, err
			}
		case ',':
			if len(stack) > 0 && stack[len(stack)-1] == '[' {
				if err := count(i); err != nil { // the next array element
					return sh, err
				}
			}
		}
	}
	return sh, nil
}

// skipString returns the index of the quote closing the string opened at
// body[i], or the last index when it is not closed. A quote ends the
// string unless an odd number of backslashes precedes it.
func skipString(body []byte, i int) int {
	for {
		j := bytes.IndexByte(body[i+1:], '"')
		if j < 0 {
			return len(body) - 1
		}
		i += 1 + j
		backslashes := 0
		for k := i - 1; k >= 0 && body[k] == '\\'; k-- {
			backslashes++
		}
		if backslashes%2 == 0 {
			return i
		}
	}
}

// descents counts the recursive descents ("..") of a JSONPath, those in
// filters included, outside quoted names.
func descents(path string) int {
	n := 0
	var quote byte
	for i := 0; i < len(path); i++ {
		c := path[i]
		switch {
		case quote != 0:
			if c == '\\' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '.' && i+1 < len(path) && path[i+1] == '.':
			n++
			i++
		}
	}
	return n
}

// pathCost estimates the node visits of evaluating path over a body of
// shape sh: one descent visits every node, and each further one visits
// the subtree below every match, at most depth times more.
func pathCost(path string, sh jsonShape) int {
	cost := sh.nodes
	for range descents(path) - 1 {
		cost *= max(sh.depth, 1)
		if cost > maxJSONPathCost {
			break
		}
	}
	return cost
}

// describeShape says how big a body is, for messages.
func describeShape(sh jsonShape) string {
	return fmt.Sprintf("%d values nested %d deep", sh.nodes, sh.depth)
}
