/** The entity index (model/entities.ts): entities, their appearances and versions, built an exchange at a time. */
import { describe, expect, it } from 'vitest'
import {
  apiMethod,
  EntityIndex,
  findInEntities,
  findText,
  jsonPath,
  parsePath,
  resultType,
  summarizeEntity,
  timelineVersions,
  valuesAt,
  type EntityConfig,
} from '../model/entities.js'
import type { Exchange } from '../model/session.js'
import { jsonResponse, makeExchange } from './helpers/exchange-factory.js'

function call(seq: number, method: string, answer: unknown, requestJson: unknown = {}): Exchange {
  const e = makeExchange(seq)
  return {
    ...e,
    request: { ...e.request, url: `https://api.example/public/api/v1/${method}`, body: { kind: 'json', json: requestJson, contentType: 'application/json', size: 2 } },
    response: jsonResponse(answer),
  }
}

const ivan = { Id: 11, Name: 'Ivan Petrov', TotalOpenTickets: 1 }
const user = { Id: 1, Name: 'Ilya', ClientId: 11 }
const ok = (Result: unknown, Rels: Record<string, unknown[]> = {}) => ({ OK: true, Error: null, Result, Rels })
const config: EntityConfig = { entities: { 'chats/history': 'Messages' } }

describe('which objects are entities', () => {
  it('knows a Result type from the method name or the config, and nothing else', () => {
    expect(apiMethod('https://h/public/api/v1/clients/get?x=1')).toBe('clients/get')
    expect(resultType('clients/get')).toBe('Clients')
    expect(resultType('files/upload')).toBe('Files')
    expect(resultType('chats/history')).toBeNull()
    expect(resultType('chats/channel/send/support')).toBeNull()
    expect(resultType('chats/history', config)).toBe('Messages')
    expect(resultType('clients/get', { entities: { 'clients/get': '' } })).toBeNull()
    // Only the table's own entries: a method named like an inherited property is not configured.
    expect(resultType('constructor', config)).toBeNull()
    expect(resultType('toString', config)).toBeNull()
  })

  it('takes Rels objects and typed Result items, and leaves a Result item of unknown type alone', () => {
    const index = new EntityIndex()
    index.add(call(1, 'chats/history', ok([{ Id: 252, ClientId: 11, Text: 'hi' }], { Clients: [ivan], Users: [user] })))
    index.add(call(2, 'clients/get', ok(ivan, { Users: [user] })))
    expect(index.entities().map((e) => e.key)).toEqual(['Clients#11', 'Users#1'])
    const client = index.get('Clients#11')!
    expect(client.carried).toEqual([
      { seq: 1, where: 'Rels.Clients[0]', version: 0 },
      { seq: 2, where: 'Result', version: 0 },
    ])
    // Referenced from an untyped Result item (no entity around it) and from the Rels user.
    expect(client.referenced).toEqual([
      { seq: 1, field: 'ClientId', where: 'Result[0].ClientId', resolved: true },
      { seq: 1, field: 'ClientId', where: 'Rels.Users[0].ClientId', from: 'Users#1', resolved: true },
      { seq: 2, field: 'ClientId', where: 'Rels.Users[0].ClientId', from: 'Users#1', resolved: false },
    ])
    expect(client.label).toBe('Client #11 · Ivan Petrov')
  })

  it('names the Result item a reference sits in when its type is configured', () => {
    const index = new EntityIndex(config)
    index.add(call(1, 'chats/history', ok([{ Id: 251 }, { Id: 252, ClientId: 11 }], { Clients: [ivan] })))
    expect(index.get('Messages#252')!.carried).toEqual([{ seq: 1, where: 'Result[1]', version: 0 }])
    expect(index.get('Clients#11')!.referenced).toEqual([{ seq: 1, field: 'ClientId', where: 'Result[1].ClientId', from: 'Messages#252', resolved: true }])
  })
})

describe('versions', () => {
  it('collapses consecutive identical versions and records which fields changed', () => {
    const index = new EntityIndex()
    index.add(call(1, 'chats/history', ok([], { Clients: [ivan] })))
    index.add(call(2, 'chats/history', ok([], { Clients: [{ TotalOpenTickets: 1, Name: 'Ivan Petrov', Id: 11 }] }))) // same values, other order
    index.add(call(3, 'chats/history', ok([], { Clients: [{ ...ivan, Name: 'Ivan Petrov-Vodkin', TotalOpenTickets: 0 }] })))
    index.add(call(4, 'chats/history', ok([], { Clients: [{ ...ivan, Name: 'Ivan Petrov-Vodkin', TotalOpenTickets: 0 }] })))
    const client = index.get('Clients#11')!
    expect(client.versions.map((v) => ({ firstSeq: v.firstSeq, lastSeq: v.lastSeq, appearances: v.appearances, changed: v.changed, at: v.at }))).toEqual([
      { firstSeq: 1, lastSeq: 2, appearances: 2, changed: [], at: { seq: 1, where: 'Rels.Clients[0]' } },
      { firstSeq: 3, lastSeq: 4, appearances: 2, changed: ['Name', 'TotalOpenTickets'], at: { seq: 3, where: 'Rels.Clients[0]' } },
    ])
    expect(client.carried.map((c) => c.version)).toEqual([0, 0, 1, 1])
    expect(client.label).toBe('Client #11 · Ivan Petrov-Vodkin')
    expect(summarizeEntity(client)).toMatchObject({ key: 'Clients#11', versions: 2, calls: 4, firstSeq: 1, lastSeq: 4 })
  })

  it('a field that appears or disappears is a change', () => {
    const index = new EntityIndex()
    index.add(call(1, 'x/y', ok(null, { Clients: [ivan] })))
    index.add(call(2, 'x/y', ok(null, { Clients: [{ Id: 11, Name: 'Ivan Petrov', Email: 'i@x' }] })))
    expect(index.get('Clients#11')!.versions[1]!.changed.sort()).toEqual(['Email', 'TotalOpenTickets'])
  })

  it('gives each version its values and each change as old → new, from the objects read back', () => {
    const index = new EntityIndex()
    const bodies = [ok([], { Clients: [ivan] }), ok([], { Clients: [{ ...ivan, Name: 'Ivan P.' }] })]
    bodies.forEach((b, i) => index.add(call(i + 1, 'x/y', b)))
    const client = index.get('Clients#11')!
    const objects = client.versions.map((v) => valuesAt(bodies[v.at.seq - 1], v.at.where) as Record<string, unknown>)
    const timeline = timelineVersions(client, objects)
    expect(timeline[1]!.changes).toEqual([{ field: 'Name', old: 'Ivan Petrov', new: 'Ivan P.' }])
    expect(timeline[0]!.values).toEqual(ivan)
  })
})

describe('built incrementally', () => {
  const exchanges = Array.from({ length: 30 }, (_, i) =>
    call(i + 1, 'chats/history', ok([{ Id: 300 + i, ClientId: 11 + (i % 3) }], { Clients: [{ Id: 11 + (i % 3), Name: `v${Math.floor(i / 10)}` }] })),
  )

  it('adding exchanges in two runs, through JSON, gives what one run gives', () => {
    const whole = new EntityIndex(config)
    for (const e of exchanges) whole.add(e)
    const first = new EntityIndex(config)
    for (const e of exchanges.slice(0, 12)) first.add(e)
    const again = EntityIndex.fromJSON(JSON.parse(JSON.stringify(first.toJSON())), config)
    for (const e of exchanges.slice(12)) again.add(e)
    expect(again.toJSON()).toEqual(JSON.parse(JSON.stringify(whole.toJSON())))
    expect(whole.get('Clients#11')!.versions).toHaveLength(3)
  })

  it('refuses an exchange out of seq order', () => {
    const index = new EntityIndex()
    index.add(exchanges[4]!)
    expect(() => index.add(exchanges[2]!)).toThrow(RangeError)
  })

  it('skips answers that are not envelopes', () => {
    const index = new EntityIndex()
    index.add({ ...makeExchange(1), response: jsonResponse([1, 2, 3]) })
    index.add({ ...makeExchange(2), response: null })
    expect(index.size).toBe(0)
    expect(index.exchanges).toBe(2)
  })
})

describe('finding', () => {
  const index = new EntityIndex()
  index.add(call(1, 'x/y', ok(null, { Clients: [ivan, { Id: 110, Name: 'Other' }], Users: [{ Id: 11, Name: 'Same id', ClientId: 110 }] })))
  index.add(call(2, 'x/y', ok({ ClientId: 11 }, { Clients: [ivan] })))

  it('a Type#Id query is exact', () => {
    expect(findInEntities(index, 'Clients#11')).toEqual([
      { seq: 1, where: 'Rels.Clients[0]', entity: 'Clients#11' },
      { seq: 2, where: 'Rels.Clients[0]', entity: 'Clients#11' },
      { seq: 2, where: 'Result.ClientId' },
    ])
    expect(findInEntities(index, 'Clients#1')).toEqual([])
  })

  it('an Id query finds every type with that Id', () => {
    expect(findInEntities(index, '11').map((m) => m.entity)).toEqual(['Clients#11', 'Users#11', 'Clients#11', undefined])
  })

  it('finds text inside request and response bodies by JSON path', () => {
    const e = call(3, 'x/y', ok(null, { Clients: [{ Id: 5, Name: 'Ivan the Terrible' }] }), { Text: 'about IVAN' })
    expect(findText(e, 'ivan')).toEqual([
      { seq: 3, where: 'request.body.Text' },
      { seq: 3, where: 'Rels.Clients[0].Name', entity: 'Clients#5' },
    ])
  })

  it('writes and reads JSON paths', () => {
    const keys = ['Rels', 'Odd type', 0, 'Name']
    expect(jsonPath(keys)).toBe('Rels["Odd type"][0].Name')
    expect(parsePath(jsonPath(keys))).toEqual(keys)
    expect(parsePath('Result[2].ClientId')).toEqual(['Result', 2, 'ClientId'])
  })
})
