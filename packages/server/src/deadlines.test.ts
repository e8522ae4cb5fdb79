import { FakeClock } from '@push/test-kit/clock';
import { describe, expect, it } from 'vitest';
import { Deadlines } from './deadlines.js';

/** The test kit's clock, driven synchronously: `advance` fires due timers in time order. */
function manualClock() {
  const clock = new FakeClock();
  return { clock, advance: (ms: number) => clock.advanceSync(ms), pending: () => clock.timers.size };
}

describe('Deadlines', () => {
  it('fires each target once at its deadline, in order, with one timer per duration', () => {
    const { clock, advance, pending } = manualClock();
    const deadlines = new Deadlines(clock);
    const fired: string[] = [];
    const target = (name: string) => ({ onDeadline: () => fired.push(name) });
    deadlines.add(100, target('a'));
    advance(10);
    deadlines.add(100, target('b'));
    deadlines.add(50, target('c'));
    expect(pending()).toBe(2); // one per duration, not one per entry
    advance(59);
    expect(fired).toEqual(['c']);
    advance(40);
    expect(fired).toEqual(['c', 'a']);
    advance(10);
    expect(fired).toEqual(['c', 'a', 'b']);
    expect(pending()).toBe(0);
  });

  it('never fires a cancelled deadline and stops its timer when nothing is left', () => {
    const { clock, advance, pending } = manualClock();
    const deadlines = new Deadlines(clock);
    const fired: string[] = [];
    const first = deadlines.add(100, { onDeadline: () => fired.push('first') });
    advance(30);
    deadlines.add(100, { onDeadline: () => fired.push('second') });
    deadlines.cancel(100, first);
    advance(100);
    expect(fired).toEqual(['second']);
    const last = deadlines.add(100, { onDeadline: () => fired.push('last') });
    deadlines.cancel(100, last);
    advance(100);
    expect(fired).toEqual(['second']);
    expect(pending()).toBe(0);
  });

  it('keeps up with many entries, cancelled and not', () => {
    const { clock, advance } = manualClock();
    const deadlines = new Deadlines(clock);
    let count = 0;
    for (let i = 0; i < 5000; i++) {
      const d = deadlines.add(1000, { onDeadline: () => count++ });
      if (i % 2 === 0) deadlines.cancel(1000, d);
      advance(1);
    }
    advance(1000);
    expect(count).toBe(2500);
  });
});

describe('cancelled entries', () => {
  it('leave the lane at once when they are cancelled in the order they were added', () => {
    const { clock, advance, pending } = manualClock();
    const deadlines = new Deadlines(clock);
    const handles: number[] = [];
    for (let i = 0; i < 3000; i++) handles.push(deadlines.add(100, { onDeadline: () => {} }));
    for (const handle of handles) deadlines.cancel(100, handle);
    expect(deadlines.slots(100)).toBe(0);
    // The lane still works after it was emptied under its armed timer.
    const fired: string[] = [];
    advance(50);
    const kept = deadlines.add(100, { onDeadline: () => fired.push('kept') });
    deadlines.add(100, { onDeadline: () => fired.push('next') });
    deadlines.cancel(100, handles[0]!); // stale: cancels nothing
    advance(99);
    expect(fired).toEqual([]);
    deadlines.cancel(100, kept);
    advance(1);
    expect(fired).toEqual(['next']);
    expect(pending()).toBe(0);
  });

  it('behind a live entry wait until the head reaches them, then leave together', () => {
    const { clock, advance } = manualClock();
    const deadlines = new Deadlines(clock);
    const fired: string[] = [];
    const first = deadlines.add(100, { onDeadline: () => fired.push('first') });
    const second = deadlines.add(100, { onDeadline: () => fired.push('second') });
    deadlines.add(100, { onDeadline: () => fired.push('third') });
    deadlines.cancel(100, second);
    expect(deadlines.slots(100)).toBe(3);
    deadlines.cancel(100, first);
    expect(deadlines.slots(100)).toBe(1);
    advance(100);
    expect(fired).toEqual(['third']);
    expect(deadlines.slots(100)).toBe(0);
  });
});

describe('a stale handle', () => {
  it('cancels nothing once its deadline fired, even in a lane that was emptied and made again', () => {
    const { clock, advance } = manualClock();
    const deadlines = new Deadlines(clock);
    const fired: string[] = [];
    const old = deadlines.add(100, { onDeadline: () => fired.push('old') });
    advance(100);
    const fresh = deadlines.add(100, { onDeadline: () => fired.push('fresh') });
    expect(fresh).not.toBe(old);
    deadlines.cancel(100, old);
    deadlines.cancel(50, fresh); // another duration's lane: not this entry
    advance(100);
    expect(fired).toEqual(['old', 'fresh']);
  });

  it('stays valid after its lane drops the fired entries before it', () => {
    const { clock, advance } = manualClock();
    const deadlines = new Deadlines(clock);
    let count = 0;
    for (let i = 0; i < 3000; i++) deadlines.add(10, { onDeadline: () => count++ });
    advance(5);
    const later: number[] = [];
    for (let i = 0; i < 10; i++) later.push(deadlines.add(10, { onDeadline: () => count++ }));
    advance(5); // the first 3000 fire; the lane is compacted when it re-arms
    expect(count).toBe(3000);
    for (const handle of later) deadlines.cancel(10, handle);
    advance(10);
    expect(count).toBe(3000);
  });
});

describe('a target that throws', () => {
  it('is reported, and the other targets of its lane still fire and later ones stay armed', () => {
    const { clock, advance } = manualClock();
    const errors: unknown[] = [];
    const deadlines = new Deadlines(clock, (_target, error) => errors.push(error));
    const fired: string[] = [];
    const boom = new Error('serializing a reply failed');
    deadlines.add(100, {
      onDeadline() {
        throw boom;
      },
    });
    deadlines.add(100, { onDeadline: () => fired.push('same lane') });
    advance(50);
    deadlines.add(100, { onDeadline: () => fired.push('later') });
    advance(60);
    expect(errors).toEqual([boom]);
    expect(fired).toEqual(['same lane']);
    advance(50);
    expect(fired).toEqual(['same lane', 'later']);
  });
});
