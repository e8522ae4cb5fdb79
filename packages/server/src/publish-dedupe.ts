/**
 * Publish de-duplication by idempotency key (`ext.push.key`): within a time window the server
 * publishes a key once and answers a repeat with the first publish's result. `@push/client` sends
 * a publish again with the same key when its connection dropped before the ack, or when a page
 * reloads with publishes left in its persistent outbox; this is what makes those resends harmless.
 *
 * Keys are scoped to who publishes: the identity's `id` from `authenticate` when there is one,
 * else one shared anonymous scope. Not to the session: a reloaded page has a new session and its
 * resends must still match. Another user cannot suppress a publish of yours, since their keys
 * live in their own scope; anonymous clients share a scope, where a key protects a publish because
 * it is 128 random bits that only the publisher and this server see (it is not relayed to
 * subscribers). The key is matched together with the channel.
 *
 * The store is bounded: keys older than `window` are forgotten, and past `maxKeys` the oldest key
 * is evicted first (a repeat of an evicted key is published again). It lives in this server
 * process: with several nodes behind a broker, a repeat that reaches another node is published
 * again (route a client's requests to one node, e.g. sticky sessions, to keep the promise).
 */
import { bayeuxErrors, MAX_PUBLISH_KEY_LENGTH, type Message } from '@push/protocol';
import type { Clock } from './clock.js';
import type { PushIdentity } from './options.js';

/** Bounds of the key store (`publishDedupe` option). */
export interface PublishDedupeOptions {
  /** Milliseconds a key is remembered. @defaultValue 300_000 (the memory broker's history age) */
  window?: number;
  /** Keys remembered at most; past it the oldest is forgotten first. @defaultValue 50_000 */
  maxKeys?: number;
}

/** Where a de-duplicated publish went: the first publish's position in its channel history. */
export interface PublishedAt {
  offset: number;
  epoch: string;
}

interface Entry {
  at: number;
  result: Promise<PublishedAt>;
}

/**
 * The key store of one server.
 * @example
 * const dedupe = new PublishDedupe({ window: 300_000, maxKeys: 50_000 }, systemClock);
 * const at = await dedupe.once(scopeOf(identity), channel, key, () => engine.publish(input));
 */
export class PublishDedupe {
  private readonly entries = new Map<string, Entry>();

  constructor(
    readonly options: Required<PublishDedupeOptions>,
    private readonly clock: Clock,
  ) {}

  /** Keys remembered now (expired ones are dropped lazily, on the next `once`). */
  get size(): number {
    return this.entries.size;
  }

  /**
   * Runs `publish` unless `key` was seen in `scope` on `channel` within the window; a repeat gets
   * the first call's result (waiting for it if it is still running). A publish that fails is
   * forgotten, so a resend of it is published.
   */
  once(
    scope: string,
    channel: string,
    key: string,
    publish: () => Promise<PublishedAt>,
  ): Promise<PublishedAt> {
    const now = this.clock.now();
    // The map is in insertion order, so expired keys are at its front.
    for (const [id, entry] of this.entries) {
      if (entry.at + this.options.window > now) break;
      this.entries.delete(id);
    }
    const id = JSON.stringify([scope, channel, key]);
    const seen = this.entries.get(id);
    if (seen) return seen.result;
    if (this.entries.size >= this.options.maxKeys) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    const result = publish();
    const entry = { at: now, result };
    this.entries.set(id, entry);
    result.catch(() => {
      if (this.entries.get(id) === entry) this.entries.delete(id);
    });
    return result;
  }
}

/** The scope keys of `identity` live in: its `id`, else the shared anonymous scope. */
export function dedupeScope(identity: PushIdentity): string {
  return typeof identity.id === 'string' ? `id:${identity.id}` : 'anonymous';
}

/**
 * The idempotency key of a publish: `{ key }` (undefined when it has none) or `{ error }`, a
 * Bayeux 400 for a key that is not a string of 1 to {@link MAX_PUBLISH_KEY_LENGTH} characters.
 */
export function publishKey(message: Message): { key?: string; error?: string } {
  const push = message.ext?.push;
  const key: unknown = push && typeof push === 'object' ? push.key : undefined;
  if (key === undefined) return {};
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_PUBLISH_KEY_LENGTH) {
    return {
      error: bayeuxErrors.badRequest(
        `ext.push.key must be a string of 1 to ${MAX_PUBLISH_KEY_LENGTH} characters`,
      ),
    };
  }
  return { key };
}
