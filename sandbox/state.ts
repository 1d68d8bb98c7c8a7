/**
 * The sandbox's in-memory world: one support chat between a customer (Client 11) and an operator (User 4),
 * the clients, users and files around it, and what was sent and uploaded since it started.
 * Ids come from counters, so two sandboxes started the same way hand out the same ids.
 */
import { makeAvatarPng } from './png.js'
import type { SandboxRole } from './tokens.js'

export type Message = {
  Id: number
  ChatId: number
  LocalId: number | null
  EventId: number
  TicketMessageId: number | null
  Author: 'client' | 'user' | 'system'
  ClientId: number | null
  UserId: number | null
  Payload: string
  Text: string
  Received: boolean
  Read: boolean
  Pushed: boolean
  CreatedAt: number
  ReceivedAt: number | null
  ReadAt: number | null
}

/** A message as one caller sees it: `My` says whether that caller wrote it. */
export type MessageView = Message & { My: boolean }

export type ClientRecord = Record<string, unknown> & { Id: number }
export type UserRecord = Record<string, unknown> & { Id: number; AvatarId: string | null }
export type FileRecord = {
  Id: string
  Type: 'file' | 'image'
  Owner: 'client' | 'user'
  OwnerClientId: number | null
  ClientId: number | null
  UserId: number | null
  Name: string
  Path: string
  Size: number
  ImageWidth: number | null
  ImageHeight: number | null
  ContentType: string
  CreatedAt: number
}
export type StoredFile = { record: FileRecord; bytes: Buffer }

export const CHAT_ID = 10
export const CUSTOMER_CLIENT_ID = 11
export const OPERATOR_USER_ID = 4
export const AVATAR_FILE_ID = 'e83220a3-56cb-11e7-b21f-6109cf735b0f.png'
export const TEXT_FILE_ID = '1705a928-0d7a-11e8-b187-13b6ccbb5d10.txt'

const SEEDED_AT = 1_498_085_866_873

const TEXT_FILE = Buffer.from(
  Array.from({ length: 40 }, (_, i) => `line ${String(i + 1).padStart(2, '0')}: oci8 segfault trace — сбой при подключении\n`).join(''),
  'utf8',
)

/**
 * What the sandbox's drift switch changes, and nothing else: the customer was renamed and their open ticket is now
 * closed. Tokens, ids and every other answer stay as they were, so a session recorded before drifts exactly there.
 */
export const SANDBOX_DRIFT = Object.freeze({
  clientId: CUSTOMER_CLIENT_ID,
  before: Object.freeze({ Name: 'Ivan Petrov', TotalOpenTickets: 1 }),
  after: Object.freeze({ Name: 'Ivan Petrov-Vodkin', TotalOpenTickets: 0 }),
})

export type SandboxStateOptions = {
  /** Start with the data changed as SANDBOX_DRIFT says. @default false */
  drift?: boolean
}

export class SandboxState {
  readonly clients = new Map<number, ClientRecord>()
  readonly users = new Map<number, UserRecord>()
  readonly files = new Map<string, StoredFile>()
  readonly messages: Message[] = []
  private nextMessageId = 252
  private nextEventId = 1649
  private nextFileNumber = 1
  private noticeSent = false

  constructor(options: SandboxStateOptions = {}) {
    // The customer's manager is User 1, whose ClientId points back at the customer: a cycle for the viewer to show.
    this.clients.set(CUSTOMER_CLIENT_ID, {
      Id: CUSTOMER_CLIENT_ID, ProjectId: 1, CompanyId: 2, Type: 'crm', Name: 'Ivan Petrov', Online: true,
      CustomerId: 5, ChannelId: null, ManagerUserId: 1, TelegramId: null, FacebookId: null, VKId: null,
      TotalTickets: 2, TotalOpenTickets: 1, CreatedAt: SEEDED_AT, UpdatedAt: SEEDED_AT, SeenAt: SEEDED_AT, MessagedAt: null,
      IntegrationId: '10',
    })
    this.clients.set(12, {
      Id: 12, ProjectId: 1, CompanyId: 2, Type: 'widget', Name: 'Anna Smirnova', Online: false,
      CustomerId: 6, ChannelId: 3, ManagerUserId: OPERATOR_USER_ID, TelegramId: '184467', FacebookId: null, VKId: null,
      TotalTickets: 0, TotalOpenTickets: 0, CreatedAt: SEEDED_AT + 1000, UpdatedAt: SEEDED_AT + 1000, SeenAt: null, MessagedAt: null,
      IntegrationId: null,
    })
    this.users.set(1, {
      Id: 1, Name: 'Ilya Korobkov', Email: 'manager@sandbox.invalid', Position: 'Account manager', RoleId: 1,
      AvatarId: AVATAR_FILE_ID, ClientId: CUSTOMER_CLIENT_ID, Online: true, Deleted: false, TotalAssignedTickets: 1,
      CreatedAt: 1_491_321_126_034, UpdatedAt: SEEDED_AT, LastSeenAt: SEEDED_AT, AssignedAt: SEEDED_AT, DisplayName: 'Ilya',
    })
    this.users.set(OPERATOR_USER_ID, {
      Id: OPERATOR_USER_ID, Name: 'Olga Support', Email: 'operator@sandbox.invalid', Position: 'Support', RoleId: 2,
      AvatarId: AVATAR_FILE_ID, ClientId: null, Online: true, Deleted: false, TotalAssignedTickets: 3,
      CreatedAt: 1_491_321_126_034, UpdatedAt: SEEDED_AT, LastSeenAt: SEEDED_AT, AssignedAt: SEEDED_AT, DisplayName: 'Olga',
    })
    const png = makeAvatarPng(32)
    this.files.set(AVATAR_FILE_ID, {
      bytes: png,
      record: {
        Id: AVATAR_FILE_ID, Type: 'image', Owner: 'user', OwnerClientId: CUSTOMER_CLIENT_ID, ClientId: null, UserId: 1,
        Name: 'avatar.png', Path: `users/1/${AVATAR_FILE_ID}`, Size: png.length, ImageWidth: 32, ImageHeight: 32,
        ContentType: 'image/png', CreatedAt: 1_491_321_126_034,
      },
    })
    this.files.set(TEXT_FILE_ID, {
      bytes: TEXT_FILE,
      record: {
        Id: TEXT_FILE_ID, Type: 'file', Owner: 'client', OwnerClientId: CUSTOMER_CLIENT_ID, ClientId: null, UserId: 1,
        Name: 'oci8-sigsegv.txt', Path: `clients/11/11/${TEXT_FILE_ID}`, Size: TEXT_FILE.length, ImageWidth: null, ImageHeight: null,
        ContentType: 'text/plain; charset=utf-8', CreatedAt: 1_518_167_865_822,
      },
    })
    if (options.drift) Object.assign(this.clients.get(SANDBOX_DRIFT.clientId)!, SANDBOX_DRIFT.after)
  }

  /** Adds a message from the caller; the customer's first message also opens a ticket (a system notice). */
  send(role: SandboxRole, body: { LocalId: number | null; Payload: string; Text: string }): Message[] {
    const now = Date.now()
    const customer = role === 'customer'
    const created: Message[] = [
      this.push({
        LocalId: body.LocalId, Author: customer ? 'client' : 'user', ClientId: customer ? CUSTOMER_CLIENT_ID : null,
        UserId: customer ? null : OPERATOR_USER_ID, Payload: body.Payload, Text: body.Text,
        Received: true, Read: false, CreatedAt: now, ReceivedAt: now, ReadAt: null,
      }),
    ]
    if (customer && !this.noticeSent) {
      this.noticeSent = true
      created.push(this.push({
        LocalId: now, Author: 'system', ClientId: null, UserId: null, Payload: 'notice', Text: 'ticket opened',
        Received: false, Read: false, CreatedAt: now, ReceivedAt: null, ReadAt: null,
      }))
    }
    return created
  }

  private push(m: Omit<Message, 'Id' | 'ChatId' | 'EventId' | 'TicketMessageId' | 'Pushed'>): Message {
    const message: Message = { Id: this.nextMessageId++, ChatId: CHAT_ID, EventId: this.nextEventId++, TicketMessageId: null, Pushed: false, ...m }
    // Keep the field order of the real API's messages.
    const ordered: Message = {
      Id: message.Id, ChatId: message.ChatId, LocalId: message.LocalId, EventId: message.EventId, TicketMessageId: message.TicketMessageId,
      Author: message.Author, ClientId: message.ClientId, UserId: message.UserId, Payload: message.Payload, Text: message.Text,
      Received: message.Received, Read: message.Read, Pushed: message.Pushed, CreatedAt: message.CreatedAt,
      ReceivedAt: message.ReceivedAt, ReadAt: message.ReadAt,
    }
    this.messages.push(ordered)
    return ordered
  }

  /** Keeps an uploaded file under a new deterministic id (`<uuid>.<ext>`). */
  addFile(role: SandboxRole, name: string, contentType: string, bytes: Buffer): FileRecord {
    const n = this.nextFileNumber++
    const ext = /\.([A-Za-z0-9]{1,8})$/.exec(name)?.[1]?.toLowerCase() ?? 'bin'
    const id = `${(0x5a000000 + n).toString(16)}-0d7a-11e8-b187-13b6ccbb5d10.${ext}`
    const customer = role === 'customer'
    const image = contentType.startsWith('image/')
    const record: FileRecord = {
      Id: id, Type: image ? 'image' : 'file', Owner: customer ? 'client' : 'user', OwnerClientId: CUSTOMER_CLIENT_ID,
      ClientId: customer ? CUSTOMER_CLIENT_ID : null, UserId: customer ? null : OPERATOR_USER_ID, Name: name,
      Path: `clients/${CUSTOMER_CLIENT_ID}/${CHAT_ID}/${id}`, Size: bytes.length, ImageWidth: null, ImageHeight: null,
      ContentType: contentType, CreatedAt: Date.now(),
    }
    this.files.set(id, { record, bytes })
    return record
  }

  /** Messages as seen by one caller. */
  view(role: SandboxRole, messages: readonly Message[]): MessageView[] {
    return messages.map((m) => ({ ...m, My: role === 'customer' ? m.Author === 'client' : m.Author === 'user' }))
  }
}
