import { Worker } from 'node:worker_threads';

/**
 * Texts per message to the worker. Requests take turns slice by slice, so a search query waits
 * behind at most one slice of a bulk ingest (4 short texts ~ 60 ms; 4 full long-text windows
 * ~ 1 s), not behind the whole batch. A message round trip costs well under 1 ms.
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
  resolve: (vectors: number[][]) => void;
  reject: (error: Error) => void;
}

interface InFlightSlice {
  id: number;
  request: Request;
}

/**
 * The main-thread side of the embedding worker: queues requests with ids, feeds the worker one
 * slice at a time (round-robin across requests), and restarts the worker on the next request if
 * it dies. The worker is unref'd while idle so a forgotten close() does not keep a process alive.
 */
export class EmbeddingWorkerClient {
  private worker: Worker | undefined;
  private starting: Promise<Worker> | undefined;
  private readonly waiting: Request[] = [];
  private inFlight: InFlightSlice | undefined;
  private nextId = 1;
  private closed = false;
  /** As reported by the model inside the worker once it has loaded. */
  dimensions = 0;
  /** The worker's OS thread id (Linux), whose priority it lowered; null elsewhere. */
  threadId: number | null = null;

  /** Resolves once the worker has loaded the model, so load errors surface here. */
  static async start(): Promise<EmbeddingWorkerClient> {
    const client = new EmbeddingWorkerClient();
    const worker = await client.ensureWorker();
    worker.unref();
    return client;
  }

  private constructor() {}

  embed(texts: readonly string[]): Promise<number[][]> {
    if (this.closed) return Promise.reject(new Error('the local embedder has been closed'));
    if (texts.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.waiting.push({ texts, vectors: [], resolve, reject });
      this.sendNextSlice();
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.failEverything(new Error('the local embedder was closed before this request finished'));
    const starting = this.starting;
    this.worker = undefined;
    this.starting = undefined;
    await starting?.then((worker) => worker.terminate()).catch(() => undefined);
  }

  private ensureWorker(): Promise<Worker> {
    this.starting ??= this.spawn().catch((error: unknown) => {
      this.starting = undefined;
      throw error;
    });
    return this.starting;
  }

  private spawn(): Promise<Worker> {
    return new Promise((resolve, reject) => {
      // No inherited execArgv: the worker is plain JS and tsx's loader flags would only slow it.
      const worker = new Worker(WORKER_SCRIPT, { execArgv: [] });
      const onDeath = (reason: string) => {
        const error = new Error(`the local embedding worker stopped: ${reason}`);
        if (this.worker !== worker) {
          reject(error); // died while loading the model (or after close, when nobody listens)
          return;
        }
        this.worker = undefined;
        this.starting = undefined;
        this.failEverything(error);
      };
      worker.on('error', (error) => onDeath(error.message));
      worker.on('exit', (code) => onDeath(`exit code ${code}`));
      worker.on('message', (message: FromWorker) => {
        if (message.type === 'ready') {
          this.dimensions = message.dimensions;
          this.threadId = message.threadId;
          this.worker = worker;
          resolve(worker);
        } else {
          this.settleSlice(message);
        }
      });
    });
  }

  private sendNextSlice(): void {
    if (this.inFlight || this.closed) return;
    const request = this.waiting.shift();
    if (!request) {
      this.worker?.unref();
      return;
    }
    const slice: InFlightSlice = { id: this.nextId++, request };
    this.inFlight = slice;
    const done = request.vectors.length;
    const texts = request.texts.slice(done, done + WORKER_SLICE_SIZE);
    this.ensureWorker().then(
      (worker) => {
        if (this.inFlight !== slice) return; // failed or closed meanwhile
        worker.ref();
        worker.postMessage({ id: slice.id, texts });
      },
      (error: unknown) => this.failEverything(error instanceof Error ? error : new Error(String(error))),
    );
  }

  private settleSlice(message: Exclude<FromWorker, { type: 'ready' }>): void {
    const slice = this.inFlight;
    if (!slice || slice.id !== message.id) return;
    this.inFlight = undefined;
    const { request } = slice;
    if (message.type === 'failure') {
      request.reject(new Error(`local embedding failed: ${message.message}`));
    } else {
      request.vectors.push(...message.vectors);
      if (request.vectors.length === request.texts.length) request.resolve(request.vectors);
      else this.waiting.push(request); // back of the line: requests take turns
    }
    this.sendNextSlice();
  }

  private failEverything(error: Error): void {
    const pending = this.inFlight ? [this.inFlight.request, ...this.waiting] : [...this.waiting];
    this.inFlight = undefined;
    this.waiting.length = 0;
    for (const request of pending) request.reject(error);
  }
}
