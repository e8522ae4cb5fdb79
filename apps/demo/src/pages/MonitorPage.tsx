/**
 * Live monitor: the server publishes its metrics on `/monitor/stats` once a second; this page
 * charts connections by transport, messages in/out per second and memory.
 */
import { useChannel } from '@push/react';
import { useEffect, useState } from 'react';
import { channels, type MonitorStats, TRANSPORTS } from '../../shared/types.js';
import { LineChart } from '../components/charts.js';
import { formatBytes, formatDuration, formatInt } from '../format.js';

const KEEP = 120;
const COLORS: Record<string, string> = {
  websocket: '#4f46e5',
  eventsource: '#0891b2',
  'long-polling': '#d97706',
  iframe: '#db2777',
  'callback-polling': '#64748b',
};

export function MonitorPage() {
  const [samples, setSamples] = useState<MonitorStats[]>([]);

  useEffect(() => {
    let cancelled = false;
    fetch('/api/monitor')
      .then((res) => (res.ok ? (res.json() as Promise<MonitorStats[]>) : []))
      .then((history) => {
        if (cancelled) return;
        setSamples((current) => {
          const newest = current[0]?.time ?? Number.POSITIVE_INFINITY;
          return [...history.filter((s) => s.time < newest), ...current].slice(-KEEP);
        });
      })
      .catch(() => {});
    return () => {
      cancelled = true;
    };
  }, []);

  const { status } = useChannel<MonitorStats>(channels.monitor, (stats) => {
    setSamples((current) => [...current, stats].slice(-KEEP));
  });

  const latest = samples.at(-1);
  const transports = [
    ...new Set([...TRANSPORTS, ...samples.flatMap((s) => Object.keys(s.connections))]),
  ] as string[];

  return (
    <section>
      <div className="page-head">
        <div>
          <h1>Live monitor</h1>
          <p className="muted">
            The server's own metrics (<code>server.metrics()</code>, also at <code>/push/metrics</code>),
            published on <code>{channels.monitor}</code> every second. Subscription: {status}.
          </p>
        </div>
      </div>
      <div className="kpis kpis-wide">
        <Stat label="Sessions" value={latest ? formatInt(latest.sessions) : '–'} testId="stat-sessions" />
        <Stat label="Messages in / s" value={latest ? formatInt(latest.inPerSec) : '–'} testId="stat-in" />
        <Stat label="Messages out / s" value={latest ? formatInt(latest.outPerSec) : '–'} testId="stat-out" />
        <Stat
          label="Total delivered"
          value={latest ? formatInt(latest.messagesOut) : '–'}
          testId="stat-total-out"
        />
        <Stat
          label="Heap used"
          value={latest ? formatBytes(latest.memory.heapUsed) : '–'}
          testId="stat-heap"
        />
        <Stat label="Uptime" value={latest ? formatDuration(latest.uptime) : '–'} testId="stat-uptime" />
      </div>
      <div className="charts">
        <div className="card">
          <LineChart
            label="Connections by transport"
            capacity={KEEP}
            series={transports.map((t) => ({
              name: t,
              color: COLORS[t] ?? '#64748b',
              values: samples.map((s) => s.connections[t] ?? 0),
            }))}
          />
        </div>
        <div className="card">
          <LineChart
            label="Messages per second"
            capacity={KEEP}
            series={[
              { name: 'in', color: '#059669', values: samples.map((s) => s.inPerSec) },
              { name: 'out', color: '#4f46e5', values: samples.map((s) => s.outPerSec) },
            ]}
          />
        </div>
        <div className="card">
          <LineChart
            label="Memory"
            capacity={KEEP}
            format={formatBytes}
            series={[
              { name: 'rss', color: '#d97706', values: samples.map((s) => s.memory.rss) },
              { name: 'heap used', color: '#7c3aed', values: samples.map((s) => s.memory.heapUsed) },
            ]}
          />
        </div>
        <div className="card">
          <h2 className="card-title">Transport fallbacks reported by clients</h2>
          {latest && Object.keys(latest.fallbacks).length > 0 ? (
            <table className="mini-table">
              <tbody>
                {Object.entries(latest.fallbacks).map(([step, count]) => (
                  <tr key={step}>
                    <td>{step.replace('->', ' → ')}</td>
                    <td className="num">{count}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <p className="muted">
              None yet: clients report one when a transport fails on their network (a proxy that drops
              WebSocket or buffers SSE).
            </p>
          )}
          <p className="muted small">
            {latest ? `${formatInt(latest.subscriptions)} subscriptions · ${latest.broker} broker` : ''}
          </p>
        </div>
      </div>
    </section>
  );
}

function Stat(props: { label: string; value: string; testId: string }) {
  return (
    <div className="kpi">
      <div className="kpi-label">{props.label}</div>
      <div className="kpi-value" data-testid={props.testId}>
        {props.value}
      </div>
    </div>
  );
}
