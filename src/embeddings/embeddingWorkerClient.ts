import { Worker } from 'node:worker_threads';

/**
 * Texts per message to a worker. Requests take turns slice by slice, so a search query waits
 * behind at most one slice of a bulk ingest per thread (4 short texts ~ 60 ms; 4 full long-text
 * windows ~ 1 s), not behind the whole batch. A message round trip costs well under 1 ms.
 */
export const WORKER_SLICE_SIZE = 4;

// A plain .mjs file so the worker needs no TypeScript loader under tsx, vitest or node.
const WORKER_SCRIPT = new URL('./localEmbedderWorker.mjs', import.meta.url);

type FromWorker =
  | { type: 'ready'; dimensions: number; threadId: number | null }
  | { type: 'result'; id: number; vectors: number[][] }
  | { type: 'failure'; id: number; message: string };

interface Request {
  texts: readonly string[];
  vectors: number[][];
  /** Texts handed to a worker so far, and texts whose vectors came back. */
  sent: number;
  done: number;
  settled: boolean;
  resolve: (vectors: number[][]) => void;
  reject: (error: Error) => void;
}

interface InFlightSlice {
  id: number;
  request: Request;
  offset: number;
}

/** One thread of the pool: started on first need, restarted on the next request if it dies. */
interface Slot {
  worker?: Worker;
  starting?: Promise<Worker>;
  inFlight?: InFlightSlice;
  threadId: number | null;
  /** Slices this thread has embedded (for tests and the bench). */
  slices: number;
}

/**
 * The main-thread side of the embedding threads: queues requests, feeds each idle thread one
 * slice at a time (round-robin across requests, so a short query is not stuck behind a bulk
 * batch), and restarts a thread on the next request if it dies. The first thread starts with the
 * client; the others only when every running thread is busy and work is waiting, so a process
 * that embeds little never loads the model more than once. Idle threads are unref'd so a
 * forgotten close() does not keep a process alive.
 */
export class EmbeddingWorkerClient {
  private readonly slots: Slot[];
  private readonly waiting: Request[] = [];
  private nextId = 1;
  private closed = false;
  /** As reported by the model inside the worker once it has loaded. */
  dimensions = 0;

  /** Resolves once the first thread has loaded the model, so load errors surface here. */
  static async start(threads = 1): Promise<EmbeddingWorkerClient> {
    const client = new EmbeddingWorkerClient(Math.max(1, Math.floor(threads)));
    const worker = await client.ensureWorker(client.slots[0]!);
    worker.unref();
    return client;
  }

  private constructor(threads: number) {
    this.slots = Array.from({ length: threads }, () => ({ threadId: null, slices: 0 }));
  }

  /** How many threads the pool may run. */
  get size(): number {
    return this.slots.length;
  }

  /** The first thread's OS thread id (Linux), whose priority it lowered; null elsewhere. */
  get threadId(): number | null {
    return this.slots[0]!.threadId;
  }

  /** Per started thread: its OS thread id and how many slices it has embedded. */
  threads(): { threadId: number | null; slices: number }[] {
    return this.slots.filter((s) => s.worker || s.slices > 0).map((s) => ({ threadId: s.threadId, slices: s.slices }));
  }

  embed(texts: readonly string[]): Promise<number[][]> {
    if (this.closed) return Promise.reject(new Error('the local embedder has been closed'));
    if (texts.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.waiting.push({ texts, vectors: new Array(texts.length), sent: 0, done: 0, settled: false, resolve, reject });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const error = new Error('the local embedder was closed before this request finished');
    for (const slot of this.slots) {
      if (slot.inFlight) this.fail(slot.inFlight.request, error);
      slot.inFlight = undefined;
    }
    for (const request of this.waiting.splice(0)) this.fail(request, error);
    const starting = this.slots.map((s) => s.starting);
    for (const slot of this.slots) {
      slot.worker = undefined;
      slot.starting = undefined;
    }
    await Promise.all(starting.map((s) => s?.then((worker) => worker.terminate()).catch(() => undefined)));
  }

  private ensureWorker(slot: Slot): Promise<Worker> {
    slot.starting ??= this.spawn(slot).catch((error: unknown) => {
      slot.starting = undefined;
      throw error;
    });
    return slot.starting;
  }

  private spawn(slot: Slot): Promise<Worker> {
    return new Promise((resolve, reject) => {
      // No inherited execArgv: the worker is plain JS and tsx's loader flags would only slow it.
      const worker = new Worker(WORKER_SCRIPT, { execArgv: [] });
      const onDeath = (reason: string) => {
        const error = new Error(`the local embedding worker stopped: ${reason}`);
        if (slot.worker !== worker) {
          reject(error); // died while loading the model (or after close, when nobody listens)
          return;
        }
        slot.worker = undefined;
        slot.starting = undefined;
        const lost = slot.inFlight;
        slot.inFlight = undefined;
        if (lost) this.fail(lost.request, error);
        this.dispatch();
      };
      worker.on('error', (error) => onDeath(error.message));
      worker.on('exit', (code) => onDeath(`exit code ${code}`));
      worker.on('message', (message: FromWorker) => {
        if (message.type === 'ready') {
          this.dimensions = message.dimensions;
          slot.threadId = message.threadId;
          slot.worker = worker;
          resolve(worker);
        } else {
          this.settleSlice(slot, message);
        }
      });
    });
  }

  /** Gives a slice to every idle thread while work is waiting; a thread that is not running yet starts. */
  private dispatch(): void {
    if (this.closed) return;
    for (const slot of this.slots) {
      if (slot.inFlight) continue;
      const request = this.waiting.shift();
      if (!request) break;
      const offset = request.sent;
      const texts = request.texts.slice(offset, offset + WORKER_SLICE_SIZE);
      request.sent += texts.length;
      if (request.sent < request.texts.length) this.waiting.push(request); // back of the line: requests take turns
      const slice: InFlightSlice = { id: this.nextId++, request, offset };
      slot.inFlight = slice;
      this.ensureWorker(slot).then(
        (worker) => {
          if (slot.inFlight !== slice) return; // failed or closed meanwhile
          worker.ref();
          worker.postMessage({ id: slice.id, texts });
        },
        (error: unknown) => {
          if (slot.inFlight === slice) slot.inFlight = undefined;
          this.fail(request, error instanceof Error ? error : new Error(String(error)));
          this.dispatch();
        },
      );
    }
    if (this.waiting.length === 0) for (const slot of this.slots) if (!slot.inFlight) slot.worker?.unref();
  }

  private settleSlice(slot: Slot, message: Exclude<FromWorker, { type: 'ready' }>): void {
    const slice = slot.inFlight;
    if (!slice || slice.id !== message.id) return;
    slot.inFlight = undefined;
    slot.slices++;
    const { request } = slice;
    if (message.type === 'failure') {
      this.fail(request, new Error(`local embedding failed: ${message.message}`));
    } else if (!request.settled) {
      message.vectors.forEach((v, i) => (request.vectors[slice.offset + i] = v));
      request.done += message.vectors.length;
      if (request.done === request.texts.length) {
        request.settled = true;
        request.resolve(request.vectors);
      }
    }
    this.dispatch();
  }

  /** Rejects a request once, and takes its remaining slices off the queue. */
  private fail(request: Request, error: Error): void {
    if (request.settled) return;
    request.settled = true;
    const i = this.waiting.indexOf(request);
    if (i >= 0) this.waiting.splice(i, 1);
    request.reject(error);
  }
}
