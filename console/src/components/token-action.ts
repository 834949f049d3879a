import { useState } from 'preact/hooks';
import { ApiError } from '../api/client.js';
import { useApp } from '../app-context.js';

/**
 * A state-changing call behind the API token: without a token the dialog opens and nothing is
 * sent; a refused token opens it again; the error stays on the page. `busy` names what runs.
 */
export function useTokenAction() {
  const app = useApp();
  const [busy, setBusy] = useState<string | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const run = async <T>(what: string, call: () => Promise<T>): Promise<T | undefined> => {
    setError(undefined);
    if (!app.hasToken) {
      app.askToken(`${what} needs the API token.`);
      return undefined;
    }
    setBusy(what);
    try {
      return await call();
    } catch (err) {
      const e = err instanceof ApiError ? err : new ApiError(0, 'NETWORK', String(err));
      setError(e);
      if (e.needsToken) app.askToken(`The agent refused the token: ${e.message}`);
      return undefined;
    } finally {
      setBusy(undefined);
    }
  };
  return { run, busy, error };
}
