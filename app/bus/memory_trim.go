package bus

// trimAcked drops the entries at the head of the stream that every group
// has had delivered and has acknowledged, so that the stream holds about
// the work in flight. It stops at the first entry some group has not
// delivered yet or still holds pending: nothing unacknowledged is ever
// dropped here. A stream without groups keeps its entries, for the first
// group to read from the beginning. Callers hold MemoryBus.mu.
//
// Each call costs one look at the head per group plus the entries it
// drops, so trimming on every Ack stays cheap.
func (s *memStream) trimAcked() {
	if len(s.groups) == 0 {
		return
	}
	n := 0
	for n < len(s.entries) && s.doneWith(s.entries[n].id) {
		n++
	}
	s.dropHead(n)
}

// doneWith reports whether every group has had id delivered and
// acknowledged.
func (s *memStream) doneWith(id streamID) bool {
	for _, g := range s.groups {
		if g.lastDelivered.less(id) {
			return false
		}
		if _, ok := g.pending[id]; ok {
			return false
		}
	}
	return true
}

// dropHead removes the n oldest entries. The payloads are let go at once;
// the array goes the next time append outgrows what is left of it.
func (s *memStream) dropHead(n int) {
	if n <= 0 {
		return
	}
	clear(s.entries[:n])
	s.entries = s.entries[n:]
}
