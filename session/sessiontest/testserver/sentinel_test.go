package testserver

import "testing"

func TestRedisSentinel(t *testing.T) {
	m := Redis(t)
	s := RedisSentinel(t, "sessions", m.Addr())
	if err := pingRedis(s.Addr()); err != nil {
		t.Fatal(err)
	}
	// A known master is a two-element array (host, port); an unknown name
	// is a null reply.
	reply, err := ask(s.Addr(), "SENTINEL get-master-addr-by-name sessions")
	if err != nil || reply != "*2" {
		t.Fatalf("get-master-addr-by-name answered %q, %v; want an address", reply, err)
	}
	reply, err = ask(s.Addr(), "SENTINEL get-master-addr-by-name nope")
	if err != nil || reply == "*2" {
		t.Fatalf("an unknown master answered %q, %v", reply, err)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if s.Running() {
		t.Fatal("the sentinel still runs after Stop")
	}
}
