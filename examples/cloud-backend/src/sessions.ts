import { SignJWT, errors, jwtVerify } from 'jose';
import { HttpError } from './http.js';

const ISSUER = 'openclaw-mt-example-backend';
const AUDIENCE = 'openclaw-mt-user';

/** Issues and checks user sessions: HS256 JWTs whose subject is the user id. */
export interface Sessions {
  issue(userId: string): Promise<{ accessToken: string; expiresIn: number }>;
  /** The user id of a valid session token; throws 401 otherwise. */
  verify(token: string): Promise<string>;
}

/** Sessions signed with `secret` (at least 32 characters), valid for `ttlSeconds`. */
export function createSessions(secret: string, ttlSeconds: number, now: () => number): Sessions {
  const key = new TextEncoder().encode(secret);
  return {
    async issue(userId) {
      const issuedAt = Math.floor(now() / 1000);
      const accessToken = await new SignJWT({})
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(userId)
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setIssuedAt(issuedAt)
        .setExpirationTime(issuedAt + ttlSeconds)
        .sign(key);
      return { accessToken, expiresIn: ttlSeconds };
    },
    async verify(token) {
      try {
        const { payload } = await jwtVerify(token, key, {
          algorithms: ['HS256'],
          issuer: ISSUER,
          audience: AUDIENCE,
          currentDate: new Date(now()),
        });
        if (typeof payload.sub !== 'string' || payload.sub.length === 0)
          throw new HttpError(401, 'UNAUTHORIZED', 'The session token has no subject.');
        return payload.sub;
      } catch (error) {
        if (error instanceof HttpError) throw error;
        const expired = error instanceof errors.JWTExpired;
        throw new HttpError(401, 'UNAUTHORIZED', expired ? 'The session expired; log in again.' : 'Invalid session token; log in again.', {
          'www-authenticate': `Bearer error="invalid_token"`,
        });
      }
    },
  };
}
