'use client';

import { type RefObject, useInsertionEffect, useRef } from 'react';

/**
 * Runs `task` on a later macrotask unless cancelled first. Releases (unsubscribe, leave, close)
 * go through this so that React StrictMode's mount -> unmount -> mount, Fast Refresh and quick
 * remounts re-acquire the same resource instead of tearing it down and creating it again.
 *
 * @example
 * const cancel = defer(() => sub.unsubscribe());
 * cancel(); // remounted in time: keep the subscription
 */
export function defer(task: () => void): () => void {
  const timer = setTimeout(task, 0);
  return () => clearTimeout(timer);
}

/**
 * A ref that always holds the value of the latest committed render, so callbacks registered once
 * (a channel handler) call the newest function without resubscribing. Updated in an insertion
 * effect: before any layout or passive effect, never during rendering, and silent on the server
 * (unlike `useLayoutEffect` under React 18).
 *
 * @example
 * const handlerRef = useLatest(handler);
 * useEffect(() => client.on('error', (e) => handlerRef.current(e)), [client]);
 */
export function useLatest<T>(value: T): RefObject<T> {
  const ref = useRef(value);
  useInsertionEffect(() => {
    ref.current = value;
  });
  return ref;
}
