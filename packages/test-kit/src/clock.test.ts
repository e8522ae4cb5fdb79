import { describe, expect, it } from 'vitest';
import { FakeClock, settle } from './clock.js';

describe('FakeClock', () => {
  it('fires due timers in time order, at their own time, and cancels cleared ones', async () => {
    const clock = new FakeClock(1_000);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`b@${clock.now()}`), 20);
    clock.setTimeout(() => fired.push(`a@${clock.now()}`), 10);
    const c = clock.setTimeout(() => fired.push('c'), 15);
    clock.clearTimeout(c);
    expect(clock.pending()).toEqual([10, 20]);
    await clock.advance(15);
    expect(fired).toEqual(['a@1010']);
    clock.advanceSync(5);
    expect(fired).toEqual(['a@1010', 'b@1020']);
    expect(clock.now()).toBe(1_020);
  });

  it('advance lets promise chains started by a timer run before the next timer', async () => {
    const clock = new FakeClock();
    const order: string[] = [];
    clock.setTimeout(() => void Promise.resolve().then(() => order.push('then')), 1);
    clock.setTimeout(() => order.push('second'), 2);
    await clock.advance(2);
    expect(order).toEqual(['then', 'second']);
  });

  it('advanceSync runs nothing between timers', async () => {
    const clock = new FakeClock();
    const order: string[] = [];
    clock.setTimeout(() => void Promise.resolve().then(() => order.push('then')), 1);
    clock.setTimeout(() => order.push('second'), 2);
    clock.advanceSync(2);
    await settle();
    expect(order).toEqual(['second', 'then']);
  });
});
