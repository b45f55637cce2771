import type { PGlite } from '@electric-sql/pglite';
import type { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/**
 * pglite-socket 0.2.17 runs the messages of all its connections through one queue, one
 * message at a time, and keeps a connection's turn only while a transaction is open. An
 * extended-protocol query (Parse, Bind, Describe, Execute, Sync) is several messages, and the
 * unnamed statement and portal belong to PGlite's single session: two connections querying at
 * once interleave and one gets the other's rows, or none (electric-sql/pglite#1046). It also
 * stops serving for good after one failed message (its `processing` flag stays set).
 *
 * This queue keeps a connection's turn from its first message to the end of its batch (Sync or
 * a simple Query) and for as long as it holds a transaction, and survives a failed message.
 * Same duck-typed interface as the library's own manager, which it replaces.
 */
interface Pending {
  handlerId: number;
  message: Uint8Array;
  onData: (data: Uint8Array) => void;
  resolve: (bytes: number) => void;
  reject: (error: Error) => void;
}

/** Frontend messages after which the session is free again (outside a transaction). */
const ENDS_TURN = new Set(['S', 'Q', 'X'].map((c) => c.charCodeAt(0)));

export class SessionQueue {
  private queue: Pending[] = [];
  private processing = false;
  /** The connection whose batch or transaction is in progress; only it may run. */
  private owner: number | null = null;

  constructor(private readonly db: PGlite) {}

  enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    return new Promise((resolve, reject) => {
      this.queue.push({ handlerId, message, onData, resolve, reject });
      void this.process();
    });
  }

  private async process(): Promise<void> {
    if (this.processing) return;
    this.processing = true;
    try {
      for (;;) {
        const index = this.owner === null ? 0 : this.queue.findIndex((q) => q.handlerId === this.owner);
        if (index < 0 || this.queue.length === 0) return;
        const [next] = this.queue.splice(index, 1);
        await this.run(next!);
      }
    } finally {
      this.processing = false;
    }
  }

  private async run(item: Pending): Promise<void> {
    let bytes = 0;
    try {
      await this.db.runExclusive(() =>
        this.db.execProtocolRawStream(item.message, {
          onRawData: (data) => {
            bytes += data.length;
            item.onData(data);
          },
        }),
      );
      item.resolve(bytes);
    } catch (error) {
      item.reject(error as Error);
    }
    const type = item.message[0];
    // A startup message starts with its length (first byte 0): a complete exchange of its own.
    const endsTurn = type === 0 || (type !== undefined && ENDS_TURN.has(type));
    this.owner = endsTurn && !this.db.isInTransaction() ? null : item.handlerId;
  }

  getQueueLength(): number {
    return this.queue.length;
  }

  clearQueueForHandler(handlerId: number): void {
    this.queue = this.queue.filter((q) => {
      if (q.handlerId !== handlerId) return true;
      q.reject(new Error('Handler disconnected'));
      return false;
    });
  }

  /** A connection that went away mid-batch or mid-transaction gives the session back. */
  async clearTransactionIfNeeded(handlerId: number): Promise<void> {
    if (this.owner !== handlerId) return;
    // Wait for a message of this connection that is still running.
    while (this.processing) await new Promise((r) => setImmediate(r));
    if (this.owner !== handlerId) return;
    if (this.db.isInTransaction()) await this.db.exec('ROLLBACK').catch(() => undefined);
    this.owner = null;
    void this.process();
  }
}

/** Swaps the server's query queue for a SessionQueue; call before `start()`. */
export function installSessionQueue(server: PGLiteSocketServer, db: PGlite): void {
  const target = server as unknown as { queryQueue: unknown };
  if (!('queryQueue' in target)) throw new Error('pglite-socket changed: no queryQueue to replace (check SessionQueue)');
  target.queryQueue = new SessionQueue(db);
}
