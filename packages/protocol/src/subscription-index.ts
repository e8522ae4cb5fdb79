/**
 * A segment trie from channel patterns to subscribers. Matching a channel costs O(depth),
 * whatever the number of subscriptions: each trie node holds the subscribers of the exact
 * channel, of `node/*` and of `node/**`.
 */
import { assertChannel } from './channel.js';

interface TrieNode<T> {
  children: Map<string, TrieNode<T>>;
  exact: Set<T>;
  one: Set<T>;
  deep: Set<T>;
}

function createNode<T>(): TrieNode<T> {
  return { children: new Map(), exact: new Set(), one: new Set(), deep: new Set() };
}

function isEmpty<T>(node: TrieNode<T>): boolean {
  return node.children.size === 0 && node.exact.size === 0 && node.one.size === 0 && node.deep.size === 0;
}

/**
 * Maps channel patterns to subscribers and finds every subscriber of a channel.
 * @example
 * const index = new SubscriptionIndex<string>();
 * index.add('/stocks/*', 'alice');
 * index.match('/stocks/aex'); // Set { 'alice' }
 */
export class SubscriptionIndex<T> {
  private readonly root: TrieNode<T> = createNode();
  private count = 0;

  /** Number of (pattern, subscriber) pairs held. */
  get size(): number {
    return this.count;
  }

  /** Adds a subscription; returns false when it was already there. Throws on an invalid pattern. */
  add(pattern: string, subscriber: T): boolean {
    const parsed = assertChannel(pattern, true);
    let node = this.root;
    for (const segment of parsed.segments) {
      let child = node.children.get(segment);
      if (!child) {
        child = createNode();
        node.children.set(segment, child);
      }
      node = child;
    }
    const set = parsed.wildcard === 'one' ? node.one : parsed.wildcard === 'deep' ? node.deep : node.exact;
    if (set.has(subscriber)) return false;
    set.add(subscriber);
    this.count++;
    return true;
  }

  /** Removes a subscription; returns false when it was not there. Prunes empty trie nodes. */
  remove(pattern: string, subscriber: T): boolean {
    const parsed = assertChannel(pattern, true);
    const path: TrieNode<T>[] = [this.root];
    let node = this.root;
    for (const segment of parsed.segments) {
      const child = node.children.get(segment);
      if (!child) return false;
      node = child;
      path.push(node);
    }
    const set = parsed.wildcard === 'one' ? node.one : parsed.wildcard === 'deep' ? node.deep : node.exact;
    if (!set.delete(subscriber)) return false;
    this.count--;
    for (let i = parsed.segments.length; i > 0; i--) {
      const current = path[i]!;
      if (!isEmpty(current)) break;
      path[i - 1]!.children.delete(parsed.segments[i - 1]!);
    }
    return true;
  }

  /** True when at least one subscriber matches `channel`. */
  hasMatch(channel: string): boolean {
    let found = false;
    this.forEachMatch(channel, () => {
      found = true;
    });
    return found;
  }

  /** Every subscriber whose pattern matches the concrete `channel`, each once. */
  match(channel: string): Set<T> {
    const result = new Set<T>();
    this.forEachMatch(channel, (subscriber) => result.add(subscriber));
    return result;
  }

  /**
   * Calls `visit` for each (subscriber, pattern set) match without allocating a result set.
   * A subscriber matched by several patterns is visited once per pattern: use {@link match} to dedupe.
   */
  forEachMatch(channel: string, visit: (subscriber: T) => void): void {
    const parsed = assertChannel(channel, false);
    const segments = parsed.segments;
    let node: TrieNode<T> | undefined = this.root;
    for (let depth = 0; depth < segments.length && node; depth++) {
      for (const subscriber of node.deep) visit(subscriber);
      if (depth === segments.length - 1) for (const subscriber of node.one) visit(subscriber);
      node = node.children.get(segments[depth]!);
    }
    if (node) for (const subscriber of node.exact) visit(subscriber);
  }
}
