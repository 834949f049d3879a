/**
 * Where the console keeps the API token: in this tab's sessionStorage (gone when the tab
 * closes), or in localStorage when the user asks to remember it on this device. The token only
 * ever travels in the Authorization header, never in a URL or a cookie, so another site cannot
 * make the browser use it (no CSRF) and it never lands in a server log.
 */
const KEY = 'edgeflow.token';

type Listener = (hasToken: boolean) => void;
const listeners = new Set<Listener>();

function stores(): Storage[] {
  const out: Storage[] = [];
  try {
    out.push(window.sessionStorage, window.localStorage);
  } catch {
    // storage disabled (privacy mode): the token lives in memory only
  }
  return out;
}

let memory: string | undefined;

export function getToken(): string | undefined {
  if (memory !== undefined) return memory;
  for (const s of stores()) {
    const v = s.getItem(KEY);
    if (v) return v;
  }
  return undefined;
}

export function setToken(token: string, remember: boolean): void {
  clearToken(false);
  const [session, local] = stores();
  const target = remember ? local : session;
  if (target) target.setItem(KEY, token);
  else memory = token;
  for (const l of listeners) l(true);
}

export function clearToken(notify = true): void {
  memory = undefined;
  for (const s of stores()) s.removeItem(KEY);
  if (notify) for (const l of listeners) l(false);
}

export function onTokenChange(l: Listener): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}
