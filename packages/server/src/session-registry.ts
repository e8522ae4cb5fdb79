/** Every live session of this server process: ids, lookup, expiry, and tombstones of cut-off clients. */
import { randomBytes } from 'node:crypto';
import type { Clock, TimerHandle } from './clock.js';
import type { Session, SessionEndReason } from './session.js';

/** 128 random bits as 32 hex characters: unguessable clientIds. */
export function createClientId(): string {
  return randomBytes(16).toString('hex');
}

/** Options of {@link SessionRegistry}. */
export interface SessionRegistryOptions {
  clock: Clock;
  /** Milliseconds without activity after which a session is ended. */
  sessionTimeout: number;
  /** Called for every session ended by the sweep. */
  onExpire(session: Session): void;
}

/**
 * Holds sessions by clientId and expires those whose client stopped connecting.
 * A session with a held `/meta/connect` is alive; otherwise it dies `sessionTimeout` after its
 * client's last request.
 */
export class SessionRegistry {
  private readonly sessions = new Map<string, Session>();
  /** clientId -> the Bayeux error a cut-off client gets instead of `402::Unknown client`. */
  private readonly tombstones = new Map<string, { error: string; until: number }>();
  private timer: TimerHandle | undefined;
  private stopped = false;

  constructor(private readonly options: SessionRegistryOptions) {}

  get size(): number {
    return this.sessions.size;
  }

  get(clientId: unknown): Session | undefined {
    return typeof clientId === 'string' ? this.sessions.get(clientId) : undefined;
  }

  values(): IterableIterator<Session> {
    return this.sessions.values();
  }

  add(session: Session): void {
    this.sessions.set(session.id, session);
    this.schedule();
  }

  /** Removes a session; `error` is remembered for a while so its client learns why. */
  remove(session: Session, reason: SessionEndReason, error?: string): void {
    if (this.sessions.get(session.id) !== session) return;
    this.sessions.delete(session.id);
    if (error && reason === 'overflow') {
      this.tombstones.set(session.id, {
        error,
        until: this.options.clock.now() + this.options.sessionTimeout,
      });
    }
  }

  /** The error a removed client should see, if it was cut off on purpose. */
  tombstone(clientId: unknown): string | undefined {
    if (typeof clientId !== 'string') return undefined;
    const entry = this.tombstones.get(clientId);
    if (!entry) return undefined;
    if (entry.until < this.options.clock.now()) {
      this.tombstones.delete(clientId);
      return undefined;
    }
    return entry.error;
  }

  /** Runs one expiry pass now (the timer calls it; tests may too). */
  sweep(): void {
    const now = this.options.clock.now();
    const deadline = now - this.options.sessionTimeout;
    for (const session of this.sessions.values()) {
      if (!session.isHeld && session.lastSeen < deadline) this.options.onExpire(session);
    }
    for (const [clientId, entry] of this.tombstones) if (entry.until < now) this.tombstones.delete(clientId);
  }

  /** Stops the sweep timer. */
  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.options.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.timer !== undefined || this.stopped) return;
    const every = Math.max(10, Math.min(this.options.sessionTimeout / 4, 5_000));
    this.timer = this.options.clock.setTimeout(() => {
      this.timer = undefined;
      this.sweep();
      if (this.sessions.size > 0 || this.tombstones.size > 0) this.schedule();
    }, every);
  }
}
