package probes

import (
	"context"
	"io"
	"regexp"
	"regexp/syntax"
	"unicode/utf8"
)

// RE2 (Go's regexp) runs in time linear in the body, but the factor is the
// size of the compiled pattern: `(\w+\s?){1,1000}x` has thousands of
// instructions and takes minutes over 1 MiB. Small enough work runs on the
// body directly; anything bigger reads the body through a reader that
// watches the probe's deadline, so the check's timeout bounds it.
const (
	// regexDirectCost bounds body length × pattern instructions for a
	// direct match (tens of milliseconds at worst): a health document of a
	// few KiB with any usual pattern.
	regexDirectCost = 1 << 20
	// regexCheckCost is the work (runes × instructions) between two looks
	// at the deadline while reading.
	regexCheckCost = 1 << 16
)

// matchBody reports whether re matches body, or ctx's error when the
// probe's deadline passed first.
func matchBody(ctx context.Context, re *regexp.Regexp, body []byte) (bool, error) {
	size := programSize(re)
	if int64(len(body))*int64(size) <= regexDirectCost {
		return re.Match(body), nil
	}
	return matchReading(ctx, re, body, max(1, regexCheckCost/size))
}

// matchReading matches re against body read through a deadlineReader that
// looks at ctx every so many runes.
func matchReading(ctx context.Context, re *regexp.Regexp, body []byte, every int) (bool, error) {
	rr := &deadlineReader{ctx: ctx, body: body, every: every}
	matched := re.MatchReader(rr)
	if rr.err != nil {
		return false, rr.err
	}
	return matched, nil
}

// programSize is the number of instructions re compiles to, the factor of
// its cost per input rune.
func programSize(re *regexp.Regexp) int {
	parsed, err := syntax.Parse(re.String(), syntax.Perl)
	if err != nil {
		return regexCheckCost // cannot happen for a compiled pattern; assume the worst
	}
	prog, err := syntax.Compile(parsed.Simplify())
	if err != nil {
		return regexCheckCost
	}
	return max(1, len(prog.Inst))
}

// deadlineReader reads body rune by rune, as regexp decodes a []byte, and
// ends the input early once ctx is done (err says so).
type deadlineReader struct {
	ctx   context.Context
	body  []byte
	i     int
	every int // runes between looks at ctx
	count int
	err   error
}

func (r *deadlineReader) ReadRune() (rune, int, error) {
	if r.i >= len(r.body) || r.err != nil {
		return 0, 0, io.EOF
	}
	if r.count++; r.count >= r.every {
		r.count = 0
		if err := r.ctx.Err(); err != nil {
			r.err = err
			return 0, 0, io.EOF
		}
	}
	if c := r.body[r.i]; c < utf8.RuneSelf {
		r.i++
		return rune(c), 1, nil
	}
	c, n := utf8.DecodeRune(r.body[r.i:])
	r.i += n
	return c, n, nil
}
