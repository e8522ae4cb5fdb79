/**
 * The transport inspector on every page: which transport is in use and why each better one was
 * skipped, reconnects, round-trip latency, and switches to force or block each transport. A change
 * recreates the client with the chosen `transports` list, so fallback can be watched live. With
 * "share one connection across tabs" on, it shows how many tabs share the connection and which
 * tab (or worker) holds it.
 */
import type { Fallback } from '@push/client';
import { useEffect, useState } from 'react';
import { type DemoTransport, TRANSPORTS } from '../../shared/types.js';
import type { Diagnostics } from '../diagnostics.js';
import { BREAKABLE } from '../faults.js';
import { formatDuration, formatTime } from '../format.js';
import { inDefaultOrder, isDefault } from '../settings.js';
import { Sparkline } from './charts.js';

const LABELS: Record<DemoTransport, string> = {
  websocket: 'WebSocket',
  eventsource: 'Server-Sent Events',
  'long-polling': 'Long-polling',
  iframe: 'Forever iframe',
};

/** What each fault switch makes the demo server do to this browser's requests (server/faults.ts). */
const FAULTS: Partial<Record<DemoTransport, string>> = {
  websocket: 'Proxy drops WebSocket upgrades',
  eventsource: 'Proxy buffers the SSE stream',
  iframe: 'Proxy buffers the iframe stream',
};

const REASONS: Record<string, string> = {
  unsupported: 'not supported by this browser',
  'open-timeout': 'did not open in time',
  'open-failed': 'failed to open',
  'handshake-timeout': 'handshake timed out',
  'handshake-failed': 'handshake failed',
  'connect-timeout': 'first connect timed out',
  'connect-failed': 'first connect failed',
  'closed-early': 'closed right after opening',
};

type Status = { tone: 'active' | 'skipped' | 'blocked' | 'idle'; text: string };

function statusOf(name: DemoTransport, allowed: readonly DemoTransport[], d: Diagnostics): Status {
  if (d.transport === name && d.state === 'connected') return { tone: 'active', text: 'in use' };
  if (!allowed.includes(name)) return { tone: 'blocked', text: 'blocked by you' };
  const fallback = [...d.fallbacks].reverse().find((f: Fallback) => f.from === name);
  if (fallback) return { tone: 'skipped', text: `skipped: ${REASONS[fallback.reason] ?? fallback.reason}` };
  const current = d.transport ? TRANSPORTS.indexOf(d.transport as DemoTransport) : -1;
  const rank = TRANSPORTS.indexOf(name);
  if (current >= 0 && rank < current)
    return { tone: 'skipped', text: 'not tried: client started lower (remembered)' };
  if (d.transport === name) return { tone: 'idle', text: d.state };
  return { tone: 'idle', text: 'standby' };
}

export function Inspector(props: {
  diagnostics: Diagnostics;
  transports: readonly DemoTransport[];
  onChange(list: DemoTransport[]): void;
  faults: readonly DemoTransport[];
  onFaults(list: DemoTransport[]): void;
  share: boolean;
  onShare(on: boolean): void;
}) {
  const { diagnostics: d, transports, onChange, faults, onFaults, share, onShare } = props;
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1_000);
    return () => clearInterval(timer);
  }, []);

  const toggle = (name: DemoTransport) => {
    const next = transports.includes(name)
      ? transports.filter((t) => t !== name)
      : inDefaultOrder([...transports, name]);
    if (next.length > 0) onChange(next);
  };
  const forced = transports.length === 1 ? transports[0] : undefined;

  return (
    <aside className="inspector" data-testid="inspector" aria-label="Transport inspector">
      <header className="inspector-head">
        <h2>Transport inspector</h2>
        <span className={`pill pill-${d.state}`} data-testid="inspector-state">
          {d.state}
        </span>
      </header>

      <div className="inspector-current">
        <div className="inspector-label">Current transport</div>
        <div className="inspector-transport" data-testid="inspector-transport">
          {d.transport ?? '—'}
        </div>
        <div className="inspector-sub">
          {d.transport ? LABELS[d.transport as DemoTransport] : 'negotiating…'}
          {d.state === 'connected' && d.connectedAt
            ? ` · up ${formatDuration((now - d.connectedAt) / 1000)}`
            : ''}
        </div>
      </div>

      <dl className="inspector-stats">
        <div>
          <dt>Round trip</dt>
          <dd data-testid="inspector-latency">{d.latency === undefined ? '—' : `${d.latency} ms`}</dd>
        </div>
        <div>
          <dt>Reconnects</dt>
          <dd data-testid="inspector-reconnects">{d.reconnects}</dd>
        </div>
        <div>
          <dt>Fallbacks</dt>
          <dd>{d.fallbacks.length}</dd>
        </div>
      </dl>
      {d.latencies.length > 1 && (
        <div className="inspector-latency">
          <Sparkline values={d.latencies} width={260} height={26} />
        </div>
      )}

      <div className="inspector-label">Sharing</div>
      <div className="sharing" data-testid="sharing">
        <label className="fault">
          <input
            type="checkbox"
            checked={share}
            onChange={(e) => onShare(e.target.checked)}
            data-testid="share-toggle"
          />
          <span>Share one connection across tabs</span>
        </label>
        {share && <SharingStatus sharing={d.sharing} />}
      </div>

      <div className="inspector-label">Transports (preference order)</div>
      <ul className="transport-list">
        {TRANSPORTS.map((name) => {
          const status = statusOf(name, transports, d);
          const allowed = transports.includes(name);
          return (
            <li key={name} className={`transport transport-${status.tone}`} data-testid={`transport-${name}`}>
              <div className="transport-main">
                <span className="transport-name">{name}</span>
                <span className="transport-status">{status.text}</span>
              </div>
              <div className="transport-actions">
                <button
                  type="button"
                  className={forced === name ? 'btn-mini on' : 'btn-mini'}
                  onClick={() => onChange([name])}
                  data-testid={`force-${name}`}
                  title={`Use only ${LABELS[name]}`}
                >
                  Force
                </button>
                <button
                  type="button"
                  className={allowed ? 'btn-mini' : 'btn-mini danger on'}
                  onClick={() => toggle(name)}
                  disabled={allowed && transports.length === 1}
                  data-testid={`block-${name}`}
                  title={allowed ? `Block ${LABELS[name]}` : `Allow ${LABELS[name]}`}
                >
                  {allowed ? 'Block' : 'Blocked'}
                </button>
              </div>
            </li>
          );
        })}
      </ul>
      <button
        type="button"
        className="btn-secondary inspector-reset"
        onClick={() => onChange([...TRANSPORTS])}
        disabled={isDefault(transports)}
        data-testid="inspector-reset"
      >
        Allow all transports
      </button>

      <div className="inspector-label">Simulate a hostile network</div>
      <div className="faults">
        {BREAKABLE.map((name) => (
          <label key={name} className="fault">
            <input
              type="checkbox"
              checked={faults.includes(name)}
              onChange={(e) =>
                onFaults(
                  inDefaultOrder(e.target.checked ? [...faults, name] : faults.filter((f) => f !== name)),
                )
              }
              data-testid={`fault-${name}`}
            />
            <span>{FAULTS[name]}</span>
          </label>
        ))}
      </div>

      <div className="inspector-label">Events</div>
      <ol className="inspector-log" data-testid="inspector-log">
        {d.log
          .slice(-12)
          .reverse()
          .map((entry) => (
            <li key={entry.seq} className={`log-${entry.kind}`}>
              <time>{formatTime(entry.at)}</time> {entry.text}
            </li>
          ))}
      </ol>
    </aside>
  );
}

/** How many tabs share the connection and who holds it: this tab, another tab (its id) or a worker. */
function SharingStatus(props: { sharing: Diagnostics['sharing'] }) {
  const s = props.sharing;
  if (!s) return <div className="sharing-status muted">waiting for the holder…</div>;
  const who = s.here ? 'this tab' : s.holder === 'worker' ? 'a shared worker' : 'another tab';
  return (
    <dl className="sharing-status">
      <div>
        <dt>Shared by</dt>
        <dd data-testid="share-tabs">{s.tabs === 1 ? '1 tab' : `${s.tabs} tabs`}</dd>
      </div>
      <div>
        <dt>Held by</dt>
        <dd>
          <span data-testid="share-holder">{who}</span>{' '}
          <code data-testid="share-holder-id" title="the holder's id (tab id.term, or worker.id)">
            {s.leader}
          </code>
        </dd>
      </div>
      <div>
        <dt>This tab</dt>
        <dd>
          <code data-testid="share-tab-id">{s.tab}</code>
        </dd>
      </div>
    </dl>
  );
}
