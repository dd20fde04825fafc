// Session ops for the Go interop tests: the real @remix-run/session (cookie
// and fs storages) behind the JSON-lines protocol of protocol.mjs, with the
// session cookie built by cookie.mjs's makeCookie. Load it with
// `node cookie.mjs session.mjs` (startRemix(t, "session.mjs") in Go).
//
//   {"op":"sessionRequest", "name", "options", "header", "storage", "actions"}
//
// runs one request the way @remix-run/session-middleware does: parse the
// session cookie out of "header" (a Cookie request header; null: none), read
// the session from the storage, apply "actions" in order, save, and
// serialize the saved value (if any) with the same cookie. "storage" is
// {"kind":"cookie"} (createCookieSessionStorage) or
// {"kind":"fs","dir":"/abs/dir","useUnknownIds":false}
// (createFsSessionStorage). Actions:
//
//   {"do":"get","key"}   -> {"present","value","json","type"}
//   {"do":"has","key"}   -> boolean
//   {"do":"set","key","value"|"json"}    "json" is JSON text, parsed by
//   {"do":"flash","key","value"|"json"}  JSON.parse (for -0, big numbers,
//                                         lone surrogates, __proto__ keys)
//   {"do":"unset","key"}
//   {"do":"regenerateId","deleteOld"}
//   {"do":"destroy"}
//   {"do":"data"}        -> JSON.stringify(session.data)
//   {"do":"probe"}       -> "clean" unless Object.prototype was changed
//
// An action that throws gives {"error": message} in its slot. The answer:
//
//   {"cookieValue": parse's result, "loaded": {id, dirty, size, data},
//    "results": [...], "id", "deleteId", "destroyed", "dirty",
//    "saved": storage.save's result (string or null),
//    "setCookie": cookie.serialize(saved) or null, "warnings": [console.warn text]}
//
// {"op":"sessionId"} returns createSessionId().
import { createSessionId } from '@remix-run/session'
import { createCookieSessionStorage } from '@remix-run/session/cookie-storage'
import { createFsSessionStorage } from '@remix-run/session/fs-storage'
import { makeCookie } from './cookie.mjs'

const fsStorages = new Map()

function storageFor(spec) {
  const kind = spec?.kind ?? 'cookie'
  if (kind === 'cookie') return createCookieSessionStorage()
  if (kind === 'fs') {
    if (typeof spec.dir !== 'string') throw new TypeError('storage.dir must be a string')
    const useUnknownIds = Boolean(spec.useUnknownIds)
    const key = JSON.stringify([spec.dir, useUnknownIds])
    if (!fsStorages.has(key)) fsStorages.set(key, createFsSessionStorage(spec.dir, { useUnknownIds }))
    return fsStorages.get(key)
  }
  throw new TypeError(`unknown storage kind ${JSON.stringify(kind)}`)
}

// prototypeState reports whether anything reached Object.prototype (a
// "__proto__" key gone wrong): "clean", or what leaked.
function prototypeState() {
  const leaked = Object.getOwnPropertyNames(Object.prototype).filter((k) => !baseline.has(k))
  if (leaked.length > 0) return `Object.prototype gained ${JSON.stringify(leaked)}`
  if (({}).admin !== undefined) return '({}).admin is defined'
  return 'clean'
}
const baseline = new Set(Object.getOwnPropertyNames(Object.prototype))

function actionValue(a) {
  return a.json != null ? JSON.parse(a.json) : a.value
}

function describe(v) {
  return {
    present: v !== undefined,
    value: v === undefined ? null : v,
    json: v === undefined ? null : JSON.stringify(v),
    type: v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v,
  }
}

async function apply(session, a) {
  switch (a.do) {
    case 'get': return describe(session.get(a.key))
    case 'has': return session.has(a.key)
    case 'set': session.set(a.key, actionValue(a)); return null
    case 'flash': session.flash(a.key, actionValue(a)); return null
    case 'unset': session.unset(a.key); return null
    case 'regenerateId': session.regenerateId(Boolean(a.deleteOld)); return null
    case 'destroy': session.destroy(); return null
    case 'data': return JSON.stringify(session.data)
    case 'probe': return prototypeState()
  }
  throw new TypeError(`unknown action ${JSON.stringify(a.do)}`)
}

export const handlers = {
  async sessionId() {
    return createSessionId()
  },
  async sessionRequest(req) {
    return runSessionRequest(req, storageFor(req.storage))
  },
}

// runSessionRequest runs one sessionRequest against storage: what every
// storage kind shares (redis.mjs and memcache.mjs pass their own storages).
export async function runSessionRequest(req, storage) {
  const cookie = makeCookie(req)
  const warnings = []
  const warn = console.warn
  console.warn = (...args) => { warnings.push(args.map(String).join(' ')) }
  try {
    const cookieValue = req.header == null ? null : await cookie.parse(req.header)
    const session = await storage.read(cookieValue)
    const loaded = {
      id: session.id,
      dirty: session.dirty,
      size: session.size,
      data: JSON.stringify(session.data),
    }
    const results = []
    for (const a of req.actions ?? []) {
      try {
        results.push(await apply(session, a))
      } catch (err) {
        results.push({ error: String(err?.message ?? err) })
      }
    }
    const out = {
      cookieValue,
      loaded,
      results,
      id: session.id,
      deleteId: session.deleteId ?? null,
      destroyed: session.destroyed,
      dirty: session.dirty,
    }
    out.saved = await storage.save(session)
    out.setCookie = out.saved == null ? null : await cookie.serialize(out.saved)
    out.warnings = warnings
    return out
  } finally {
    console.warn = warn
  }
}
