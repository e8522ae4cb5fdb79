/** A ready `authenticate` hook that verifies a JWT sent as `ext.auth.token` in the handshake. */
import type { JWTPayload, JWTVerifyGetKey } from 'jose';
import { PushServerError } from '../errors.js';
import type { Authenticate, PushIdentity } from '../options.js';

/** Options of {@link jwtAuthenticator}: give `secret` (HMAC) or `jwks` (a URL of a JWK set) or `key`. */
export interface JwtAuthenticatorOptions {
  /** Shared secret for HS256/384/512. */
  secret?: string | Uint8Array;
  /** URL of a JSON Web Key Set (fetched and cached by jose). */
  jwks?: string | URL;
  /** A key resolver or key of your own (e.g. from `importSPKI`). */
  key?: JWTVerifyGetKey | CryptoKey | Uint8Array;
  /** Expected `iss`. */
  issuer?: string | string[];
  /** Expected `aud`. */
  audience?: string | string[];
  /** Accepted algorithms. @defaultValue jose's default for the key type */
  algorithms?: string[];
  /** Allowed clock skew in seconds. @defaultValue 5 */
  clockTolerance?: number;
  /**
   * Whether a token must carry `exp`. A token without one would be valid forever, and so would
   * every session opened with it: leave this on unless your tokens are revoked some other way.
   * @defaultValue true
   */
  requireExpiry?: boolean;
  /**
   * Maps verified claims to the session identity. Its `expiresAt` is set from `exp` (plus
   * `clockTolerance`) unless the mapper sets one. @defaultValue `{ id: sub, claims }`
   */
  identity?: (claims: JWTPayload) => PushIdentity;
}

/**
 * Builds an `authenticate` hook: the handshake must carry `ext: { auth: { token } }` with a JWT
 * that verifies and (unless `requireExpiry: false`) has an `exp`; the identity is
 * `{ id: claims.sub, claims, expiresAt }`. Anything else is refused with
 * `401::Authentication failed`. When the token expires the server ends the session with
 * `401::Token expired` and `advice.reconnect: 'handshake'`: a client whose `auth` option is a
 * function fetches a fresh token and resumes its subscriptions.
 * @example
 * createPushServer({ server, authenticate: jwtAuthenticator({ secret: process.env.JWT_SECRET!, audience: 'push' }) });
 */
export function jwtAuthenticator(options: JwtAuthenticatorOptions): Authenticate {
  if (options.key === undefined && options.secret === undefined && options.jwks === undefined)
    throw new PushServerError('invalid-option', 'jwtAuthenticator needs one of "secret", "jwks" or "key"');
  const jwks = options.jwks === undefined ? undefined : new URL(options.jwks);
  const toIdentity: (claims: JWTPayload) => PushIdentity =
    options.identity ?? ((claims: JWTPayload) => ({ ...(claims.sub ? { id: claims.sub } : {}), claims }));
  const clockTolerance = options.clockTolerance ?? 5;
  const verifyOptions = {
    ...(options.issuer !== undefined ? { issuer: options.issuer } : {}),
    ...(options.audience !== undefined ? { audience: options.audience } : {}),
    ...(options.algorithms !== undefined ? { algorithms: options.algorithms } : {}),
    clockTolerance,
    ...(options.requireExpiry === false ? {} : { requiredClaims: ['exp'] }),
  };
  // jose is loaded with the first handshake that carries a token, not with the server.
  let verifier: Promise<(token: string) => Promise<{ payload: JWTPayload }>> | undefined;
  const createVerifier = async () => {
    const { createRemoteJWKSet, jwtVerify } = await import('jose');
    const key: JWTVerifyGetKey | CryptoKey | Uint8Array =
      options.key ??
      (options.secret !== undefined
        ? typeof options.secret === 'string'
          ? new TextEncoder().encode(options.secret)
          : options.secret
        : createRemoteJWKSet(jwks as URL));
    return (token: string) =>
      typeof key === 'function' ? jwtVerify(token, key, verifyOptions) : jwtVerify(token, key, verifyOptions);
  };
  return async (handshake) => {
    const token = handshake.ext?.auth?.token;
    if (typeof token !== 'string' || token.length === 0 || token.length > 8192) return undefined;
    verifier ??= createVerifier();
    try {
      const { payload } = await (await verifier)(token);
      const identity = toIdentity(payload);
      if (identity.expiresAt !== undefined || typeof payload.exp !== 'number') return identity;
      // The same skew jose allowed at verification, so an accepted token never opens a session
      // that is already over.
      return { ...identity, expiresAt: (payload.exp + clockTolerance) * 1000 };
    } catch {
      return undefined;
    }
  };
}
