// The state table: what each state allows, and the machine that moves along it.
import { describe, expect, it } from 'vitest';
import { canTransition, createStates, STATES } from './state.js';
import type { ConnectionState } from './types.js';

const all = Object.keys(STATES) as ConnectionState[];

describe('state table', () => {
  it('closed is terminal and every state can close', () => {
    expect(STATES.closed.to).toEqual([]);
    for (const state of all) if (state !== 'closed') expect(canTransition(state, 'closed')).toBe(true);
    expect(canTransition('idle', 'connected')).toBe(false);
    expect(canTransition('closed', 'connecting')).toBe(false);
  });

  it('sends only when connected, queues publishes elsewhere until closed', () => {
    expect(all.filter((s) => STATES[s].sends)).toEqual(['connected']);
    expect(all.filter((s) => !STATES[s].queues)).toEqual(['connected', 'closed']);
    expect(all.filter((s) => STATES[s].upgrades)).toEqual(['connected']);
    expect(all.filter((s) => STATES[s].retries)).toEqual(['connecting', 'connected', 'reconnecting']);
    expect(all.filter((s) => STATES[s].starts)).toEqual(['idle', 'disconnected']);
    expect(all.filter((s) => STATES[s].online)).toEqual(['reconnecting', 'disconnected']);
  });

  it('every state a row may move to exists, and every state but idle can be entered', () => {
    const entered = new Set(all.flatMap((s) => STATES[s].to));
    for (const state of entered) expect(all).toContain(state);
    expect(all.filter((s) => !entered.has(s))).toEqual(['idle']);
  });
});

describe('state machine', () => {
  const machine = () => {
    const events: unknown[][] = [];
    const logs: unknown[][] = [];
    const states = createStates(
      (...args: unknown[]) => void events.push(args),
      (...args) => void logs.push(args),
    );
    return { states, events, logs };
  };

  it('records the reason each state was entered and reports it on the state event', () => {
    const { states, events } = machine();
    expect([states.state, states.reason]).toEqual(['idle', { code: 'created' }]);
    expect(states.move('connecting', { code: 'connect' })).toBe(true);
    expect(states.move('connecting', { code: 'online' })).toBe(false); // no move, no event
    expect(states.row).toBe(STATES.connecting);
    expect(states.reason).toEqual({ code: 'connect' });
    expect(events).toEqual([['state', 'connecting', 'idle', { code: 'connect' }]]);
  });

  it('logs an illegal move as a bug and does not make it', () => {
    const { states, events, logs } = machine();
    expect(states.move('connected', { code: 'negotiated' })).toBe(false);
    expect(states.state).toBe('idle');
    expect(events).toEqual([]);
    expect(logs).toEqual([
      ['warn', 'state', { bug: 'illegal move', from: 'idle', to: 'connected', why: { code: 'negotiated' } }],
    ]);
  });
});
