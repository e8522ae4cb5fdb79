// One retriability contract: a lookup on the error, the server's advice first.
import { describe, expect, it } from 'vitest';
import { isRetriable, PushError } from './errors.js';
import { TransportError } from './transports/transport.js';

describe('isRetriable', () => {
  it('is true for every transport failure', () => {
    for (const code of ['open-failed', 'closed', 'http-status', 'network', 'idle', 'timeout'] as const)
      expect(isRetriable(new TransportError(code, 'eventsource'))).toBe(true);
  });

  it('follows the server advice when there is one, else the code', () => {
    expect(isRetriable(new PushError('rejected', 'x', '503::busy', { reconnect: 'retry' }))).toBe(true);
    expect(isRetriable(new PushError('rejected', 'x', '401::no', { reconnect: 'none' }))).toBe(false);
    expect(isRetriable(new PushError('rejected', 'x', '403:/a:Forbidden'))).toBe(false);
    expect(isRetriable(new PushError('connection-lost', 'x'))).toBe(true);
    expect(isRetriable(new PushError('negotiation-failed', 'x'))).toBe(true);
    expect(isRetriable(new PushError('auth-failed', 'x'))).toBe(true);
    for (const code of [
      'queue-full',
      'closed',
      'server-refused',
      'invalid-channel',
      'handler-failed',
    ] as const)
      expect(isRetriable(new PushError(code, 'x'))).toBe(false);
    expect(isRetriable(new PushError('rejected', 'x', '401::no', undefined, { retriable: true }))).toBe(true);
  });

  it('is false for anything that is not a client error, even with a retriable flag', () => {
    expect(isRetriable(new Error('x'))).toBe(false);
    expect(isRetriable({ retriable: true })).toBe(false);
    expect(isRetriable(undefined)).toBe(false);
  });
});
