/**
 * Stock ticker: simulated AEX quotes on `/stocks/aex/*`, a table whose cells flash on change and a
 * sparkline per row. The table starts from `GET /api/stocks` and is then kept live by the channel.
 */
import { useChannel } from '@push/react';
import { useEffect, useRef, useState } from 'react';
import { channels, type Quote, type StocksSnapshot } from '../../shared/types.js';
import { Sparkline } from '../components/charts.js';
import { formatInt, formatPrice, formatSigned, formatTime } from '../format.js';

interface Row {
  quote: Quote;
  history: number[];
  /** Direction of the last price move, for the flash. */
  move: 'up' | 'down' | 'none';
}

const HISTORY = 60;

export function StocksPage() {
  const [rows, setRows] = useState<Map<string, Row>>(() => new Map());
  const received = useRef(0);
  const [rate, setRate] = useState(0);

  useEffect(() => {
    let cancelled = false;
    fetch('/api/stocks')
      .then((res) => (res.ok ? (res.json() as Promise<StocksSnapshot>) : undefined))
      .then((snapshot) => {
        if (cancelled || !snapshot) return;
        setRows((current) => {
          const next = new Map(current);
          for (const { history, ...quote } of snapshot.quotes) {
            if (!next.has(quote.symbol)) next.set(quote.symbol, { quote, history, move: 'none' });
          }
          return next;
        });
      })
      .catch(() => {});
    return () => {
      cancelled = true;
    };
  }, []);

  useEffect(() => {
    let last = 0;
    const timer = setInterval(() => {
      setRate(received.current - last);
      last = received.current;
    }, 1_000);
    return () => clearInterval(timer);
  }, []);

  const { status } = useChannel<Quote>(channels.stocks, (quote) => {
    received.current++;
    setRows((current) => {
      const next = new Map(current);
      const row = current.get(quote.symbol);
      const previous = row?.quote.price ?? quote.price;
      next.set(quote.symbol, {
        quote,
        history: [...(row?.history ?? []), quote.price].slice(-HISTORY),
        move: quote.price > previous ? 'up' : quote.price < previous ? 'down' : (row?.move ?? 'none'),
      });
      return next;
    });
  });

  const sorted = [...rows.values()].sort((a, b) => a.quote.symbol.localeCompare(b.quote.symbol));
  const gainers = sorted.filter((r) => r.quote.change > 0).length;
  const losers = sorted.filter((r) => r.quote.change < 0).length;
  const average = sorted.length ? sorted.reduce((sum, r) => sum + r.quote.changePct, 0) / sorted.length : 0;

  return (
    <section>
      <div className="page-head">
        <div>
          <h1>AEX stock ticker</h1>
          <p className="muted">
            Simulated quotes published by the server on <code>{channels.stocks}</code>, several times a
            second.
          </p>
        </div>
        <div className="kpis">
          <Kpi label="Average move" value={`${formatSigned(average)}%`} tone={average >= 0 ? 'up' : 'down'} />
          <Kpi label="Up / down" value={`${gainers} / ${losers}`} />
          <Kpi label="Updates / s" value={String(rate)} testId="stocks-rate" />
          <Kpi label="Subscription" value={status} testId="stocks-status" />
        </div>
      </div>
      <div className="card table-card">
        <table className="ticker" data-testid="ticker">
          <thead>
            <tr>
              <th>Symbol</th>
              <th className="hide-sm">Name</th>
              <th className="num">Last</th>
              <th className="num">Change</th>
              <th className="num">%</th>
              <th className="num hide-sm">Volume</th>
              <th>Last hour</th>
              <th className="num hide-sm">Time</th>
            </tr>
          </thead>
          <tbody>
            {sorted.length === 0 && (
              <tr>
                <td colSpan={8} className="empty">
                  Waiting for quotes…
                </td>
              </tr>
            )}
            {sorted.map(({ quote: q, history, move }) => {
              const tone = q.change > 0 ? 'up' : q.change < 0 ? 'down' : '';
              return (
                <tr key={q.symbol} data-testid={`row-${q.symbol}`}>
                  <td className="symbol">{q.symbol}</td>
                  <td className="hide-sm muted">{q.name}</td>
                  <td className="num">
                    <span key={q.time} className={`cell flash-${move}`} data-testid={`price-${q.symbol}`}>
                      {formatPrice(q.price)}
                    </span>
                  </td>
                  <td className={`num ${tone}`}>{formatSigned(q.change, q.price < 10 ? 3 : 2)}</td>
                  <td className={`num ${tone}`}>
                    <span className={`badge badge-${tone || 'flat'}`}>{formatSigned(q.changePct)}%</span>
                  </td>
                  <td className="num hide-sm muted">{formatInt(q.volume)}</td>
                  <td>
                    <Sparkline values={history} />
                  </td>
                  <td className="num hide-sm muted">{formatTime(q.time)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function Kpi(props: { label: string; value: string; tone?: 'up' | 'down'; testId?: string }) {
  return (
    <div className="kpi">
      <div className="kpi-label">{props.label}</div>
      <div className={`kpi-value ${props.tone ?? ''}`} data-testid={props.testId}>
        {props.value}
      </div>
    </div>
  );
}
