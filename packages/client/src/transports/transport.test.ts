// The transport seam: its one error class, and factories that agree with the protocol descriptor.
import { TRANSPORTS } from '@push/protocol';
import { describe, expect, it } from 'vitest';
import { eventSource } from './eventsource.js';
import { iframe } from './iframe.js';
import { longPolling } from './long-polling.js';
import { TransportError } from './transport.js';
import { websocket } from './websocket.js';

describe('TransportError', () => {
  it('names the transport and the code; keeps the status and the cause', () => {
    const status = new TransportError('http-status', 'long-polling', { status: 502 });
    expect(status).toMatchObject({
      name: 'TransportError',
      message: 'long-polling http-status 502',
      status: 502,
    });
    const cause = new Error('ECONNRESET');
    const network = new TransportError('network', 'eventsource', { cause });
    expect([network.message, network.cause, network.retriable]).toEqual(['eventsource network', cause, true]);
  });
});

describe('transport factories', () => {
  it("declare the traits of @push/protocol's TRANSPORTS (the factories spell them out to stay small)", () => {
    for (const factory of [websocket(), eventSource(), longPolling(), iframe()])
      expect([factory.type, factory.duplex]).toEqual([factory.type, TRANSPORTS[factory.type].duplex]);
  });
});
