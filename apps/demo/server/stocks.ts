/**
 * The stock ticker simulator: a random walk over the AEX constituents, publishing a few quotes
 * several times a second on `/stocks/aex/<symbol>` (the classic Pushlet example).
 */
import { channels, type Quote, type StocksSnapshot } from '../shared/types.js';

const AEX: ReadonlyArray<readonly [symbol: string, name: string, price: number]> = [
  ['ABN', 'ABN AMRO', 15.2],
  ['AD', 'Ahold Delhaize', 31.4],
  ['ADYEN', 'Adyen', 1452.0],
  ['AKZA', 'Akzo Nobel', 61.8],
  ['ASML', 'ASML Holding', 642.5],
  ['ASRNL', 'ASR Nederland', 44.1],
  ['BESI', 'BE Semiconductor', 129.6],
  ['DSFIR', 'DSM-Firmenich', 104.9],
  ['HEIA', 'Heineken', 82.3],
  ['IMCD', 'IMCD', 139.7],
  ['INGA', 'ING Groep', 16.5],
  ['KPN', 'KPN', 3.62],
  ['NN', 'NN Group', 44.6],
  ['PHIA', 'Philips', 24.1],
  ['PRX', 'Prosus', 36.2],
  ['RAND', 'Randstad', 42.0],
  ['REN', 'RELX', 43.3],
  ['SHELL', 'Shell', 31.1],
  ['UNA', 'Unilever', 54.2],
  ['WKL', 'Wolters Kluwer', 160.4],
];

/** Prices kept per symbol for the sparklines of a freshly opened page. */
const HISTORY = 60;

export interface StockSimulatorOptions {
  publish(channel: string, data: Quote): unknown;
  /** Milliseconds between ticks. @defaultValue 250 */
  interval?: number;
  random?: () => number;
}

export interface StockSimulator {
  snapshot(): StocksSnapshot;
  stop(): void;
}

/** Starts publishing; every symbol is published at least every couple of seconds. */
export function startStockSimulator(options: StockSimulatorOptions): StockSimulator {
  const random = options.random ?? Math.random;
  const now = Date.now();
  const book = AEX.map(([symbol, name, price]) => ({
    quote: { symbol, name, price, open: price, change: 0, changePct: 0, volume: 0, time: now } as Quote,
    history: warmUp(price, random),
    lastSent: 0,
  }));
  for (const entry of book) entry.quote.price = entry.history.at(-1) ?? entry.quote.price;

  const tick = () => {
    const time = Date.now();
    for (const entry of book) {
      const due = time - entry.lastSent > 2_000;
      if (!due && random() > 0.18) continue;
      const q = entry.quote;
      const price = round(step(q.price, random), q.open);
      q.price = price;
      q.change = round(price - q.open, q.open);
      q.changePct = Math.round(((price - q.open) / q.open) * 10_000) / 100;
      q.volume += Math.ceil(random() * 5_000);
      q.time = time;
      entry.history.push(price);
      if (entry.history.length > HISTORY) entry.history.shift();
      entry.lastSent = time;
      void Promise.resolve(options.publish(channels.stock(q.symbol), { ...q })).catch(() => {});
    }
  };
  const timer = setInterval(tick, options.interval ?? 250);
  return {
    snapshot: () => ({ quotes: book.map((e) => ({ ...e.quote, history: [...e.history] })) }),
    stop: () => clearInterval(timer),
  };
}

/** One random-walk step: mostly small moves, now and then a bigger one. */
function step(price: number, random: () => number): number {
  const jump = random() < 0.05 ? 4 : 1;
  return Math.max(0.01, price * (1 + (random() - 0.5) * 0.004 * jump));
}

function warmUp(start: number, random: () => number): number[] {
  const prices: number[] = [];
  let price = start;
  for (let i = 0; i < HISTORY; i++) {
    price = round(step(price, random), start);
    prices.push(price);
  }
  return prices;
}

/** Two decimals, three below 10 (KPN trades in tenths of cents). */
function round(value: number, reference: number): number {
  const factor = Math.abs(reference) < 10 ? 1_000 : 100;
  return Math.round(value * factor) / factor;
}
