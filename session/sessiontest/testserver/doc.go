// Package testserver starts real redis-server, memcached and PostgreSQL
// processes for tests: each on a free loopback port, in a temporary
// directory, without persistence (PostgreSQL keeps its cluster in that
// directory, with durability off), stopped by its PID when the test ends.
// The storage modules' conformance tests, the interop tests, the benchmarks
// and the example app's browser test share it, so that every one of them
// talks to a real server.
//
// A server that is not installed makes the test skip with an install hint,
// unless the environment sets SESSIONKIT_REQUIRE_SERVERS=1 (as .ci/run does
// after installing them): then the test fails.
//
//	func TestSomething(t *testing.T) {
//		srv := testserver.Redis(t)         // skipped when redis-server is missing
//		client := redis.NewClient(&redis.Options{Addr: srv.Addr()})
//		...
//	}
//
//	func TestWithPostgres(t *testing.T) {
//		pg := testserver.PostgresServer(t) // skipped when PostgreSQL is missing
//		pool, err := pgxpool.New(ctx, pg.URL())
//		...
//	}
//
// PostgreSQL refuses to run as root; when the tests run as root, the server
// runs as the system user postgres (see StartPostgres).
//
// The Start functions do the same without a testing.TB, for programs such as
// a demo or a load generator; they must call Stop.
//
// On Linux a started server also gets SIGKILL when the process that started
// it dies, so a killed test run leaves no server behind.
//
// StartHelper runs the test binary again as a second process running one
// of its tests, for what must hold between processes (locks, a storage two
// servers share); the two talk in lines (Helper.Expect, Helper.Send).
package testserver
