// Benchmark of @remix-run/session-storage-memcache for bench/memcache_test.go:
// the work of one request without HTTP, as the Go side's
// BenchmarkMemcacheStorage* do it: parse and verify the signed session
// cookie, read the session (user_id=42, name="alice") from memcached, and in
// "write" mode increment a counter, save and serialize the Set-Cookie.
//
//   node bench-memcache.mjs SERVER write|read CLIENTS
//
// It sets up CLIENTS sessions, warms up and prints "ready"; then for each
// line N on stdin, CLIENTS concurrent workers (one session each) run N
// requests between them, and it prints {"ns": nanoseconds of that loop,
// "ops": N}. Node's start-up stays out of the timing.
import { createInterface } from 'node:readline'
import { createCookie } from '@remix-run/cookie'
import { createMemcacheSessionStorage } from '@remix-run/session-storage-memcache'

if (!globalThis.crypto?.subtle) {
  globalThis.crypto = (await import('node:crypto')).webcrypto
}

const [server, mode, clientsArg] = process.argv.slice(2)
const clients = Number(clientsArg ?? 1)
if (!server || (mode !== 'write' && mode !== 'read') || !(clients > 0)) {
  console.error('usage: node bench-memcache.mjs SERVER write|read CLIENTS')
  process.exit(2)
}
const write = mode === 'write'

const cookie = createCookie('session', { secrets: ['0123456789abcdef0123456789abcdef'] })
const storage = createMemcacheSessionStorage(server, { ttlSeconds: 3600 })

// One session per client, as the first request of each would create it.
async function login() {
  const session = await storage.read(null)
  session.set('user_id', 42)
  session.set('name', 'alice')
  const value = await storage.save(session)
  const line = await cookie.serialize(value)
  return line.split(';')[0]
}

async function request(header) {
  const value = await cookie.parse(header)
  const session = await storage.read(value)
  if (session.get('user_id') !== 42) throw new Error('lost session')
  if (!write) {
    if ((await storage.save(session)) != null) throw new Error('a read-only request saved')
    return
  }
  session.set('counter', (session.get('counter') ?? 0) + 1)
  const saved = await storage.save(session)
  if (saved == null) throw new Error('a changed session was not saved')
  await cookie.serialize(saved)
}

const headers = await Promise.all(Array.from({ length: clients }, login))
// Warm up the JIT outside the timed loop.
for (let i = 0; i < 50; i++) await request(headers[0])

async function run(iterations) {
  let next = 0
  async function worker(header) {
    while (next < iterations) {
      next++
      await request(header)
    }
  }
  const start = process.hrtime.bigint()
  await Promise.all(headers.map(worker))
  return Number(process.hrtime.bigint() - start)
}

process.stdout.write('ready\n')
for await (const line of createInterface({ input: process.stdin })) {
  const n = Number(line)
  if (!(n > 0)) continue
  const ns = await run(n)
  process.stdout.write(JSON.stringify({ ns, ops: n }) + '\n')
}
