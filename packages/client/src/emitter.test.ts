// The client's event listeners: several arguments, removal while delivering, off and the returned remover.
import { describe, expect, it } from 'vitest';
import { createEmitter } from './emitter.js';

describe('createEmitter', () => {
  it('delivers every argument to each listener until it is removed', () => {
    const [emit, on, off] = createEmitter();
    const seen: string[] = [];
    const a = (state: string, previous: string) => seen.push(`a ${state} ${previous}`);
    const stop = on('state', (state, previous) => seen.push(`b ${state} ${previous}`));
    on('state', a);
    emit('state', 'connected', 'connecting', { code: 'negotiated' });
    stop();
    emit('state', 'reconnecting', 'connected', { code: 'connect' });
    off('state', a);
    emit('state', 'connected', 'reconnecting', { code: 'negotiated' });
    expect(seen).toEqual(['b connected connecting', 'a connected connecting', 'a reconnecting connected']);
  });
  it('a listener that removes another during delivery does not stop this delivery', () => {
    const [emit, on] = createEmitter();
    const seen: number[] = [];
    let stopB = () => {};
    on('backpressure', () => {
      seen.push(1);
      stopB();
    });
    stopB = on('backpressure', () => seen.push(2));
    emit('backpressure', { queued: 64, high: true });
    emit('backpressure', { queued: 16, high: false });
    expect(seen).toEqual([1, 2, 1]);
  });
});
