// JSON-lines protocol shared by every handler module (cookie.mjs, and later
// session.mjs). One request per line on stdin, one response per line on
// stdout, in request order:
//
//   request:  {"id": 7, "op": "serialize", ...op-specific fields}
//   response: {"id": 7, "result": <any JSON>}
//         or: {"id": 7, "error": "message", "errorName": "URIError"}
//
// A handler is `async (request) => result`. Requests are handled one at a
// time, so handlers may keep state (a session storage, say) between calls.
// stdout carries nothing but responses: console.log is sent to stderr.
import { createInterface } from 'node:readline'

// Node < 19 has no global WebCrypto, which @remix-run/cookie uses. Node 20
// (the supported version) has it; this keeps an older node from failing
// with a confusing "crypto is not defined".
if (!globalThis.crypto?.subtle) {
  globalThis.crypto = (await import('node:crypto')).webcrypto
}

console.log = console.error
console.info = console.error

export async function serve(handlers) {
  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity })
  for await (const line of rl) {
    if (line.trim() === '') continue
    let id = null
    let response
    try {
      const req = JSON.parse(line)
      id = req.id ?? null
      const handler = Object.hasOwn(handlers, req.op) ? handlers[req.op] : undefined
      if (!handler) throw new Error(`unknown op ${JSON.stringify(req.op)}`)
      const result = await handler(req)
      response = { id, result: result === undefined ? null : result }
    } catch (err) {
      response = { id, error: String(err?.message ?? err), errorName: String(err?.name ?? 'Error') }
    }
    process.stdout.write(JSON.stringify(response) + '\n')
  }
}
