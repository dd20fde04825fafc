package sessiontest

import (
	"sync"
	"time"
)

// FakeClock is a clock for session.Options.Now that moves only when told to.
// It is safe for concurrent use.
type FakeClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewFakeClock returns a clock showing start, or the current time truncated
// to the second when start is zero (so that TTLs handed to real servers are
// computed from a plausible date).
func NewFakeClock(start time.Time) *FakeClock {
	if start.IsZero() {
		start = time.Now().Truncate(time.Second)
	}
	return &FakeClock{now: start}
}

// Now returns the clock's time; use the method value as session.Options.Now.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d and returns the new time.
func (c *FakeClock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}

// Set moves the clock to t.
func (c *FakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}
