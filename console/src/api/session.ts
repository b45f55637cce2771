/**
 * The signed-in key and chosen project live in this tab's sessionStorage only: never in a URL,
 * a cookie or localStorage, and gone when the tab closes.
 */
const KEY = 'reflect-console.key';
const PROJECT = 'reflect-console.project';

type Listener = (reason: string | null) => void;
const listeners = new Set<Listener>();

export const session = {
  key: (): string | null => sessionStorage.getItem(KEY),
  project: (): string | null => sessionStorage.getItem(PROJECT),
  signIn(key: string, project: string | null): void {
    sessionStorage.setItem(KEY, key);
    if (project) sessionStorage.setItem(PROJECT, project);
    else sessionStorage.removeItem(PROJECT);
    listeners.forEach((l) => l(null));
  },
  setProject(project: string): void {
    sessionStorage.setItem(PROJECT, project);
    listeners.forEach((l) => l(null));
  },
  /** Forgets the key; `reason` is shown on the sign-in page (e.g. the key was revoked). */
  signOut(reason: string | null = null): void {
    if (!sessionStorage.getItem(KEY)) return;
    sessionStorage.removeItem(KEY);
    sessionStorage.removeItem(PROJECT);
    listeners.forEach((l) => l(reason));
  },
  subscribe(listener: Listener): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};

/** What lists show of a key: `rf_live_<key id>`, never the secret. */
export function keyPrefix(key: string): string {
  return key.split('_').slice(0, 3).join('_');
}
