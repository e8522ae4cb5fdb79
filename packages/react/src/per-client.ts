import type { PushClientLike } from './context.js';

/**
 * One `T` per client: made by `create` on first use, then the same one, for as long as the client
 * lives (held weakly, so a dropped client takes its registry with it).
 * @example const registryOf = perClient((client) => new ChannelRegistry(client));
 */
export function perClient<T>(create: (client: PushClientLike) => T): (client: PushClientLike) => T {
  const made = new WeakMap<PushClientLike, T>();
  return (client) => {
    let value = made.get(client);
    if (value === undefined) {
      value = create(client);
      made.set(client, value);
    }
    return value;
  };
}
