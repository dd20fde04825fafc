package session_test

import (
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/session"
)

func TestLifetimeLimit(t *testing.T) {
	for lifetime, want := range map[time.Duration]time.Duration{
		0:          session.DefaultLifetime,
		time.Hour:  time.Hour,
		-1:         0,
		-time.Hour: 0,
	} {
		if got := (session.Options{Lifetime: lifetime}).LifetimeLimit(); got != want {
			t.Errorf("Lifetime %v: LifetimeLimit = %v, want %v", lifetime, got, want)
		}
	}
}
