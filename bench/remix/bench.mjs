// The bench module's storage workloads through the real @remix-run packages:
// parse the session cookie (@remix-run/cookie), read the session, read
// user_id, and for a write set a counter, save and serialize the cookie.
// A read saves nothing when the session is unchanged, as
// @remix-run/session-middleware does. Run by bench/remix_test.go:
//
//   node bench.mjs <Workload> <seconds>
//
// Workload: MemoryWrite, MemoryRead, CookieWrite, CookieRead, FileWrite,
// FileRead, RedisWrite, RedisRead. Redis needs REDIS_ADDR (host:port); File
// needs FILE_DIR. (Memcache has its own runner, interop/node/bench-memcache.mjs,
// driven by memcache_test.go.)
// Prints one line: "ns/op <float> ops <int>".
import { createCookie } from '@remix-run/cookie'
import { createCookieSessionStorage } from '@remix-run/session/cookie-storage'
import { createMemorySessionStorage } from '@remix-run/session/memory-storage'
import { createFsSessionStorage } from '@remix-run/session/fs-storage'
import { createRedisSessionStorage } from '@remix-run/session-storage-redis'
import { createClient } from 'redis'

const [workload, secondsArg] = process.argv.slice(2)
const seconds = Number(secondsArg ?? '1')
const write = workload.endsWith('Write')
const kind = workload.replace(/(Write|Read)$/, '')

const cookie = createCookie('session', { secrets: ['0123456789abcdef0123456789abcdef'] })

let redis
async function storageFor(kind) {
  switch (kind) {
    case 'Memory': return createMemorySessionStorage()
    case 'Cookie': return createCookieSessionStorage()
    case 'File':
      if (!process.env.FILE_DIR) throw new Error('FILE_DIR is not set')
      return createFsSessionStorage(process.env.FILE_DIR)
    case 'Redis':
      if (!process.env.REDIS_ADDR) throw new Error('REDIS_ADDR is not set')
      redis = createClient({ url: `redis://${process.env.REDIS_ADDR}` })
      await redis.connect()
      return createRedisSessionStorage(redis, { ttl: 3600 })
    default: throw new Error(`unknown workload ${workload}`)
  }
}

const storage = await storageFor(kind)

// The first request: a new session with user_id=42 and name="alice".
let session = await storage.read(null)
session.set('user_id', 42)
session.set('name', 'alice')
const first = await cookie.serialize(await storage.save(session))
let header = first.split(';')[0]

async function request() {
  const value = await cookie.parse(header)
  const s = await storage.read(value)
  if (s.get('user_id') !== 42) throw new Error('lost session')
  if (write) {
    s.set('counter', (s.get('counter') ?? 0) + 1)
  }
  if (s.dirty) {
    const saved = await storage.save(s)
    if (saved !== null) {
      const line = await cookie.serialize(saved)
      header = line.split(';')[0] // cookie storage's value changes with the data
    }
  }
}

// Warm up the JIT, then time whole batches until the time is up.
for (let i = 0; i < 500; i++) await request()
let ops = 0
const start = process.hrtime.bigint()
const end = start + BigInt(Math.round(seconds * 1e9))
let now = start
while (now < end) {
  for (let i = 0; i < 100; i++) await request()
  ops += 100
  now = process.hrtime.bigint()
}
console.log(`ns/op ${Number(now - start) / ops} ops ${ops}`)
if (redis) await redis.quit()
process.exit(0)
