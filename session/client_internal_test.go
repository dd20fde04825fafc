package session

import (
	"net/netip"
	"testing"
)

// The facts a write stores cost it no allocation when the client stays
// on the network the record names; a new network is formatted once.
func TestFactsAllocs(t *testing.T) {
	s := New()
	s.client = Client{UserAgent: "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", Addr: netip.MustParseAddr("203.0.113.7")}
	s.rec.network = "203.0.113.0/24"
	var d, n string
	if a := testing.AllocsPerRun(100, func() { d, n = s.factsLocked() }); a != 0 {
		t.Errorf("factsLocked on the same network: %v allocations", a)
	}
	if d != "Firefox on Linux" || n != "203.0.113.0/24" {
		t.Errorf("factsLocked = %q, %q", d, n)
	}
	s.client.Addr = netip.MustParseAddr("198.51.100.1")
	if _, n = s.factsLocked(); n != "198.51.100.0/24" {
		t.Errorf("factsLocked on a new network = %q", n)
	}
	s.rec.network = "198.51.100.0/25" // not a network NetworkOf gives
	if _, n = s.factsLocked(); n != "198.51.100.0/24" {
		t.Errorf("factsLocked with a stored /25 = %q", n)
	}
}
