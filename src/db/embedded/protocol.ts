/** Messages between the process and its embedded-engine thread. */
export interface EngineThreadData {
  /** PGlite's data folder, or `memory://…`. */
  dataDir: string;
  /** A Unix socket to serve on; loopback TCP on a free port when absent. */
  socketPath?: string;
  /** `name=value` settings for the one session every connection shares. */
  settings: string[];
}

export type ToEngineThread = { type: 'close' };

export type FromEngineThread =
  | { type: 'ready'; address: string }
  | { type: 'failed'; message: string }
  | { type: 'closed' };
