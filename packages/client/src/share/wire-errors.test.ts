// Errors crossing the bus come back as the same class, code and fields; anything else is connection-lost.
import { describe, expect, it } from 'vitest';
import { PushError } from '../errors.js';
import { TransportError } from '../transports/transport.js';
import { errorFromWire, errorToWire, fromWire, toWire } from './wire-errors.js';

const cross = (value: unknown) => fromWire(structuredClone(toWire(value)));

describe('wire errors', () => {
  it('rebuilds a PushError with its bayeux string and advice, without doubling the suffix', () => {
    const sent = new PushError('rejected', 'Publish refused', '403::denied', { reconnect: 'none' });
    const back = errorFromWire(structuredClone(errorToWire(sent)));
    expect(back).toBeInstanceOf(PushError);
    expect(back).toMatchObject({
      code: 'rejected',
      bayeux: '403::denied',
      bayeuxCode: 403,
      advice: { reconnect: 'none' },
    });
    expect(back.message).toBe(sent.message);
  });
  it('rebuilds a TransportError inside an event argument', () => {
    const change = {
      transport: 'eventsource',
      previous: 'websocket',
      error: new TransportError('http-status', 'websocket', { status: 503 }),
    };
    const back = cross(change) as typeof change;
    expect(back.error).toBeInstanceOf(TransportError);
    expect(back.error).toMatchObject({ code: 'http-status', transport: 'websocket', status: 503 });
    expect(back.transport).toBe('eventsource');
  });
  it('turns any other thrown value into a connection-lost PushError', () => {
    expect(errorFromWire(errorToWire(new TypeError('boom')))).toMatchObject({
      code: 'connection-lost',
      message: 'boom',
    });
    expect(errorFromWire(errorToWire('gone'))).toMatchObject({ code: 'connection-lost', message: 'gone' });
    expect(cross({ plain: { nested: 1 } })).toEqual({ plain: { nested: 1 } });
  });
});
