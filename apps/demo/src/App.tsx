/**
 * The demo shell: header navigation, the pages, and the transport inspector. The app owns its
 * client (rather than letting `PushProvider` create one) so the inspector can read
 * `client.fallbacks` and recreate the client when the transport choice changes.
 */
import type { PushClient, PushError } from '@push/client';
import { createClient } from '@push/client/share';
import { PushProvider, usePush } from '@push/react';
import { type FormEvent, useCallback, useEffect, useState } from 'react';
import type { DemoConfig, DemoTransport } from '../shared/types.js';
import { Inspector } from './components/Inspector.js';
import { useDiagnostics } from './diagnostics.js';
import { loadFaults, saveFaults } from './faults.js';
import { ChatPage } from './pages/ChatPage.js';
import { MonitorPage } from './pages/MonitorPage.js';
import { StocksPage } from './pages/StocksPage.js';
import { Link, navigate, replaceSearch, usePathname } from './router.js';
import { fetchConfig, login, logout, savedName, savedToken } from './session.js';
import { loadShare, loadTransports, saveShare, saveTransports } from './settings.js';

const PAGES = [
  { path: '/stocks', label: 'Stock ticker' },
  { path: '/chat', label: 'Chat' },
  { path: '/monitor', label: 'Live monitor' },
] as const;

export function App() {
  const [config, setConfig] = useState<DemoConfig | undefined>();
  const [configError, setConfigError] = useState<string | undefined>();
  const [token, setToken] = useState<string | undefined>(() => savedToken());
  const [transports, setTransports] = useState<DemoTransport[]>(() => loadTransports());
  const [faults, setFaults] = useState<DemoTransport[]>(() => loadFaults());
  const [share, setShare] = useState<boolean>(() => loadShare());

  useEffect(() => {
    fetchConfig().then(setConfig, (error: Error) => setConfigError(error.message));
  }, []);

  const changeTransports = useCallback((list: DemoTransport[]) => {
    replaceSearch(saveTransports(list));
    setTransports(list);
  }, []);
  const changeShare = useCallback((on: boolean) => {
    replaceSearch(saveShare(on));
    setShare(on);
  }, []);
  const signOut = useCallback(() => {
    logout();
    setToken(undefined);
  }, []);
  const changeFaults = useCallback((list: DemoTransport[]) => {
    saveFaults(list);
    setFaults(list);
  }, []);

  if (configError) return <Splash title="Cannot reach the demo server" detail={configError} />;
  if (!config) return <Splash title="Loading…" />;
  if (config.auth && !token) return <Login onToken={setToken} />;
  return (
    <Connected
      config={config}
      token={config.auth ? token : undefined}
      transports={transports}
      onTransports={changeTransports}
      faults={faults}
      onFaults={changeFaults}
      share={share}
      onShare={changeShare}
      onLogout={config.auth ? signOut : undefined}
    />
  );
}

/**
 * Creates the client for the chosen transports (and token, and sharing) and renders the shell
 * around it. `createClient` from `@push/client/share` is the plain client unless `share` is set.
 */
function Connected(props: {
  config: DemoConfig;
  token: string | undefined;
  transports: DemoTransport[];
  onTransports(list: DemoTransport[]): void;
  faults: DemoTransport[];
  onFaults(list: DemoTransport[]): void;
  share: boolean;
  onShare(on: boolean): void;
  onLogout: (() => void) | undefined;
}) {
  const { config, token, transports, faults, share, onLogout } = props;
  const [client, setClient] = useState<PushClient | undefined>();
  const key = transports.join(',');
  // A new fault setting takes effect on a new connection, so it recreates the client too.
  const faultKey = faults.join('.');
  // biome-ignore lint/correctness/useExhaustiveDependencies: faultKey is read by the server (cookie), not here
  useEffect(() => {
    const url = new URL(config.path, window.location.href).toString();
    const created = createClient({
      url,
      transports: key.split(',') as DemoTransport[],
      ...(token ? { auth: { token } } : {}),
      // tabs with other transport choices get their own connection
      ...(share ? { share: { key: `${url} ${key} ${token ?? ''}` } } : {}),
    });
    // A token the server no longer accepts (expired, or the server restarted with a new secret)
    // sends the user back to the login form instead of leaving the client refused.
    const off = created.on('error', (error: PushError) => {
      if (token && error.bayeuxCode === 401) onLogout?.();
    });
    setClient(created);
    return () => {
      off();
      void created.close();
    };
  }, [config.path, key, token, faultKey, share, onLogout]);

  if (!client) return <Splash title="Connecting…" />;
  return (
    <PushProvider client={client}>
      <Shell {...props} client={client} />
    </PushProvider>
  );
}

function Shell(props: {
  client: PushClient;
  config: DemoConfig;
  transports: DemoTransport[];
  onTransports(list: DemoTransport[]): void;
  faults: DemoTransport[];
  onFaults(list: DemoTransport[]): void;
  share: boolean;
  onShare(on: boolean): void;
  onLogout: (() => void) | undefined;
}) {
  const diagnostics = useDiagnostics(props.client);
  const { state, transport } = usePush();
  const pathname = usePathname();
  useEffect(() => {
    if (pathname === '/' || pathname === '') navigate('/stocks');
    else if (pathname === '/chat' || pathname === '/chat/') navigate('/chat/lobby');
  }, [pathname]);

  let page = <NotFound />;
  if (pathname === '/' || pathname.startsWith('/stocks')) page = <StocksPage />;
  else if (pathname.startsWith('/chat/'))
    page = <ChatPage room={decodeURIComponent(pathname.slice(6))} canRename={!props.config.auth} />;
  else if (pathname.startsWith('/monitor')) page = <MonitorPage />;

  return (
    <div className="app">
      <header className="topbar">
        <a className="brand" href="/">
          <svg viewBox="0 0 32 32" width="26" height="26" aria-hidden="true">
            <rect width="32" height="32" rx="8" fill="var(--accent)" />
            <path
              d="M9 20l7-9 7 9"
              stroke="white"
              strokeWidth="3"
              fill="none"
              strokeLinecap="round"
              strokeLinejoin="round"
            />
          </svg>
          <span>Push</span>
          <small>demo</small>
        </a>
        <nav>
          {PAGES.map((p) => (
            <Link
              key={p.path}
              to={p.path}
              className={pathname.startsWith(p.path) ? 'nav-link active' : 'nav-link'}
              data-testid={`nav-${p.path.slice(1)}`}
            >
              {p.label}
            </Link>
          ))}
        </nav>
        <div className="topbar-right">
          <span className="broker" title="Broker">
            {props.config.broker === 'redis' ? 'Redis broker' : 'in-memory broker'}
          </span>
          <span className={`status status-${state}`} data-testid="connection-status">
            <i /> {state === 'connected' ? `live · ${transport}` : state}
          </span>
          {props.onLogout && (
            <button type="button" className="btn-link" onClick={props.onLogout}>
              Sign out
            </button>
          )}
        </div>
      </header>
      <div className="layout">
        <main className="page">{page}</main>
        <Inspector
          diagnostics={diagnostics}
          transports={props.transports}
          onChange={props.onTransports}
          faults={props.faults}
          onFaults={props.onFaults}
          share={props.share}
          onShare={props.onShare}
        />
      </div>
      <footer className="footer">
        Bayeux 1.0 over WebSocket, Server-Sent Events, long-polling and forever-iframe ·{' '}
        <a href="/push/metrics" target="_blank" rel="noreferrer">
          /push/metrics
        </a>
      </footer>
    </div>
  );
}

function Login(props: { onToken(token: string): void }) {
  const [name, setName] = useState(savedName());
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      props.onToken((await login(name.trim())).token);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="splash">
      <form className="card login" onSubmit={submit}>
        <h1>Sign in to the Push demo</h1>
        <p className="muted">
          This server runs with <code>DEMO_AUTH=1</code>: the Push handshake needs a token. Pick a name and
          the demo server issues one.
        </p>
        <label>
          Your name
          <input value={name} onChange={(e) => setName(e.target.value)} maxLength={24} required />
        </label>
        {error && <p className="error">{error}</p>}
        <button type="submit" className="btn-primary" disabled={busy || !name.trim()}>
          {busy ? 'Signing in…' : 'Get a token'}
        </button>
      </form>
    </div>
  );
}

function Splash(props: { title: string; detail?: string }) {
  return (
    <div className="splash">
      <div className="card">
        <h1>{props.title}</h1>
        {props.detail && <p className="error">{props.detail}</p>}
      </div>
    </div>
  );
}

function NotFound() {
  return (
    <section>
      <h1>Page not found</h1>
      <p>
        Try the <Link to="/stocks">stock ticker</Link>.
      </p>
    </section>
  );
}
