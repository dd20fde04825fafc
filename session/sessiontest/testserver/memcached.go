package testserver

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// StartMemcached starts memcached on a free loopback port (TCP only, 64 MB,
// the default 1 MB item limit). extra arguments are appended to the command
// line (for example "-I", "2m"). The caller must call Stop.
func StartMemcached(extra ...string) (*Server, error) {
	dir, err := os.MkdirTemp("", "sessionkit-memcached-")
	if err != nil {
		return nil, err
	}
	s, err := launch("memcached", "memcached", false, dir, func(port int) []string {
		args := []string{"-l", "127.0.0.1", "-p", strconv.Itoa(port), "-U", "0", "-m", "64", "-t", "2"}
		if os.Geteuid() == 0 {
			args = append(args, "-u", "root") // memcached refuses to run as root otherwise
		}
		return append(args, extra...)
	}, pingMemcached)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

func pingMemcached(addr string) error {
	reply, err := ask(addr, "version")
	if err != nil {
		return err
	}
	if !strings.HasPrefix(reply, "VERSION ") {
		return fmt.Errorf("version answered %q", reply)
	}
	return nil
}
