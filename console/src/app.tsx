import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { AppContext, type AppServices } from './app-context.js';
import { getToken, onTokenChange } from './api/token.js';
import { TokenDialog } from './components/token-dialog.js';
import { PAGES, pageOf, type PageId } from './lib/router.js';
import { Overview } from './pages/overview.js';
import { Sensors } from './pages/sensors.js';
import { Gpio } from './pages/gpio.js';
import { Updates } from './pages/updates.js';
import { Attestation } from './pages/attestation.js';
import { EdgeReady } from './pages/edgeready.js';

function usePath(): [string, (to: string) => void] {
  const [path, setPath] = useState(window.location.pathname);
  useEffect(() => {
    const on = () => setPath(window.location.pathname);
    window.addEventListener('popstate', on);
    return () => window.removeEventListener('popstate', on);
  }, []);
  const go = useCallback((to: string) => {
    if (to !== window.location.pathname + window.location.search)
      window.history.pushState(null, '', to);
    setPath(window.location.pathname);
  }, []);
  return [path, go];
}

const VIEWS: Record<PageId, () => preact.JSX.Element> = {
  overview: Overview,
  sensors: Sensors,
  gpio: Gpio,
  updates: Updates,
  attestation: Attestation,
  edgeready: EdgeReady,
};

/** The shell: skip link, navigation, token dialog, and the current page. */
export function App() {
  const [path, go] = usePath();
  const page = pageOf(path);
  const [dialog, setDialog] = useState<{ open: boolean; reason?: string }>({ open: false });
  const [hasToken, setHasToken] = useState(getToken() !== undefined);
  const offset = useRef(0);
  const mainRef = useRef<HTMLElement>(null);
  useEffect(() => onTokenChange(setHasToken), []);
  const title = PAGES.find((p) => p.id === page)?.title ?? 'Overview';
  useEffect(() => {
    document.title = `${title} · EdgeFlow console`;
  }, [title]);

  const services = useMemo<AppServices>(
    () => ({
      askToken: (reason) =>
        setDialog(reason === undefined ? { open: true } : { open: true, reason }),
      clockOffset: () => offset.current,
      setClockOffset: (agentNow) => {
        offset.current = agentNow - Date.now();
      },
      hasToken,
    }),
    [hasToken],
  );
  const View = VIEWS[page];
  return (
    <AppContext.Provider value={services}>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">EdgeFlow</span>
        <nav class="pages" aria-label="Pages">
          <ul>
            {PAGES.map((p) => (
              <li key={p.id}>
                <a
                  href={p.path}
                  aria-current={p.id === page ? 'page' : undefined}
                  onClick={(e) => {
                    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
                    e.preventDefault();
                    go(p.path);
                    mainRef.current?.focus();
                  }}
                >
                  {p.title}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="tools">
          <button type="button" onClick={() => services.askToken()} aria-haspopup="dialog">
            {hasToken ? 'Token set' : 'Enter token'}
          </button>
        </div>
      </header>
      <main id="main" ref={mainRef} tabIndex={-1}>
        <View key={page} />
      </main>
      <TokenDialog
        open={dialog.open}
        {...(dialog.reason === undefined ? {} : { reason: dialog.reason })}
        onClose={() => setDialog({ open: false })}
      />
    </AppContext.Provider>
  );
}
