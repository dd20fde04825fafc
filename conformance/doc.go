// Package conformance holds test-only runs of the storages' conformance
// suite (session/sessiontest) that need fakes the library modules must not
// depend on: a consumer of storage-redis must not download miniredis, so no
// library module's go.mod may require it, and the runs that need it live in
// this module, which nothing imports.
//
// redis_test.go runs sessiontest.Run on storage-redis over miniredis, whose
// clock follows the suite's fake clock, so the scenarios that a real
// redis-server cannot run (its keys expire by its own clock) run here too.
// redis_failure_test.go makes miniredis fail or stop mid-run and checks that
// the storage returns errors, never a new session, and recovers.
//
// The package has no non-test code: this file only documents it, and lets
// `go build ./...` find a package to build.
package conformance
