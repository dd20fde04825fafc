// Redis session ops for the Go interop tests: the real
// @remix-run/session-storage-redis on the npm `redis` client, behind the
// JSON-lines protocol of protocol.mjs. Load it after session.mjs:
// `node cookie.mjs session.mjs redis.mjs` (startRemix(t, "session.mjs",
// "redis.mjs") in Go).
//
// It extends session.mjs's "sessionRequest" op with one more storage kind;
// every other kind goes to session.mjs unchanged:
//
//   "storage": {"kind":"redis", "url":"redis://127.0.0.1:PORT",
//               "keyPrefix"?: "session:", "ttl"?: seconds, "useUnknownIds"?: false}
//
// (createRedisSessionStorage(client, {keyPrefix, ttl, useUnknownIds})). The
// request, its actions and its answer are those of session.mjs.
//
//   {"op":"redisVersions"} -> {storage, redis}: the package versions in use.
//   {"op":"redisBench", "url", "keyPrefix"?, "n", "write", "concurrency"?} ->
//        {n, concurrency, nsPerOp}: n requests of the bench workload
//        (bench/redis_test.go) through the Remix storage, timed in process.
//
// Redis clients are connected once per URL and closed when stdin ends and
// the requests are served, so the helper exits as without this module.
import { createClient } from 'redis'
import { createRedisSessionStorage } from '@remix-run/session-storage-redis'
import { handlers as sessionHandlers, runSessionRequest } from './session.mjs'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'

const clients = new Map()
const storages = new Map()

async function clientFor(url) {
  if (typeof url !== 'string') throw new TypeError('storage.url must be a string')
  if (!clients.has(url)) {
    const c = createClient({ url })
    c.on('error', (err) => console.error('redis client:', err?.message ?? err))
    clients.set(url, c.connect().then(() => c))
  }
  return clients.get(url)
}

async function redisStorage(spec) {
  const options = {}
  if (spec.keyPrefix != null) options.keyPrefix = spec.keyPrefix
  if (spec.ttl != null) options.ttl = spec.ttl
  if (spec.useUnknownIds != null) options.useUnknownIds = Boolean(spec.useUnknownIds)
  const key = JSON.stringify([spec.url, options])
  if (!storages.has(key)) storages.set(key, createRedisSessionStorage(await clientFor(spec.url), options))
  return storages.get(key)
}

// The open client sockets would keep node running after stdin ends, so the
// clients are closed then, once no request of this module is in flight
// (stdin can end while buffered requests are still being served; a later
// request would connect again).
let closing = false
let inflight = 0

function maybeClose() {
  if (!closing || inflight > 0) return
  for (const p of clients.values()) p.then((c) => c.close()).catch(() => {})
  clients.clear()
  storages.clear()
}

process.stdin.on('close', () => {
  closing = true
  setImmediate(maybeClose)
})

function tracked(fn) {
  return async (req) => {
    inflight++
    try {
      return await fn(req)
    } finally {
      inflight--
      setImmediate(maybeClose)
    }
  }
}

function packageVersion(name) {
  const require = createRequire(import.meta.url)
  for (const dir of require.resolve.paths(name)) {
    try {
      return JSON.parse(readFileSync(`${dir}/${name}/package.json`, 'utf8')).version
    } catch {}
  }
  return null
}

export const handlers = {
  redisVersions: tracked(async () => {
    return { storage: packageVersion('@remix-run/session-storage-redis'), redis: packageVersion('redis') }
  }),

  sessionRequest: tracked(async (req) => {
    if (req.storage?.kind !== 'redis') return sessionHandlers.sessionRequest(req)
    return runSessionRequest(req, await redisStorage(req.storage))
  }),

  // redisBench runs the workload of bench/redis_test.go through the Remix
  // storage (ttl 24 hours, as the Go side's Lifetime), without HTTP: read the session by id, check user_id, (write:
  // increment a counter), save; n requests in all, spread over
  // "concurrency" (default 1) async workers, each on its own session, on
  // one client connection (node-redis pipelines concurrent commands).
  redisBench: tracked(async (req) => {
    const storage = await redisStorage({ url: req.url, keyPrefix: req.keyPrefix ?? 'bench:remix:', ttl: 24 * 60 * 60 })
    const n = req.n ?? 1000
    const workers = Math.max(1, req.concurrency ?? 1)
    const ids = []
    for (let w = 0; w < workers; w++) {
      const s = await storage.read(null)
      s.set('user_id', 42)
      s.set('name', 'alice')
      ids.push(await storage.save(s))
    }
    async function work(id, count) {
      for (let i = 0; i < count; i++) {
        const s = await storage.read(id)
        if (s.get('user_id') !== 42) throw new Error('lost session')
        if (req.write) s.set('counter', (s.get('counter') ?? 0) + 1)
        await storage.save(s)
      }
    }
    const start = process.hrtime.bigint()
    await Promise.all(ids.map((id, w) => work(id, Math.floor(n / workers) + (w < n % workers ? 1 : 0))))
    const ns = Number(process.hrtime.bigint() - start)
    return { n, concurrency: workers, nsPerOp: ns / n }
  }),
}
