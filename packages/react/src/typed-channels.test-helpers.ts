// The channel map both typed-hook test files use (types in typed.test-d.tsx, run time in
// typed.test.tsx), and the hooks typed by it.
import { createPushHooks } from './typed.js';

export interface Quote {
  symbol: string;
  price: number;
}
export interface Chat {
  user: string;
  text: string;
}
export interface Channels {
  '/chat/lobby': Chat;
  [channel: `/stocks/${string}`]: Quote;
}

export const { useChannel, usePresence, usePublish } = createPushHooks<Channels>();
