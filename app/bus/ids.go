package bus

import (
	"fmt"
	"strconv"
	"strings"
)

// streamID is a parsed entry id: milliseconds and a sequence within them.
type streamID struct{ ms, seq uint64 }

func (id streamID) String() string {
	return strconv.FormatUint(id.ms, 10) + "-" + strconv.FormatUint(id.seq, 10)
}

func (id streamID) less(o streamID) bool {
	return id.ms < o.ms || (id.ms == o.ms && id.seq < o.seq)
}

func (id streamID) compare(o streamID) int {
	switch {
	case id.less(o):
		return -1
	case o.less(id):
		return 1
	}
	return 0
}

func parseID(s string) (streamID, error) {
	msPart, seqPart, ok := strings.Cut(s, "-")
	ms, err := strconv.ParseUint(msPart, 10, 64)
	if err != nil {
		return streamID{}, fmt.Errorf("bus: invalid stream id %q", s)
	}
	if !ok {
		return streamID{ms: ms}, nil
	}
	seq, err := strconv.ParseUint(seqPart, 10, 64)
	if err != nil {
		return streamID{}, fmt.Errorf("bus: invalid stream id %q", s)
	}
	return streamID{ms: ms, seq: seq}, nil
}

// CompareIDs orders two entry ids as the stream does: -1 when a came
// first, 1 when b did, 0 when equal. As strings they would not order
// ("9-0" > "10-0"), so use this. An unparsable id sorts first.
func CompareIDs(a, b string) int {
	ia, errA := parseID(a)
	ib, errB := parseID(b)
	switch {
	case errA != nil && errB != nil:
		return strings.Compare(a, b)
	case errA != nil:
		return -1
	case errB != nil:
		return 1
	}
	return ia.compare(ib)
}
