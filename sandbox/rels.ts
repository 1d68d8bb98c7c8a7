/**
 * Builds an envelope's `Rels`: every Client, User and File that the result refers to, followed transitively
 * (a client's manager, a user's avatar and client, a file's owner), each sent once.
 */
import type { ClientRecord, FileRecord, SandboxState, UserRecord } from './state.js'

export type Rels = { Clients: ClientRecord[]; Users: UserRecord[]; Files: FileRecord[] }
export type RelsSeed = { clientIds?: Iterable<number | null>; userIds?: Iterable<number | null>; fileIds?: Iterable<string | null> }

export function relsFor(state: SandboxState, seed: RelsSeed): Rels {
  const clients = new Set<number>()
  const users = new Set<number>()
  const files = new Set<string>()
  const queue: Array<['client', number] | ['user', number] | ['file', string]> = []
  for (const id of seed.clientIds ?? []) if (id !== null) queue.push(['client', id])
  for (const id of seed.userIds ?? []) if (id !== null) queue.push(['user', id])
  for (const id of seed.fileIds ?? []) if (id !== null) queue.push(['file', id])
  const num = (v: unknown) => (typeof v === 'number' ? v : null)
  while (queue.length > 0) {
    const item = queue.shift()!
    if (item[0] === 'client') {
      const c = state.clients.get(item[1])
      if (!c || clients.has(c.Id)) continue
      clients.add(c.Id)
      const manager = num(c.ManagerUserId)
      if (manager !== null) queue.push(['user', manager])
    } else if (item[0] === 'user') {
      const u = state.users.get(item[1])
      if (!u || users.has(u.Id)) continue
      users.add(u.Id)
      if (u.AvatarId) queue.push(['file', u.AvatarId])
      const client = num(u.ClientId)
      if (client !== null) queue.push(['client', client])
    } else {
      const f = state.files.get(item[1])
      if (!f || files.has(f.record.Id)) continue
      files.add(f.record.Id)
      if (f.record.OwnerClientId !== null) queue.push(['client', f.record.OwnerClientId])
      if (f.record.UserId !== null) queue.push(['user', f.record.UserId])
    }
  }
  return {
    Clients: [...clients].sort((a, b) => a - b).map((id) => state.clients.get(id)!),
    Users: [...users].sort((a, b) => a - b).map((id) => state.users.get(id)!),
    Files: [...files].sort().map((id) => state.files.get(id)!.record),
  }
}
