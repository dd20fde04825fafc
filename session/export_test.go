package session

// Hooks for the external tests (package session_test), which alone can
// import sessiontest: sessiontest imports session, so the internal tests
// cannot.

// LogID is how logs and errors name a session.
func LogID(id string) string { return logID(id) }
