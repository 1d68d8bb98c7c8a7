/** The bodies the benchmarks send and answer: the API's example exchange, and a large Rels graph. */
// Imported, not read from disk: the children are bundled (lib/compile.ts) and run from elsewhere.
import example from '../fixtures/send-support.response.json' with { type: 'json' }

/** The example answer of `send/support` (about 1.9 KB of JSON), as the upstream sends it. */
export function sendSupportResponse(): { headers: [string, string][]; json: string } {
  return { headers: example.headers.map(([name, value]) => [String(name), String(value)] as [string, string]), json: JSON.stringify(example.body) }
}

export const API_PATH = '/public/api/v1/chats/channel/send/support'
export const RELS_PATH = '/public/api/v1/chats/channel/history'
export const TOKEN = '973b38b354a508bf13244b2655077895c78f1e86.aaaa7e84433b0901c502a5f7d38c71ee'

/** The request body of the n-th message a client sends. */
export function sendSupportRequest(n: number): string {
  return JSON.stringify({ LocalId: 1518171256447 + n, Payload: 'text', Text: `message ${n}` })
}

/**
 * An envelope whose Rels hold `count` objects (Clients, Users, Files) that refer to each other, some in
 * cycles: what the viewer's envelope view must index and link.
 */
export function relsEnvelope(count: number): string {
  const third = Math.floor(count / 3)
  const clients = Array.from({ length: third }, (_, i) => ({
    Id: i + 1,
    Name: `client ${i + 1}`,
    UserId: ((i + 1) % third) + 1,
    AvatarId: `file-${(i % third) + 1}.png`,
    CreatedAt: 1498085866873 + i,
  }))
  const users = Array.from({ length: third }, (_, i) => ({ Id: i + 1, Name: `user ${i + 1}`, ClientId: ((i + 7) % third) + 1 }))
  const files = Array.from({ length: count - 2 * third }, (_, i) => ({
    Id: `file-${i + 1}.png`,
    OwnerClientId: (i % third) + 1,
    UserId: (i % third) + 1,
    Size: 1000 + i,
  }))
  const result = clients.slice(0, 50).map((c, i) => ({ Id: 10_000 + i, ClientId: c.Id, UserId: c.UserId, Text: `message ${i}` }))
  return JSON.stringify({ OK: true, Error: null, Result: result, Rels: { Clients: clients, Users: users, Files: files } })
}
