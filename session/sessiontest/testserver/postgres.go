package testserver

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// PostgresUser is the superuser of a started PostgreSQL server, the user of
// its URL; it logs in without a password (trust authentication, on
// loopback only).
const PostgresUser = "postgres"

// postgresStopTimeout bounds a fast shutdown before Stop and Restart send
// SIGKILL.
const postgresStopTimeout = 5 * time.Second

// Postgres is one PostgreSQL server started for tests or a program: its own
// cluster (initdb) in a temporary directory, on a free loopback port.
type Postgres struct {
	srv  *Server
	data string // the cluster's data directory, inside srv.dir
}

// StartPostgres initialises a cluster in a temporary directory and starts
// PostgreSQL on it, listening on a free loopback port (and on a Unix socket
// in that directory), with trust authentication for the superuser
// PostgresUser and durability off (fsync, synchronous_commit and
// full_page_writes off), as a test server may: Kill (a crash) may lose the
// commits of its last fraction of a second, unless a CHECKPOINT came after
// them, and a crash of the machine the whole cluster. It returns once the
// server accepts a login. The caller must call Stop.
//
// initdb and postgres are looked up on PATH, then in Debian's
// /usr/lib/postgresql/<version>/bin, the newest version first (Debian's
// postgresql package puts neither on PATH). PostgreSQL refuses
// to run as root: when this process is root, initdb and the server run as the
// system user postgres, which Debian's package creates, through setpriv
// (util-linux), which changes user and then executes the server, so that the
// server keeps the PID that Stop signals and still gets SIGKILL when this
// process dies.
func StartPostgres() (*Postgres, error) {
	bin, err := postgresBinDir()
	if err != nil {
		return nil, err
	}
	runAs, err := postgresRunAs()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(postgresTempRoot(runAs), "sessionkit-postgres-")
	if err != nil {
		return nil, err
	}
	p, err := startPostgres(bin, runAs, dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return p, nil
}

// PostgresServer starts a PostgreSQL server for the test (StartPostgres)
// and stops it when the test ends. When PostgreSQL is not installed the test
// is skipped with an install hint, or fails when
// SESSIONKIT_REQUIRE_SERVERS=1.
func PostgresServer(t testing.TB) *Postgres {
	t.Helper()
	p, err := StartPostgres()
	check(t, err)
	t.Cleanup(func() { p.Stop() })
	return p
}

// URL is the server's connection URL for pgx (and libpq):
// postgres://postgres@127.0.0.1:<port>/postgres?sslmode=disable.
func (p *Postgres) URL() string {
	return "postgres://" + PostgresUser + "@" + p.Addr() + "/postgres?sslmode=disable"
}

// Addr is the server's "127.0.0.1:port" address.
func (p *Postgres) Addr() string { return p.srv.Addr() }

// Port is the server's TCP port.
func (p *Postgres) Port() int { return p.srv.Port() }

// PID is the postmaster's process id, or 0 when it is stopped.
func (p *Postgres) PID() int { return p.srv.PID() }

// Running reports whether the postmaster is still alive.
func (p *Postgres) Running() bool { return p.srv.Running() }

// Output is what the server printed so far (its log), for failure messages.
func (p *Postgres) Output() string { return p.srv.Output() }

// Kill stops the postmaster with SIGKILL, as a crash would, and waits for
// it; its backends end by themselves as they notice, closing their clients'
// connections. The data stays: Restart starts the server again on it (with
// crash recovery), less the commits that synchronous_commit=off had not yet
// written (those of about the last 0.2 to 0.6 s, unless a CHECKPOINT came
// after them).
func (p *Postgres) Kill() error { return p.srv.Kill() }

// Restart stops the server (a fast shutdown: clients are disconnected) if it
// is running, and starts it again on the same port and data, waiting until
// it accepts a login. Connections of a client's pool are then broken; the
// client must open new ones.
func (p *Postgres) Restart() error {
	if err := p.shutdown(); err != nil {
		return err
	}
	if _, err := os.Stat(p.data); err != nil {
		return fmt.Errorf("testserver: postgres on %s was stopped for good: %w", p.Addr(), err)
	}
	return p.srv.Restart()
}

// Stop shuts the server down (fast shutdown, then SIGKILL after
// postgresStopTimeout) and removes its directory, data included.
func (p *Postgres) Stop() error {
	err := p.shutdown()
	if rmErr := p.srv.Stop(); err == nil {
		err = rmErr
	}
	return err
}

// shutdown asks the postmaster for a fast shutdown (SIGINT: clients are
// disconnected, a checkpoint is written) and waits for it to exit, killing it
// after postgresStopTimeout. SIGTERM would be a smart shutdown, which waits
// for every client, such as a pool's idle connections, to disconnect.
func (p *Postgres) shutdown() error {
	s := p.srv
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.mu.Unlock()
	if cmd == nil {
		return nil
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		return s.Kill()
	}
	select {
	case <-done:
	case <-time.After(postgresStopTimeout):
		return s.Kill()
	}
	s.mu.Lock()
	if s.cmd == cmd {
		s.cmd, s.done = nil, nil
	}
	s.mu.Unlock()
	return nil
}

// startPostgres runs initdb into dir/data and starts the server on a free
// port, trying another port when the chosen one was taken in between.
func startPostgres(bin string, runAs *postgresUser, dir string) (*Postgres, error) {
	data := filepath.Join(dir, "data")
	if runAs != nil {
		if err := os.Chown(dir, runAs.uid, runAs.gid); err != nil {
			return nil, fmt.Errorf("testserver: postgres: giving %s to the user postgres: %w", dir, err)
		}
	}
	initdb := runAs.command(filepath.Join(bin, "initdb"),
		"-D", data, "-U", PostgresUser, "-A", "trust", "-E", "UTF8", "--locale=C", "-N")
	initdb.Dir = dir
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("testserver: postgres: initdb: %v: %s", err, strings.TrimSpace(string(out)))
	}
	server := runAs.command(filepath.Join(bin, "postgres"))
	var lastErr error
	for try := 0; try < 5; try++ {
		port, err := freePort(false)
		if err != nil {
			return nil, err
		}
		s := &Server{
			kind: "postgres", bin: server.Path, port: port, dir: dir,
			args: append(append([]string(nil), server.Args[1:]...), postgresArgs(data, dir, port)...),
			ping: pingPostgres,
		}
		if lastErr = s.start(); lastErr == nil {
			return &Postgres{srv: s, data: data}, nil
		}
	}
	return nil, lastErr
}

// postgresArgs is the server's command line: the data directory, loopback
// TCP on port, the Unix socket in dir, and durability off for speed.
func postgresArgs(data, dir string, port int) []string {
	return []string{
		"-D", data,
		"-p", strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories=" + dir,
		"-c", "fsync=off",
		"-c", "synchronous_commit=off",
		"-c", "full_page_writes=off",
		"-c", "max_connections=200",
		"-c", "log_min_messages=warning",
		"-c", "logging_collector=off",
	}
}

// postgresBinDir is the directory holding initdb and postgres: initdb's on
// PATH (links followed, since initdb runs the postgres beside it), or the
// newest /usr/lib/postgresql/<version>/bin that has both.
func postgresBinDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		dir := filepath.Dir(p)
		if isFile(filepath.Join(dir, "postgres")) {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgVersion(dirs[i]) > pgVersion(dirs[j]) })
	for _, dir := range dirs {
		if isFile(filepath.Join(dir, "initdb")) && isFile(filepath.Join(dir, "postgres")) {
			return dir, nil
		}
	}
	return "", fmt.Errorf("%w: postgres (initdb and postgres, on PATH or in /usr/lib/postgresql/*/bin; install them with `apt-get install -y postgresql` or `make deps`)", ErrNotInstalled)
}

// pgVersion is the number in /usr/lib/postgresql/<version>/bin, 0 if none.
func pgVersion(bin string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(bin)), 64)
	return v
}

func isFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

// postgresTempRoot is where the server's directory is made: the usual
// temporary directory, unless the server runs as the user postgres and
// that directory is closed to other users (a root's private TMPDIR), in
// which case /tmp.
func postgresTempRoot(runAs *postgresUser) string {
	root := os.TempDir()
	if runAs == nil {
		return root
	}
	if fi, err := os.Stat(root); err == nil && fi.Mode().Perm()&0o001 == 0 {
		return "/tmp"
	}
	return root
}

// postgresUser is the system user that initdb and the server run as when
// this process is root: postgres, through setpriv.
type postgresUser struct {
	uid, gid int
	setpriv  string
}

// postgresRunAs returns nil when this process is not root (the server runs
// as this user), and the postgres user otherwise.
func postgresRunAs() (*postgresUser, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("testserver: postgres: PostgreSQL refuses to run as root, and there is no system user postgres to run it as (%v): install Debian's postgresql package, which creates it (`apt-get install -y postgresql` or `make deps`), or run the tests as another user", err)
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("testserver: postgres: the user postgres has ids %q and %q", u.Uid, u.Gid)
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		return nil, fmt.Errorf("testserver: postgres: as root the server must run as the user postgres, which needs setpriv (util-linux): %w", err)
	}
	return &postgresUser{uid: uid, gid: gid, setpriv: setpriv}, nil
}

// command is exec.Command(name, args...), run as the postgres user when u is
// not nil: setpriv changes the user, re-arms the parent-death signal (a
// change of user clears it) and executes name in its place.
func (u *postgresUser) command(name string, args ...string) *exec.Cmd {
	if u == nil {
		return exec.Command(name, args...)
	}
	pre := []string{
		"--reuid", strconv.Itoa(u.uid), "--regid", strconv.Itoa(u.gid), "--clear-groups",
		"--pdeathsig", "KILL", "--", name,
	}
	return exec.Command(u.setpriv, append(pre, args...)...)
}

// pingPostgres logs in to the server at addr as PostgresUser (protocol 3.0,
// trust authentication) and reports whether it is ready for queries: an
// error while it is starting up ("the database system is starting up") or
// refusing connections.
func pingPostgres(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write(postgresStartup()); err != nil {
		return err
	}
	r := bufio.NewReader(c)
	for {
		kind, body, err := readPostgresMessage(r)
		if err != nil {
			return err
		}
		switch kind {
		case 'R': // authentication: 0 is ok, anything else asks for a password
			if len(body) < 4 || binary.BigEndian.Uint32(body) != 0 {
				return errors.New("postgres: the server asks for a password (trust authentication expected)")
			}
		case 'E':
			return fmt.Errorf("postgres: %s", errorFields(body))
		case 'Z': // ready for query
			_, _ = c.Write([]byte{'X', 0, 0, 0, 4}) // terminate
			return nil
		}
	}
}

// postgresStartup is the StartupMessage (protocol 3.0) of a login as
// PostgresUser to the database postgres.
func postgresStartup() []byte {
	var params []byte
	for _, kv := range [][2]string{{"user", PostgresUser}, {"database", "postgres"}} {
		params = append(append(append(append(params, kv[0]...), 0), kv[1]...), 0)
	}
	params = append(params, 0)
	msg := binary.BigEndian.AppendUint32(nil, uint32(8+len(params)))
	msg = binary.BigEndian.AppendUint32(msg, 3<<16) // protocol 3.0
	return append(msg, params...)
}

// readPostgresMessage reads one message from the server: its type and its
// body.
func readPostgresMessage(r *bufio.Reader) (byte, []byte, error) {
	var head [5]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return 0, nil, err
	}
	n := int(binary.BigEndian.Uint32(head[1:])) - 4
	if n < 0 || n > 1<<20 {
		return 0, nil, fmt.Errorf("postgres: a message of %d bytes", n)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return 0, nil, err
	}
	return head[0], body, nil
}

// errorFields is the severity, code and message of an ErrorResponse body.
func errorFields(body []byte) string {
	var sev, code, text string
	for _, f := range strings.Split(string(body), "\x00") {
		if f == "" {
			continue
		}
		switch f[0] {
		case 'S':
			sev = f[1:]
		case 'C':
			code = f[1:]
		case 'M':
			text = f[1:]
		}
	}
	return fmt.Sprintf("%s %s: %s", sev, code, text)
}
