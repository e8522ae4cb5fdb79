import { describe, expect, it } from 'vitest';
import { DEFAULT_ORDER, TRANSPORTS } from './transports.js';

describe('transport descriptor', () => {
  it('orders exactly the default-enabled transports, best first, each once', () => {
    const enabled = Object.entries(TRANSPORTS)
      .filter(([, traits]) => traits.defaultEnabled)
      .map(([type]) => type);
    expect([...DEFAULT_ORDER].sort()).toEqual(enabled.sort());
    expect(new Set(DEFAULT_ORDER).size).toBe(DEFAULT_ORDER.length);
    expect(DEFAULT_ORDER).toEqual(['websocket', 'eventsource', 'long-polling', 'iframe']);
    expect(TRANSPORTS['callback-polling'].defaultEnabled).toBe(false);
  });

  it('marks WebSocket alone duplex, and SSE and the forever-iframe streamed', () => {
    const types = Object.keys(TRANSPORTS) as (keyof typeof TRANSPORTS)[];
    expect(types.filter((t) => TRANSPORTS[t].duplex)).toEqual(['websocket']);
    expect(types.filter((t) => TRANSPORTS[t].streamed).sort()).toEqual(['eventsource', 'iframe']);
  });
});
