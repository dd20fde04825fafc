// The Redis load of bench/cmd/redisload (make bench-redis) through the real
// @remix-run/session-storage-redis on ONE node-redis client (which pipelines
// the commands of concurrent requests on its connection; a cluster client
// keeps one connection per master): `concurrency` sessions created first
// (user_id=42, name="alice", ttl 24 hours as the Go side's Lifetime), then
// `concurrency` async loops, each on its own session, one request after the
// other: read the session by id, check user_id, for a write increment a
// counter, save (which writes nothing for an unchanged session).
//
//   node redis-load.mjs --url redis://127.0.0.1:6379 --concurrency 16 --workload write --warmup 1 --duration 5
//   node redis-load.mjs --cluster 127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002 ...
//
// Prints "start" when the timed window starts (after --warmup seconds) and
// "ops <int> seconds <float>" when it ends (--duration seconds later): the
// requests completed in the window and its length. The loops stop then; the
// requests in flight finish. Any error exits 1.
import { parseArgs } from 'node:util'
import { setTimeout as sleep } from 'node:timers/promises'
import { createClient, createCluster } from 'redis'
import { createRedisSessionStorage } from '@remix-run/session-storage-redis'

const { values: opts } = parseArgs({
  options: {
    url: { type: 'string' },
    cluster: { type: 'string' },
    concurrency: { type: 'string', default: '16' },
    workload: { type: 'string', default: 'write' },
    warmup: { type: 'string', default: '1' },
    duration: { type: 'string', default: '5' },
    'key-prefix': { type: 'string', default: 'bench:remix:' },
  },
})

const concurrency = Number(opts.concurrency)
const warmup = Number(opts.warmup)
const duration = Number(opts.duration)
if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error(`--concurrency ${opts.concurrency}: want a positive integer`)
if (!(warmup >= 0) || !(duration > 0)) throw new Error('--warmup and --duration: want seconds, a duration above 0')
if (opts.workload !== 'write' && opts.workload !== 'read') throw new Error(`--workload ${opts.workload}: want write or read`)
const write = opts.workload === 'write'

// connect returns the connected client: a cluster client for --cluster,
// a single node's for --url.
async function connect() {
  let client
  if (opts.cluster) {
    client = createCluster({ rootNodes: opts.cluster.split(',').map((a) => ({ url: `redis://${a.trim()}` })) })
  } else if (opts.url) {
    client = createClient({ url: opts.url })
  } else {
    throw new Error('want --url or --cluster')
  }
  client.on('error', (err) => fail(err))
  await client.connect()
  return client
}

function fail(err) {
  console.error('redis-load.mjs:', err?.stack ?? err)
  process.exit(1)
}

async function main() {
  const client = await connect()
  const storage = createRedisSessionStorage(client, { keyPrefix: opts['key-prefix'], ttl: 24 * 60 * 60 })

  const ids = []
  for (let i = 0; i < concurrency; i++) {
    const s = await storage.read(null)
    s.set('user_id', 42)
    s.set('name', 'alice')
    ids.push(await storage.save(s))
  }

  let ops = 0
  let stop = false
  async function loop(id) {
    while (!stop) {
      const s = await storage.read(id)
      if (s.get('user_id') !== 42) throw new Error(`lost session ${id}`)
      if (write) s.set('counter', (s.get('counter') ?? 0) + 1)
      await storage.save(s)
      ops++
    }
  }

  async function window() {
    await sleep(warmup * 1000)
    const ops0 = ops
    const t0 = process.hrtime.bigint()
    console.log('start')
    await sleep(duration * 1000)
    const ops1 = ops
    const t1 = process.hrtime.bigint()
    stop = true
    console.log(`ops ${ops1 - ops0} seconds ${Number(t1 - t0) / 1e9}`)
  }

  await Promise.all([window(), ...ids.map(loop)])
  await client.close()
}

main().then(() => process.exit(0), fail)
