package redisstorage

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
)

// Pipelining. By default the commands of a request's read and save (GET,
// the compare-and-set scripts, PEXPIRE, DEL) go through the client's
// asynchronous autopipeliner (AsyncAutoPipeline), which sends the commands
// that concurrent requests have queued as one pipeline: one write and one
// read system call for a whole batch, on the client and on the server,
// instead of one of each per command. Under concurrent load that is most of
// Redis's CPU per request. A request waits for its own command's result
// only until its context ends (AutoFuture.WaitContext), so the session
// middleware's deadline holds as it does without pipelining: a paused
// server fails the request at its deadline. What a deadline cannot do in
// either mode is take back a command already sent: it may still run.
//
// A small batch gains little and costs a hand-off to the autopipeliner's
// goroutine and its allocations, so a command is sent directly while at
// most directInFlight commands of the storage are under way: light load
// keeps the latency of a plain client, and heavier load shares batches.
// The threshold is where make bench-redis found the two to cross on a
// 2-core machine with Redis on loopback: 16 concurrent clients were faster
// direct, 64 pipelined (bench/README.md has the figures).
//
// Locks (SET NX, the unlock script) and GetMulti's own pipeline are sent
// directly: a batch that fails on a broken connection is sent again, and a
// SET NX that ran the first time would then report the lock as taken by
// someone else.

// sender sends the backend's commands: through ap, or directly on c when ap
// is nil (Options.NoPipeline, a *redis.Ring, which has no autopipeliner, or
// an application's own *redis.AutoPipeliner).
type sender struct {
	c  redis.UniversalClient
	ap *redis.AutoPipeliner
	// inFlight counts the commands under way.
	inFlight atomic.Int64
}

// directInFlight is how many commands under way (this one included) are
// still sent directly when the storage pipelines: the crossover measured
// above. A var for tests, which set it to 0 to pipeline every command.
var directInFlight int64 = 16

// newSender returns the sender of client, pipelined unless direct.
func newSender(client redis.UniversalClient, direct bool) (*sender, error) {
	s := &sender{c: client}
	if direct {
		return s, nil
	}
	if _, isAP := client.(*redis.AutoPipeliner); isAP {
		// The application's own autopipeliner: its commands run on its
		// context, so they are sent directly (see New).
		return s, nil
	}
	ap, err := client.AsyncAutoPipeline()
	switch {
	case errors.Is(err, redis.ErrRingAutoPipelineUnsupported):
		return s, nil // a Ring has none: its commands are sent directly
	case err != nil:
		return s, err
	}
	s.ap = ap
	return s, nil
}

// run sends cmd and returns its error. When the wait for a pipelined
// command ends with ctx, run returns ctx's error, and cmd must not be read:
// its batch may still fill it in.
func (s *sender) run(ctx context.Context, cmd redis.Cmder) error {
	if s.ap == nil {
		_ = s.c.Process(ctx, cmd)
		return cmd.Err()
	}
	defer s.inFlight.Add(-1)
	if s.inFlight.Add(1) <= directInFlight {
		_ = s.c.Process(ctx, cmd)
		return cmd.Err()
	}
	f := s.ap.Submit(ctx, cmd)
	if err := f.WaitContext(ctx); err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return err
	}
	return cmd.Err()
}

// eval runs script on key with args as EVALSHA, and as EVAL (which loads
// it) when the server does not have it yet, and returns its integer reply.
func (s *sender) eval(ctx context.Context, script *redis.Script, key string, args ...any) (int64, error) {
	cmd := redis.NewIntCmd(ctx, append([]any{"evalsha", script.Hash(), 1, key}, args...)...)
	err := s.run(ctx, cmd)
	if err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
		cmd = redis.NewIntCmd(ctx, append([]any{"eval", scriptSource[script], 1, key}, args...)...)
		err = s.run(ctx, cmd)
	}
	if err != nil {
		return 0, err
	}
	return cmd.Val(), nil
}

// scriptSource is the Lua source of each script that eval sends (a
// redis.Script does not give it back).
var scriptSource = map[*redis.Script]string{
	putScript: putScriptSource,
	delScript: delScriptSource,
}
