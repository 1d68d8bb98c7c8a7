import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { asEnvelope, resultCount, type Envelope } from '../model/envelope.js'
import { isReferenceField, pluralize, RelsIndex, singularize } from '../model/rels.js'
import { parseSession, type Exchange } from '../model/session.js'

const session = parseSession(JSON.parse(readFileSync(new URL('./fixtures/viewer/sessions/example.json', import.meta.url), 'utf8')))
const config = { rels: { AvatarId: 'Files' } }

function envelopeOf(e: Exchange | undefined): Envelope {
  const body = e?.response?.body
  const env = body?.kind === 'json' ? asEnvelope(body.json) : null
  if (!env) throw new Error('fixture exchange has no envelope')
  return env
}
const example = envelopeOf(session.exchanges[0]) // API.md's send/support answer
const history = envelopeOf(session.exchanges[1]) // cycle, avatar, dangling ids

describe('asEnvelope', () => {
  it('recognises the API.md example and keeps Rels by type in order', () => {
    expect(example.OK).toBe(true)
    expect(Object.keys(example.Rels)).toEqual(['Clients', 'Files', 'Users'])
    expect(resultCount(example.Result)).toBe(3)
  })

  it('tolerates missing Error/Result/Rels and ignores Rels entries that are not arrays or lack an Id', () => {
    expect(asEnvelope({ OK: false })).toEqual({ OK: false, Error: null, Result: null, Rels: {} })
    const env = asEnvelope({ OK: true, Rels: { Clients: [{ Id: 1 }, { Name: 'no id' }, null], Bad: 'x', Also: { Id: 2 } } })
    expect(env?.Rels).toEqual({ Clients: [{ Id: 1 }] })
  })

  it('takes a recorded type named __proto__ or constructor as a type, and gives the envelope no other prototype', () => {
    const env = asEnvelope(JSON.parse('{"OK":true,"Rels":{"__proto__":[{"Id":1}],"constructor":[{"Id":2}]}}'))!
    expect(Object.keys(env.Rels)).toEqual(['__proto__', 'constructor'])
    expect(Object.getPrototypeOf(env.Rels)).toBe(Object.prototype)
    const index = RelsIndex.build(env)
    expect(index.get('__proto__', 1)).toEqual({ Id: 1 })
    expect(index.objects('constructor')).toEqual([{ Id: 2 }])
  })

  it('returns null for anything that is not an envelope', () => {
    for (const v of [null, 'text', 42, [], [{ OK: true }], { ok: true }, { OK: 'true' }, { status: 'up' }]) expect(asEnvelope(v)).toBeNull()
  })
})

describe('naming rule', () => {
  it('knows reference fields from outside-system ids', () => {
    for (const f of ['ClientId', 'OwnerClientId', 'UserId', 'ClientIds', 'ChatId', 'IntegrationId', 'AvatarId']) expect(isReferenceField(f), f).toBe(true)
    for (const f of ['Id', 'Ids', 'TelegramId', 'FacebookId', 'VKId', 'LocalId', 'Paid', 'Name', 'Identity']) expect(isReferenceField(f), f).toBe(false)
  })

  it('pluralizes and singularizes type names, irregular ones included', () => {
    const pairs: [string, string][] = [['Client', 'Clients'], ['Company', 'Companies'], ['Person', 'People'], ['Status', 'Statuses'],
      ['Box', 'Boxes'], ['Key', 'Keys'], ['Case', 'Cases'], ['Response', 'Responses'], ['Address', 'Addresses'], ['Bus', 'Buses'], ['TicketMessage', 'TicketMessages'], ['SalesPerson', 'SalesPeople'], ['Child', 'Children']]
    for (const [one, many] of pairs) {
      expect(pluralize(one)).toBe(many)
      expect(singularize(many)).toBe(one)
    }
  })
})

describe('RelsIndex on the API.md example', () => {
  const index = RelsIndex.build(example, config)

  it('resolves ClientId 11 in Result to the client', () => {
    const r = index.resolve('ClientId', 11)
    expect(r?.type).toBe('Clients')
    expect(r?.object).toBe(example.Rels.Clients?.[0])
    expect(index.get('Clients', '11')).toBe(example.Rels.Clients?.[0]) // "11" and 11 match
  })

  it('resolves OwnerClientId by its last word and UserId to Users', () => {
    expect(index.targetType('OwnerClientId')).toBe('Clients')
    expect(index.resolve('OwnerClientId', 11)?.id).toBe(11)
    expect(index.resolve('UserId', 1)?.type).toBe('Users')
  })

  it('separates non-references, null values and dangling ids', () => {
    expect(index.resolve('TelegramId', 11)).toBeUndefined()
    expect(index.resolve('Text', 11)).toBeUndefined()
    expect(index.resolve('UserId', null)).toBeNull()
    expect(index.resolve('UserId', '')).toBeNull()
    expect(index.resolve('UserId', 4)).toBeNull() // message 254's operator is not in Rels
    expect(index.resolve('ChatId', 10)).toBeNull()
  })

  it('does not guess numeric ids across types: ProjectId 1 is not User #1', () => {
    expect(index.resolve('ProjectId', 1)).toBeNull()
    expect(index.resolve('RoleId', 1)).toBeNull()
  })

  it('lists who refers to each object', () => {
    const toClient = index.backReferences('Clients', 11).map((r) => `${r.site.where}:${r.site.path.join('.')}:${r.field}`)
    expect(toClient).toEqual(['result:0.ClientId:ClientId', 'rels:OwnerClientId:OwnerClientId'])
    expect(index.backReferences('Clients', 11)[1]?.site).toMatchObject({ type: 'Files', id: '1705a928-0d7a-11e8-b187-13b6ccbb5d10.txt' })
    expect(index.backReferences('Users', 1).map((r) => r.site.type)).toEqual(['Files'])
  })

  it('reports dangling references with the type they expected, and never counts null as a reference', () => {
    const dangling = index.dangling().map((r) => `${r.field}=${r.id}→${r.expectedType}`)
    expect(dangling).toContain('UserId=4→Users')
    expect(dangling).toContain('ChatId=10→Chats')
    expect(dangling).toContain('AvatarId=e83220a3-56cb-11e7-b21f-6109cf735b0f.png→Files') // the example's Rels lacks the avatar
    expect(dangling).not.toContain('TelegramId=null→null')
    expect(index.references.every((r) => r.id !== null)).toBe(true)
    expect(index.references.some((r) => r.field === 'LocalId' || r.field === 'TelegramId')).toBe(false)
  })

  it('finds Rels objects nothing refers to', () => {
    expect(index.unreferenced()).toEqual([{ type: 'Files', id: '1705a928-0d7a-11e8-b187-13b6ccbb5d10.txt' }])
  })

  it('labels objects for chips, skipping blank names', () => {
    const client = example.Rels.Clients?.[0]
    expect(client && index.label('Clients', client)).toBe('Client #11')
    expect(index.label('Users', { Id: 4, DisplayName: 'Anna' })).toBe('User #4 · Anna')
  })
})

describe('RelsIndex on a history with an avatar, a cycle and dangling ids', () => {
  const index = RelsIndex.build(history, config)
  const avatar = 'e83220a3-56cb-11e7-b21f-6109cf735b0f.png'

  it('resolves AvatarId through the override table', () => {
    expect(index.targetType('AvatarId')).toBe('Files')
    expect(index.resolve('AvatarId', avatar)?.object.Name).toBe('avatar.png')
  })

  it('without the override, the naming rule says Avatars and a unique string Id still finds the file', () => {
    const plain = RelsIndex.build(history)
    expect(plain.targetType('AvatarId')).toBe('Avatars')
    expect(plain.resolve('AvatarId', avatar)?.type).toBe('Files')
    expect(plain.resolve('AvatarId', 'nowhere.png')).toBeNull()
  })

  it('an override to an empty string marks a field as not a reference', () => {
    expect(RelsIndex.build(history, { rels: { ManagerUserId: '' } }).resolve('ManagerUserId', 1)).toBeUndefined()
  })

  it('follows a cycle in both directions: Client 11 → User 1 → Client 11', () => {
    expect(index.resolve('ManagerUserId', 1)?.type).toBe('Users')
    expect(index.resolve('LastClientId', 11)?.type).toBe('Clients')
    const toUser = index.backReferences('Users', 1).map((r) => `${r.site.type ?? 'result'}.${r.field}`)
    expect(toUser).toEqual(['result.UserId', 'Clients.ManagerUserId'])
    const toClient = index.backReferences('Clients', 11).map((r) => `${r.site.type ?? 'result'}.${r.site.path.join('.')}`)
    expect(toClient).toEqual(['result.ClientIds.0', 'result.Messages.0.ClientId', 'Users.LastClientId', 'Files.OwnerClientId'])
  })

  it('resolves each item of an XIds array and flags the missing one', () => {
    expect(index.targetType('ClientIds')).toBe('Clients')
    const ids = index.references.filter((r) => r.field === 'ClientIds')
    expect(ids.map((r) => [r.id, r.target?.type ?? null])).toEqual([[11, 'Clients'], [99, null]])
    expect(ids[1]?.site.path).toEqual(['ClientIds', 1])
  })

  it('finds the orphan file and nothing else unreferenced', () => {
    expect(index.unreferenced()).toEqual([{ type: 'Files', id: 'f0000000-0000-0000-0000-000000000000.pdf' }])
  })

  it('a self-reference is a back-reference but does not make the object referenced', () => {
    const env = asEnvelope({ OK: true, Result: null, Rels: { Users: [{ Id: 5, ParentUserId: 5 }] } })
    const self = RelsIndex.build(env as Envelope)
    expect(self.backReferences('Users', 5)).toHaveLength(1)
    expect(self.unreferenced()).toEqual([{ type: 'Users', id: 5 }])
  })

  it('walks a deeply nested Result without overflowing the stack', () => {
    let deep: unknown = { ClientId: 11 }
    for (let i = 0; i < 20_000; i++) deep = { Child: deep }
    const idx = RelsIndex.build({ OK: true, Error: null, Result: deep, Rels: history.Rels })
    const refs = idx.backReferences('Clients', 11)
    expect(refs).toHaveLength(3)
    expect(refs[0]?.site.path).toHaveLength(20_001)
  })
})
