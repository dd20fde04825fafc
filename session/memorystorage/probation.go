package memorystorage

// probation is the list of the records stored once and not used since,
// oldest first: the segmented-LRU probation segment. It links the records
// themselves (memoryRecord.prev and next), so that a record enters, leaves
// and is evicted in constant time and without an allocation. Records that
// leave it are on no list: the expiry heap orders them.
type probation struct {
	head, tail *memoryRecord
}

// push appends r, the newest record.
func (p *probation) push(r *memoryRecord) {
	r.onProbation = true
	r.prev, r.next = p.tail, nil
	if p.tail != nil {
		p.tail.next = r
	} else {
		p.head = r
	}
	p.tail = r
}

// remove takes r off the list; a record not on it is left alone.
func (p *probation) remove(r *memoryRecord) {
	if !r.onProbation {
		return
	}
	if r.prev != nil {
		r.prev.next = r.next
	} else {
		p.head = r.next
	}
	if r.next != nil {
		r.next.prev = r.prev
	} else {
		p.tail = r.prev
	}
	r.prev, r.next, r.onProbation = nil, nil, false
}
