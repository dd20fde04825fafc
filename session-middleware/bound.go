package sessionmiddleware

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessionkit/sessionkit/session"
)

// Bounded storage calls. A storage whose server is paused (SIGSTOP, a
// long GC, a failover) answers nothing: a request that waits for it holds
// a server slot, and the user waits, for the whole pause. Every storage
// call of a request therefore gets a deadline (Options.StorageTimeout).
//
// By default the call runs on the request's goroutine with the request's
// context bounded by that deadline (a boundContext, which makes a timer
// only when the storage asks for Done): a storage that honours its context,
// as every sessionkit storage does, returns at the deadline, and the
// request is answered 503. That costs next to nothing. A storage that
// ignores its context holds the request until it returns: nothing can make
// the request's goroutine leave a call it is in.
//
// With Options.AbandonLateCalls the call runs on a pooled worker
// goroutine instead, and the request stops waiting at the deadline even
// when the storage ignores its context: a call that outlives its deadline
// is left to finish there while the request is answered 503. The hand-off
// costs a few microseconds per call. The release of Exclusive's lock,
// which takes no context, always runs that way.

// DefaultStorageTimeout bounds each storage call of a request (reading the
// session, saving it, releasing Exclusive's lock) when Options or
// TokenOptions leave StorageTimeout at 0.
const DefaultStorageTimeout = 2 * time.Second

// storageRetryAfter is the Retry-After of the 503 that answers a storage
// call past its deadline, in seconds: a paused server or a failover is
// usually over within seconds, and a client that retries sooner than that
// finds the storage answering again, or another quick 503.
const storageRetryAfter = "1"

// maxLateCalls bounds, per middleware, the storage calls that outlived their
// deadline and still run: each holds a goroutine, and a storage that
// ignores its context while its server hangs would otherwise leave one more
// per request for as long as the server hangs. Past it, requests are
// answered 503 at once, without calling the storage, until some of those
// calls return. A var for tests.
var maxLateCalls int64 = 1000

// storageTimeout returns the bound of storage s's calls for
// Options.StorageTimeout d: the default for 0, and -1 (no bound) for a
// negative d. A storage that keeps the whole session in the cookie
// (session.CookieBinder: cookie storage) asks no server, and its work,
// decoding and signing, is the request's own: it gets no bound either, and
// runs on the request's goroutine.
func storageTimeout(d time.Duration, s session.Storage) time.Duration {
	if _, ok := s.(session.CookieBinder); ok {
		return -1
	}
	switch {
	case d == 0:
		return DefaultStorageTimeout
	case d < 0:
		return -1
	}
	return d
}

// callOp is the storage method that a storageCall runs.
type callOp uint8

const (
	opRead callOp = iota
	opSave
	opLock
	opRelease
)

// String names the operation, for errors and logs.
func (op callOp) String() string {
	return [...]string{"read", "save", "lock", "release"}[op]
}

// The states of a storageCall: the worker moves it from running to
// finished, or the request that gave up on it to abandoned; whichever
// comes first decides who owns the result.
const (
	callRunning uint32 = iota
	callFinished
	callAbandoned
)

// storageCall is one storage call that a worker goroutine runs for a
// request: its arguments, its results, and what the request waits on. Calls
// are pooled, with their channel and timer, so that a call that ends in
// time allocates nothing. A call that a request abandoned is never pooled
// again: its worker still owns it.
type storageCall struct {
	op      callOp
	storage session.Storage
	ctx     context.Context
	value   string              // Read's and Lock's cookie value
	lock    session.LockOptions // Lock's options
	s       *session.Session    // Read's result, Save's argument
	out     string              // Save's value
	set     bool                // Save's set
	release func()              // Lock's result, opRelease's function
	err     error
	// panicked is what the storage panicked with, and stack where (nil for
	// http.ErrAbortHandler), for the request's goroutine to panic again.
	panicked any
	stack    []byte
	// m is the middleware, whose count of late calls an abandoned call
	// leaves when it returns.
	m *middleware

	state atomic.Uint32
	done  chan struct{} // the worker's signal that the call finished: capacity 1
	timer *time.Timer   // the request's deadline
}

var callPool = sync.Pool{New: func() any {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &storageCall{done: make(chan struct{}, 1), timer: t}
}}

// newCall returns a call of op on m's storage, from the pool.
func (m *middleware) newCall(op callOp) *storageCall {
	c := callPool.Get().(*storageCall)
	c.op, c.storage, c.m = op, m.storage, m
	return c
}

// free returns a finished call to the pool, without the references that
// would keep a request's data alive.
func (c *storageCall) free() {
	c.storage, c.ctx, c.value, c.s, c.out, c.release, c.err = nil, nil, "", nil, "", nil, nil
	c.panicked, c.stack, c.m = nil, nil, nil
	callPool.Put(c)
}

// work hands calls to worker goroutines. A worker that finished a call
// waits for the next one, and ends after workerIdle to twice that without
// one: a goroutine that is new for every call would grow its stack for the
// storage's calls every time, and most of a call's cost would be that
// copy. A worker takes its call from the channel rather than as an
// argument, since a closure over the call would cost an allocation.
var work = make(chan *storageCall)

// workerIdle is how long an idle worker waits for another call: long
// enough that a server under load keeps its workers, short enough that
// they are gone soon after the load, before a test's goroutine leak check
// looks.
const workerIdle = 100 * time.Millisecond

// startCall hands c to an idle worker, or to a new one.
func startCall(c *storageCall) {
	select {
	case work <- c:
	default:
		go worker()
		// The new worker takes c, or another call while one that
		// became idle meanwhile takes c; either way every call is
		// taken.
		work <- c
	}
}

// worker runs storage calls until none came for workerIdle. When the
// request of a call stopped waiting, the result is the worker's to dispose
// of: a lock taken too late is freed. Its idle timer is not reset per call,
// which would cost more than the call's handoff: it fires every workerIdle,
// and the worker ends when no call came since the last time.
func worker() {
	idle := time.NewTicker(workerIdle)
	defer idle.Stop()
	busy := false
	for {
		select {
		case c := <-work:
			busy = true
			c.run()
			if c.state.CompareAndSwap(callRunning, callFinished) {
				c.done <- struct{}{}
			} else {
				c.late()
			}
		case <-idle.C:
			if !busy {
				return
			}
			busy = false
		}
	}
}

// run calls the storage, catching a panic for the request's goroutine,
// where net/http (or the application) recovers it: a panic on this
// goroutine would end the process.
func (c *storageCall) run() {
	defer func() {
		if p := recover(); p != nil {
			c.panicked = p
			if p != http.ErrAbortHandler {
				c.stack = debug.Stack()
			}
		}
	}()
	switch c.op {
	case opRead:
		c.s, c.err = c.storage.Read(c.ctx, c.value)
	case opSave:
		c.out, c.set, c.err = c.storage.Save(c.ctx, c.s)
	case opLock:
		c.release, c.err = c.storage.(session.Locking).Lock(c.ctx, c.value, c.lock)
	case opRelease:
		c.release()
	}
}

// late disposes of the result of a call whose request stopped waiting for
// it: nothing reads it, and a lock it took is freed at once, since no
// request holds it.
func (c *storageCall) late() {
	m := c.m
	defer m.late.Add(-1)
	if c.op == opLock && c.panicked == nil && c.err == nil && c.release != nil {
		// Run as a release call, so that a panic is caught as well.
		c.op = opRelease
		c.run()
	}
	if c.panicked != nil {
		m.logPanic(c)
	}
}

// logPanic logs a panic of the storage with its stack, which the request's
// goroutine, panicking again, no longer shows.
func (m *middleware) logPanic(c *storageCall) {
	if c.stack != nil {
		m.logger.Error("sessionmiddleware: the session storage panicked", "cookie", m.name,
			"op", c.op.String(), "panic", fmt.Sprint(c.panicked), "stack", string(c.stack))
	}
}

// timeoutError is the error of a storage call that did not end by its
// deadline. It wraps context.DeadlineExceeded, and what the storage
// returned at the deadline (nil: the call still runs).
type timeoutError struct {
	op  callOp
	err error
	// busy: the call was not made, since too many calls of the storage
	// are still running past their deadline.
	busy int64
}

func (e *timeoutError) Error() string {
	switch {
	case e.busy > 0:
		return fmt.Sprintf("sessionmiddleware: %d calls of the session storage still run past their deadline; the %s was not tried", e.busy, e.op)
	case e.err != nil:
		return fmt.Sprintf("sessionmiddleware: the session storage's %s failed at its deadline: %v", e.op, e.err)
	}
	return fmt.Sprintf("sessionmiddleware: the session storage did not answer the %s by its deadline", e.op)
}

func (e *timeoutError) Unwrap() []error {
	if e.err == nil {
		return []error{context.DeadlineExceeded}
	}
	return []error{context.DeadlineExceeded, e.err}
}

// timedOut reports whether err means that the storage did not answer in
// time (the bound, or the request's own deadline): such a request is
// answered 503 with Retry-After rather than by the ErrorHandler.
func timedOut(err error) bool { return errors.Is(err, context.DeadlineExceeded) }

// deadline returns when a storage call that starts now, on behalf of a
// request with context parent, must end: d from now, or the request's own
// deadline when that comes first.
func deadline(parent context.Context, d time.Duration) time.Time {
	t := time.Now().Add(d)
	if pd, ok := parent.Deadline(); ok && pd.Before(t) {
		return pd
	}
	return t
}

// bounded runs c on a worker goroutine and waits for it until deadline
// (Options.AbandonLateCalls, and the release of Exclusive's lock).
// It returns a *timeoutError when the call did not finish by then (the
// worker keeps it, and the request must not touch it again), or when too
// many calls are late already (c is freed). Otherwise c holds the results,
// with a storage error past the deadline wrapped in a *timeoutError, and
// the caller frees it. A panic of the storage panics again here.
func (m *middleware) bounded(c *storageCall, deadline time.Time) error {
	if n := m.late.Load(); n >= maxLateCalls {
		op := c.op
		c.free()
		return &timeoutError{op: op, busy: n}
	}
	c.state.Store(callRunning)
	startCall(c)
	select {
	case <-c.done:
		// A call that ended at once needs no timer.
	default:
		if !m.wait(c, deadline) {
			return &timeoutError{op: c.op}
		}
	}
	if c.panicked != nil {
		m.logPanic(c)
		panic(c.panicked)
	}
	c.err = lateError(c.op, c.err, deadline)
	return nil
}

// lateError returns err, the error of a storage call of op with deadline,
// as a *timeoutError when it came at or past the deadline: a storage that
// honours its context fails there with its own error, such as a network
// timeout, which answers the request 503 as a context error does.
func lateError(op callOp, err error, deadline time.Time) error {
	if err != nil && !timedOut(err) && !time.Now().Before(deadline) {
		return &timeoutError{op: op, err: err}
	}
	return err
}

// wait waits for c until deadline, and reports whether it finished; when
// it did not, c is abandoned to its worker.
func (m *middleware) wait(c *storageCall, deadline time.Time) bool {
	c.timer.Reset(time.Until(deadline))
	select {
	case <-c.done:
		stopTimer(c.timer)
		return true
	case <-c.timer.C:
	}
	// Counted before the worker can see the call abandoned and leave the
	// count, so that the count never goes below zero.
	m.late.Add(1)
	if c.state.CompareAndSwap(callRunning, callAbandoned) {
		return false
	}
	m.late.Add(-1)
	<-c.done // the worker finished just now
	return true
}

// stopTimer stops t and drains a value it may have sent, so that the next
// Reset starts clean also with the timer channels of Go before 1.23
// (GODEBUG asynctimerchan=1).
func stopTimer(t *time.Timer) {
	if !t.Stop() {
		select {
		case <-t.C:
		default:
		}
	}
}

// readSession calls the storage's Read for the request, within the bound.
func (m *middleware) readSession(ctx context.Context, rw *responseWriter, value string) (*session.Session, error) {
	if m.timeout < 0 {
		return m.storage.Read(ctx, value)
	}
	d := deadline(ctx, m.timeout)
	if !m.abandon {
		s, err := m.storage.Read(rw.callContext(ctx, d), value)
		rw.endCall()
		return s, lateError(opRead, err, d)
	}
	c := m.newCall(opRead)
	c.value = value
	c.ctx = rw.callContext(ctx, d)
	if err := m.bounded(c, d); err != nil {
		rw.abandon()
		return nil, err
	}
	rw.endCall()
	s, err := c.s, c.err
	c.free()
	return s, err
}

// saveStorage calls the storage's Save for the request, within the bound.
func (m *middleware) saveStorage(ctx context.Context, rw *responseWriter, s *session.Session) (string, bool, error) {
	if m.timeout < 0 {
		return m.storage.Save(ctx, s)
	}
	d := deadline(ctx, m.timeout)
	if !m.abandon {
		value, set, err := m.storage.Save(rw.callContext(ctx, d), s)
		rw.endCall()
		return value, set, lateError(opSave, err, d)
	}
	c := m.newCall(opSave)
	c.s = s
	c.ctx = rw.callContext(ctx, d)
	if err := m.bounded(c, d); err != nil {
		rw.abandon()
		return "", false, err
	}
	rw.endCall()
	value, set, err := c.out, c.set, c.err
	c.free()
	return value, set, err
}

// lockSession calls the storage's Lock for the request. Its bound is the
// lock's own wait plus one storage call: the wait for another request that
// holds the lock, then the try that finds it free.
func (m *middleware) lockSession(ctx context.Context, rw *responseWriter, lk session.Locking, value string, o session.LockOptions, wait time.Duration) (func(), error) {
	if m.timeout < 0 {
		return lk.Lock(ctx, value, o)
	}
	d := deadline(ctx, wait+m.timeout)
	if !m.abandon {
		release, err := lk.Lock(rw.callContext(ctx, d), value, o)
		rw.endCall()
		return release, lateError(opLock, err, d)
	}
	c := m.newCall(opLock)
	c.storage, c.value, c.lock = lk, value, o
	c.ctx = rw.callContext(ctx, d)
	if err := m.bounded(c, d); err != nil {
		rw.abandon()
		return nil, err
	}
	rw.endCall()
	release, err := c.release, c.err
	c.free()
	return release, err
}

// releaseLock frees the session's lock, waiting for the storage at most
// the bound: the session is saved, and the response need not wait for the
// lock's release, which goes on in the background (the lock ends at its
// TTL at the latest). The release takes no context that a deadline could
// end, so it runs on a worker also without Options.AbandonLateCalls: only
// Exclusive's routes pay for the hand-off, next to a lock's round trips.
func (m *middleware) releaseLock(rw *responseWriter, release func()) {
	if m.timeout < 0 {
		release()
		return
	}
	c := m.newCall(opRelease)
	c.release = release
	// Not the request's deadline, which may have passed: the release
	// is owed anyway.
	if err := m.bounded(c, time.Now().Add(m.timeout)); err != nil {
		// The release may keep a context of the request's calls.
		rw.abandon()
		m.logger.WarnContext(rw.r.Context(), "sessionmiddleware: Exclusive: releasing the session's lock takes longer than the storage timeout; the response goes out, and the release goes on in the background",
			"cookie", m.name, "error", err)
		return
	}
	c.free()
}

// boundContext is the context of a request's storage call: the request's
// context, with a deadline that the storage timeout brings forward. It
// makes no timer and no channel unless the storage asks for Done, and then
// takes them from a pool (deadlineTimer), to which a call that ends in time
// returns them: go-redis and pgx ask for Done on every command, and
// context.WithDeadline's timer, channel and registration with the parent
// would cost each of them several allocations.
//
// Its Done channel is closed at the deadline. The request's context ending
// (a client that went away) shows in Err at once, but closes Done only at
// the deadline, which is at most the storage timeout away: watching the
// request's context for that would cost a registration per call.
//
// A context whose Done was asked for serves no other call: a child context
// (context.WithCancel of it, as pgx makes) watches it from a goroutine of
// the context package that may still read it after the call returned. Its
// timer and channel still go back to the pool once the call ended in time:
// a watcher left on that channel belongs to a child context that its
// creator canceled when the call returned (the context contract), and only
// wakes it for nothing. The request's writer holds two such contexts, so
// that a read and a save allocate none.
type boundContext struct {
	context.Context // the request's context, for Value and Err
	deadline        time.Time

	mu   sync.Mutex
	done chan struct{} // from dt, or closedChan; nil before the first Done
	err  error
	// dt closes done at the deadline (nil when done is nil or closed).
	dt *deadlineTimer
	// kept: the context cannot serve another call, since a call that
	// outlived its deadline, or a watcher of its Done, may still have it.
	kept bool
}

// closedChan is the Done of a context that had ended when Done was first
// asked for.
var closedChan = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// Deadline returns the call's deadline.
func (c *boundContext) Deadline() (time.Time, bool) { return c.deadline, true }

// Done returns a channel that is closed at the deadline, or at once when
// the context has ended.
func (c *boundContext) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done != nil {
		return c.done
	}
	if c.errLocked() != nil {
		c.done = closedChan
		return c.done
	}
	c.kept = true
	c.dt = newDeadlineTimer(c)
	c.done = c.dt.ch
	c.dt.t.Reset(time.Until(c.deadline))
	return c.done
}

// Err returns the request context's error, or context.DeadlineExceeded
// past the deadline; nil before.
func (c *boundContext) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.errLocked()
}

// errLocked is Err, which it records, closing done, once the context
// ended; c.mu is held.
func (c *boundContext) errLocked() error {
	if c.err != nil {
		return c.err
	}
	c.err = c.Context.Err()
	if c.err == nil && !time.Now().Before(c.deadline) {
		c.err = context.DeadlineExceeded
	}
	if c.err != nil {
		c.closeLocked()
	}
	return c.err
}

// closeLocked closes done, if a timer made it; its timer is then spent and
// not pooled again. c.mu is held.
func (c *boundContext) closeLocked() {
	if c.dt != nil {
		close(c.done)
		c.dt.t.Stop()
		c.dt = nil
	}
}

// expire ends the context at its deadline, when its timer dt fired. A
// timer the call already gave back (reset) does nothing: dt is then no
// longer the context's. The timer may fire a little early by the wall
// clock, and its end is the deadline all the same.
func (c *boundContext) expire(dt *deadlineTimer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dt == dt && c.err == nil {
		c.err = context.DeadlineExceeded
		c.closeLocked()
	}
}

// callEnded gives back the timer of a call that ended in time: to the
// pool, unless it fired. c keeps its channel, which only a watcher left
// from the call may still hold.
func (c *boundContext) callEnded() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if dt := c.dt; dt != nil {
		c.dt = nil
		if dt.t.Stop() {
			dt.release()
		}
	}
}

// String names the context, as the context package's do, for debugging.
func (c *boundContext) String() string { return "sessionmiddleware.StorageTimeout" }

// deadlineTimer is a Done channel with the timer that closes it: pooled,
// since a channel that was never closed and a timer that was stopped
// before it fired can serve another call.
type deadlineTimer struct {
	ch chan struct{}
	t  *time.Timer
	// owner is the context whose deadline the timer is set to.
	owner atomic.Pointer[boundContext]
}

var deadlineTimers = sync.Pool{New: func() any {
	dt := &deadlineTimer{ch: make(chan struct{})}
	dt.t = time.AfterFunc(time.Hour, dt.fire)
	dt.t.Stop()
	return dt
}}

// newDeadlineTimer returns a stopped timer from the pool, owned by c.
func newDeadlineTimer(c *boundContext) *deadlineTimer {
	dt := deadlineTimers.Get().(*deadlineTimer)
	dt.owner.Store(c)
	return dt
}

// fire is the timer's function: its owner's deadline came.
func (dt *deadlineTimer) fire() {
	if c := dt.owner.Load(); c != nil {
		c.expire(dt)
	}
}

// release puts a stopped timer, whose channel is open, back in the pool.
func (dt *deadlineTimer) release() {
	dt.owner.Store(nil)
	deadlineTimers.Put(dt)
}

// callContext returns the context of a storage call of rw's request on
// parent, ending at deadline: one of rw's own that no earlier call kept
// (boundContext), or a new one.
func (rw *responseWriter) callContext(parent context.Context, deadline time.Time) *boundContext {
	var bc *boundContext
	for i := range rw.bcBuf {
		if !rw.bcBuf[i].isKept() {
			bc = &rw.bcBuf[i]
			break
		}
	}
	if bc == nil {
		bc = new(boundContext)
	}
	rw.bc = bc
	bc.Context, bc.deadline = parent, deadline
	return bc
}

// isKept reports whether c cannot serve another call.
func (c *boundContext) isKept() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.kept
}

// endCall gives back the timer of the context of a call that ended in
// time (boundContext.callEnded).
func (rw *responseWriter) endCall() {
	if bc := rw.bc; bc != nil {
		bc.callEnded()
	}
}

// abandon leaves the context of the last call to that call, which outlived
// its deadline and may still use it.
func (rw *responseWriter) abandon() {
	if bc := rw.bc; bc != nil {
		bc.mu.Lock()
		bc.kept = true
		bc.mu.Unlock()
	}
}
