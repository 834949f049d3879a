import { createContext } from 'preact';
import { useContext } from 'preact/hooks';

/** What every page may ask of the shell. */
export interface AppServices {
  /** Opens the token dialog (after a 401, or before an action that needs the token). */
  askToken(reason?: string): void;
  /** Agent clock minus browser clock, ms (from the stream's hello or an API `now`). */
  clockOffset(): number;
  setClockOffset(agentNow: number): void;
  /** Whether a token is set in this browser (changes re-render the shell). */
  hasToken: boolean;
}

export const AppContext = createContext<AppServices>({
  askToken: () => undefined,
  clockOffset: () => 0,
  setClockOffset: () => undefined,
  hasToken: false,
});

export const useApp = (): AppServices => useContext(AppContext);
