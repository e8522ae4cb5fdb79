/** Every live session of this server process: ids, lookup, expiry, and tombstones of cut-off clients. */
import { randomBytes } from 'node:crypto';
import type { Clock, TimerHandle } from './clock.js';
import { credentialsExpired } from './credentials.js';
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
  /**
   * Called for a session whose identity's `expiresAt` has passed (it must authenticate again).
   * @defaultValue such sessions are ended like idle ones, through `onExpire`
   */
  onCredentialsExpire?(session: Session): void;
}

/**
 * Holds sessions by clientId and expires those whose client stopped connecting.
 * A session with a held `/meta/connect` is alive; otherwise it dies `sessionTimeout` after its
 * client's last request. A session whose credentials expire (`identity.expiresAt`) dies then,
 * held or not: the sweep runs at the earliest such time, not only on its regular beat.
 */
export class SessionRegistry {
  private readonly sessions = new Map<string, Session>();
  /** clientId -> the Bayeux error a cut-off client gets instead of `402::Unknown client`. */
  private readonly tombstones = new Map<string, { error: string; until: number }>();
  private timer: TimerHandle | undefined;
  /** When the armed timer fires (to tell whether an earlier credential expiry needs it sooner). */
  private timerAt = Number.POSITIVE_INFINITY;
  /** The earliest `identity.expiresAt` among live sessions (a lower bound; the sweep refreshes it). */
  private nextCredentialExpiry = Number.POSITIVE_INFINITY;
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
    const expiresAt = session.identity.expiresAt;
    if (typeof expiresAt === 'number' && expiresAt < this.nextCredentialExpiry) {
      this.nextCredentialExpiry = expiresAt;
      // The armed sweep would come too late for this session: re-arm it for its expiry.
      if (this.timer !== undefined && expiresAt < this.timerAt) {
        this.options.clock.clearTimeout(this.timer);
        this.timer = undefined;
      }
    }
    this.schedule();
  }

  /** Removes a session; `error` is remembered for a while so its client learns why. */
  remove(session: Session, reason: SessionEndReason, error?: string): void {
    if (this.sessions.get(session.id) !== session) return;
    this.sessions.delete(session.id);
    // Cut off on purpose (queue overflow, expired credentials): its next request learns why.
    if (error && (reason === 'overflow' || reason === 'expired')) {
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
    const checkCredentials = this.nextCredentialExpiry <= now;
    let nextCredentialExpiry = checkCredentials ? Number.POSITIVE_INFINITY : this.nextCredentialExpiry;
    for (const session of this.sessions.values()) {
      if (checkCredentials && session.identity.expiresAt !== undefined) {
        if (credentialsExpired(session.identity, now)) {
          (this.options.onCredentialsExpire ?? this.options.onExpire)(session);
          continue;
        }
        nextCredentialExpiry = Math.min(nextCredentialExpiry, session.identity.expiresAt);
      }
      if (!session.isHeld && session.lastSeen < deadline) this.options.onExpire(session);
    }
    this.nextCredentialExpiry = nextCredentialExpiry;
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
    const now = this.options.clock.now();
    const delay = Math.max(1, Math.min(every, this.nextCredentialExpiry - now));
    this.timerAt = now + delay;
    this.timer = this.options.clock.setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Number.POSITIVE_INFINITY;
      this.sweep();
      if (this.sessions.size > 0 || this.tombstones.size > 0) this.schedule();
    }, delay);
  }
}
