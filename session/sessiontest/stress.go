package sessiontest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/session"
)

// The stress runs behind the merge and per-user scenarios, exported so that
// a storage module can run them at scale on its own server layouts (a
// Redis Cluster, a memcache pool) without a copy of its own.

// ConcurrentSaves reads the session that cookie names n times, sets the key
// "k<i>" to i in the i-th copy, and once every copy is read calls ready (if
// not nil: a module resets its round-trip counters there) and saves all n at
// once. Every save must succeed and keep cookie as the session's cookie, and
// the stored session must then hold every key and whatever it held before.
func ConcurrentSaves(t testing.TB, st session.Storage, cookie string, n int, ready func()) {
	t.Helper()
	ctx := context.Background()
	before, err := st.Read(ctx, cookie)
	require(t, err == nil && before.ID() == cookie, "ConcurrentSaves: the session does not load (%v)", err)
	kept := before.Data().Values
	var loaded, wg sync.WaitGroup
	loaded.Add(n)
	start := make(chan struct{})
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = concurrentSave(ctx, st, cookie, i, &loaded, start)
		}()
	}
	loaded.Wait()
	if ready != nil {
		ready()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		noError(t, fmt.Sprintf("save %d of %d", i, n), err)
	}
	s, err := st.Read(ctx, cookie)
	require(t, err == nil && s.ID() == cookie, "after %d concurrent saves the session does not load (%v)", n, err)
	missing, lost := lacking(s, n, kept)
	check(t, missing == 0 && lost == 0, "after %d concurrent saves the session lacks %d of their keys and %d of its earlier ones", n, missing, lost)
}

// concurrentSave is save i of ConcurrentSaves: it reads the session that
// cookie names and sets k<i> to i, tells loaded, and saves once start is
// closed.
func concurrentSave(ctx context.Context, st session.Storage, cookie string, i int, loaded *sync.WaitGroup, start <-chan struct{}) error {
	s, err := st.Read(ctx, cookie)
	if err == nil && s.ID() != cookie {
		err = fmt.Errorf("read returned a new session")
	}
	if err == nil {
		s.Set(fmt.Sprintf("k%d", i), i)
	}
	loaded.Done()
	<-start
	if err != nil {
		return err
	}
	v, _, err := st.Save(ctx, s)
	if err == nil && v != cookie {
		err = fmt.Errorf("save returned another cookie value")
	}
	return err
}

// lacking counts the keys k0 to k<n-1> that s does not hold with the
// values 0 to n-1, and the keys of kept that it does not hold at all.
func lacking(s *session.Session, n int, kept map[string]any) (missing, lost int) {
	for i := range n {
		if v, ok := session.Value[int](s, fmt.Sprintf("k%d", i)); !ok || v != i {
			missing++
		}
	}
	for k := range kept {
		if !s.Has(k) {
			lost++
		}
	}
	return missing, lost
}

// RevokeRaceStarts are the moments at which a RevokeRace trial starts its
// revoke, by trial number modulo their count: with the login (a free
// race), or once the login's Read returned, its save first read the user's
// index, first wrote it, or deleted the old record.
var RevokeRaceStarts = []string{"free race", "after the login's Read", "after the save's first index read", "after the save's first index write", "after the save deleted the old record"}

// RevokeRaceResult is what the trials of RevokeRace came to.
type RevokeRaceResult struct {
	Trials int
	// Violations are the trials that left a signed-in session that
	// Sessions does not list, so that no revoke can end it: must be 0.
	Violations int
	// LoginKept and Revoked count the trials whose login cookie loaded
	// signed in (and listed), or anonymous; LoginErrors the logins that
	// returned an error.
	LoginKept, Revoked, LoginErrors int
	// Stepped counts the trials whose revoke started at its step of the
	// login, before the login returned (all but the free races).
	Stepped int
}

// RevokeRace runs trials of a login racing a revoke of all of the user's
// sessions on session.NewBackendStorage over b (with Options.UserKey
// "user"): user U<i> has a signed-in session; concurrently, a login request
// reads it, calls RegenerateID(true), sets the user and saves, and
// RevokeAll(U<i>) runs,
// started at one of RevokeRaceStarts. Afterwards the sessions that the
// login's cookie and the old cookie reach must be anonymous, or listed by
// Sessions (so that they can still be revoked). workers goroutines run the
// trials, each with its own user. It fails the test on a violation, an
// error, or a step that the login no longer takes, and returns the counts.
func RevokeRace(t testing.TB, b session.Backend, trials, workers int) RevokeRaceResult {
	t.Helper()
	r := newRevokeRace(t, b)
	r.selfCheck(t)
	var failed atomic.Int64
	runTrials(trials, workers, func(i int) {
		if err := r.trial(i); err != nil && failed.Add(1) <= 5 {
			t.Errorf("trial %d: %v", i, err)
		}
	})
	res := r.result(trials)
	modes := len(RevokeRaceStarts)
	want := trials - (trials+modes-1)/modes // all but the free races
	check(t, res.Stepped == want, "the revoke started at its step of the login in %d trials, want %d (the login no longer takes that step?)", res.Stepped, want)
	check(t, res.Violations == 0, "%d of %d trials left a signed-in session that Sessions does not list (so RevokeAll cannot end it)", res.Violations, trials)
	return res
}

// revokeRace is the harness of RevokeRace: the storage over the stepped
// backend, and the tallies of the trials.
type revokeRace struct {
	ctx context.Context
	b   session.Backend
	sb  *steppedBackend
	st  session.Storage
	ix  session.UserIndex

	violations, kept, revoked, loginErrors, stepped atomic.Int64
}

func newRevokeRace(t testing.TB, b session.Backend) *revokeRace {
	t.Helper()
	sb := &steppedBackend{Backend: b, triggers: make(map[string]*trigger)}
	st, err := session.NewBackendStorage(sb, session.Options{UserKey: "user", IdleTimeout: time.Hour, Logger: NewLogs().Logger()})
	must(t, "NewBackendStorage", err)
	return &revokeRace{ctx: context.Background(), b: b, sb: sb, st: st, ix: st.(session.UserIndex)}
}

func (r *revokeRace) result(trials int) RevokeRaceResult {
	return RevokeRaceResult{Trials: trials, Violations: int(r.violations.Load()), LoginKept: int(r.kept.Load()),
		Revoked: int(r.revoked.Load()), LoginErrors: int(r.loginErrors.Load()), Stepped: int(r.stepped.Load())}
}

// reaches reports whether the session that cookie reaches is anonymous (or
// fresh), or listed by Sessions(user); and whether it is signed in as user.
func (r *revokeRace) reaches(cookie, user string) (ok, signedIn bool, err error) {
	s, err := r.st.Read(r.ctx, cookie)
	if err != nil {
		return false, false, err
	}
	if s.ID() != cookie || s.Get("user") != user {
		return true, false, nil
	}
	list, err := r.ix.Sessions(r.ctx, user)
	if err != nil {
		return false, true, err
	}
	return slices.ContainsFunc(list, func(i session.SessionInfo) bool { return i.Handle == s.Handle() }), true, nil
}

// selfCheck runs the harness's own checks: a login alone keeps its new
// session signed in and listed; a signed-in record the index does not hold
// (written by another program) is a violation.
func (r *revokeRace) selfCheck(t testing.TB) {
	t.Helper()
	old, err := signIn(r.ctx, r.st, "solo")
	must(t, "signing in", err)
	s, err := r.st.Read(r.ctx, old)
	must(t, "Read", err)
	s.RegenerateID(true)
	nv, _, err := r.st.Save(r.ctx, s)
	must(t, "Save", err)
	ok, signedIn, err := r.reaches(nv, "solo")
	require(t, err == nil && ok && signedIn, "a login without a revoke: listed %v, signed in %v, %v; want both", ok, signedIn, err)
	unindexed := session.New().ID()
	must(t, "Overwrite", Overwrite(r.ctx, r.b, unindexed, []byte(`[{"user":"solo"},{}]`)))
	ok, signedIn, err = r.reaches(unindexed, "solo")
	require(t, err == nil && !ok && signedIn, "an unindexed signed-in record: listed %v, signed in %v, %v; want a violation", ok, signedIn, err)
}

// runTrials runs trial(0) to trial(trials-1) on workers goroutines.
func runTrials(trials, workers int, trial func(i int)) {
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				trial(i)
			}
		}()
	}
	for i := range trials {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
}

// trial is trial i: user U<i> signs in, then a login on that session races
// RevokeAll(U<i>), which starts at RevokeRaceStarts[i%len]. It tallies the
// outcome; an error is the harness's or the storage's failure.
func (r *revokeRace) trial(i int) error {
	user := fmt.Sprintf("U%d", i)
	old, err := signIn(r.ctx, r.st, user)
	if err != nil {
		return err
	}
	mode := i % len(RevokeRaceStarts)
	start := r.startAt(mode, user, old)
	defer r.sb.off(r.b.IndexKey(user))
	defer r.sb.off(r.b.Key(old))
	if mode == 0 {
		start.fire()
	}
	var wg sync.WaitGroup
	var loginCookie string
	var loginErr, revokeErr error
	wg.Add(2)
	go func() {
		defer wg.Done()
		loginCookie, loginErr = r.login(mode, old, user, start)
	}()
	go func() {
		defer wg.Done()
		<-start.ch
		_, revokeErr = r.ix.RevokeAll(r.ctx, user)
	}()
	wg.Wait()
	if revokeErr != nil {
		return fmt.Errorf("RevokeAll: %w", revokeErr)
	}
	if loginErr != nil {
		r.loginErrors.Add(1)
	}
	return r.tally(user, old, loginCookie)
}

// startAt returns the trigger that starts the revoke of a trial in mode,
// the index of its RevokeRaceStarts: fired by the trial itself in the first
// two modes, by the stepped backend at the login's step in the others.
func (r *revokeRace) startAt(mode int, user, old string) *trigger {
	switch mode {
	case 2:
		return r.sb.on(r.b.IndexKey(user), "get")
	case 3:
		return r.sb.on(r.b.IndexKey(user), "put")
	case 4:
		return r.sb.on(r.b.Key(old), "delete")
	}
	return &trigger{ch: make(chan struct{})}
}

// login is the login of a trial in mode: it reads the session that old
// names, regenerates its id, signs it in as user and saves it, and returns
// the cookie the browser then holds ("" after an error). It starts the
// revoke once the Read returned in mode 1, and when it ends in any case; it
// counts the trials whose revoke started at its step of the login.
func (r *revokeRace) login(mode int, old, user string, start *trigger) (string, error) {
	defer func() {
		select {
		case <-start.ch:
			if mode != 0 {
				r.stepped.Add(1)
			}
		default:
			start.fire() // whatever happens, the revoke runs
		}
	}()
	s, err := r.st.Read(r.ctx, old)
	if mode == 1 {
		start.fire()
	}
	if err != nil {
		return "", err
	}
	s.RegenerateID(true)
	s.Set("user", user) // as a login does: a fresh session gets signed in too
	v, set, err := r.st.Save(r.ctx, s)
	switch {
	case err != nil:
		return "", err
	case set:
		return v, nil
	}
	return old, nil
}

// tally counts where a trial's old cookie and its login's cookie lead: a
// violation when either reaches a signed-in session that Sessions does not
// list; the login kept (signed in) or revoked.
func (r *revokeRace) tally(user, old, loginCookie string) error {
	bad := false
	if old != loginCookie {
		ok, _, err := r.reaches(old, user)
		if err != nil {
			return err
		}
		bad = !ok
	}
	if loginCookie != "" {
		ok, signedIn, err := r.reaches(loginCookie, user)
		if err != nil {
			return err
		}
		bad = bad || !ok
		if signedIn {
			r.kept.Add(1)
		} else {
			r.revoked.Add(1)
		}
	}
	if bad {
		r.violations.Add(1)
	}
	return nil
}

// signIn stores a new session signed in as user and returns its cookie.
func signIn(ctx context.Context, st session.Storage, user string) (string, error) {
	s, err := st.Read(ctx, "")
	if err != nil {
		return "", err
	}
	s.Set("user", user)
	v, _, err := st.Save(ctx, s)
	return v, err
}

// steppedBackend is a Backend with triggers: a trigger registered for a key
// fires (once) when a call of its kind on that key returns, so that
// RevokeRace can start a revoke at a chosen step of a login.
type steppedBackend struct {
	session.Backend
	mu       sync.Mutex
	triggers map[string]*trigger
}

type trigger struct {
	op   string // "get", "put" or "delete"
	once sync.Once
	ch   chan struct{}
}

func (t *trigger) fire() { t.once.Do(func() { close(t.ch) }) }

// on returns a trigger that fires after the first op on key.
func (b *steppedBackend) on(key, op string) *trigger {
	tr := &trigger{op: op, ch: make(chan struct{})}
	b.mu.Lock()
	b.triggers[key] = tr
	b.mu.Unlock()
	return tr
}

func (b *steppedBackend) off(key string) {
	b.mu.Lock()
	delete(b.triggers, key)
	b.mu.Unlock()
}

func (b *steppedBackend) after(key, op string) {
	b.mu.Lock()
	tr := b.triggers[key]
	b.mu.Unlock()
	if tr != nil && tr.op == op {
		tr.fire()
	}
}

func (b *steppedBackend) Get(ctx context.Context, key string) ([]byte, session.Version, error) {
	defer b.after(key, "get")
	return b.Backend.Get(ctx, key)
}

func (b *steppedBackend) Put(ctx context.Context, key string, data []byte, ttl time.Duration, v session.Version) (session.Version, error) {
	defer b.after(key, "put")
	return b.Backend.Put(ctx, key, data, ttl, v)
}

func (b *steppedBackend) Delete(ctx context.Context, key string, v session.Version) error {
	defer b.after(key, "delete")
	return b.Backend.Delete(ctx, key, v)
}
