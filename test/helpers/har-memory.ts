/**
 * A HAR imported into memory through the import's own code (`importHarInto` with a sink that keeps what it is
 * given): what the tests compare an on-disk import with. The product reads a HAR through an on-disk import only
 * (`reltape import`, and the private copies of replay and the viewer: store/har-view.ts).
 */
import { SESSION_FORMAT, type Exchange, type Identity, type Recording, type Session } from '../../model/session.js'
import { importHarInto, sessionNameFor, type ExchangeSink, type HarImportCounts, type HarImportOptions } from '../../store/har-import.js'
import { openHarSource } from '../../store/har-source.js'
import { IdentityBook } from '../../store/identity-book.js'

export async function importHarToMemory(file: string, options: HarImportOptions = {}): Promise<{ session: Session; counts: HarImportCounts }> {
  const source = await openHarSource(file, options.stdin)
  try {
    const identities: Identity[] = []
    const exchanges: Exchange[] = []
    let recording: Recording = { tool: 'unknown HAR creator', mode: 'import', upstream: null }
    let next = 1
    const book = new IdentityBook()
    const sink: ExchangeSink = {
      nextSeq: () => next++,
      identityFor(token, label = null) {
        const { identity, added } = book.of(token, label)
        if (added) identities.push(identity)
        return identity
      },
      append(exchange) {
        exchanges.push(exchange)
        if (exchange.seq >= next) next = exchange.seq + 1
      },
    }
    const counts = await importHarInto(
      source,
      async (r) => {
        recording = r
        return sink
      },
      options,
    )
    const session: Session = {
      format: SESSION_FORMAT,
      name: sessionNameFor(source.stem || 'stdin'),
      createdAt: new Date().toISOString(),
      recording,
      identities,
      exchanges,
    }
    return { session, counts }
  } finally {
    await source.close()
  }
}
