//go:build !race

package sessionmiddleware

// raceEnabled: the race detector runs, and sync.Pool drops items on purpose.
const raceEnabled = false
