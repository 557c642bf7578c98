import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { clientError, dataDir, isProduction } from '@shop/service';

const ISSUER = 'federated-shop';
const ALGORITHM = 'HS256';

/** Who is calling, as proven by a verified token. Services never take identity from any other header. */
export interface Viewer {
  id: string;
  role: string;
}

let keyPromise: Promise<Uint8Array> | undefined;

/**
 * The HMAC key: `JWT_SECRET`, required in production. In development a random key is generated once under
 * DATA_DIR so that all services started from the same checkout agree on it.
 */
export function signingKey(): Promise<Uint8Array> {
  keyPromise ??= loadKey();
  return keyPromise;
}

async function loadKey(): Promise<Uint8Array> {
  const secret = process.env.JWT_SECRET;
  if (secret) {
    if (secret.length < 32) throw new Error('JWT_SECRET must be at least 32 characters');
    return new TextEncoder().encode(secret);
  }
  if (isProduction) throw new Error('JWT_SECRET is required when NODE_ENV=production');
  const file = path.join(dataDir(), 'jwt-secret');
  await mkdir(dataDir(), { recursive: true });
  try {
    // `wx` fails if another service created the key first; then we read theirs.
    await writeFile(file, randomBytes(48).toString('base64url'), { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  for (;;) {
    const key = (await readFile(file, 'utf8')).trim();
    if (key.length >= 32) return new TextEncoder().encode(key);
    await new Promise((resolve) => setTimeout(resolve, 20)); // written but not yet flushed by a sibling
  }
}

export async function signToken(viewer: Viewer, expiresIn = process.env.JWT_TTL ?? '12h'): Promise<string> {
  return new SignJWT({ role: viewer.role })
    .setProtectedHeader({ alg: ALGORITHM })
    .setSubject(viewer.id)
    .setIssuer(ISSUER)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(await signingKey());
}

/**
 * Tokens whose signature has been verified, with their expiry. A customer's token comes back with every request
 * to every subgraph, and WebCrypto's HMAC costs about 0.4 ms of CPU each time (the bench's profiles). Only
 * verified tokens are kept, so the cache holds what we issued; the oldest go first past the cap.
 */
const verified = new Map<string, { viewer: Viewer; expiresAt: number }>();
const VERIFIED_CAP = 10_000;

/** Verifies a token's signature, algorithm, issuer and expiry; anything wrong is UNAUTHENTICATED. */
export async function verifyToken(token: string): Promise<Viewer> {
  const known = verified.get(token);
  if (known) {
    if (Date.now() < known.expiresAt) return known.viewer;
    verified.delete(token);
    throw clientError('UNAUTHENTICATED', 'Your session has expired; log in again');
  }
  try {
    const { payload } = await jwtVerify(token, await signingKey(), { issuer: ISSUER, algorithms: [ALGORITHM] });
    if (typeof payload.sub !== 'string' || typeof payload.role !== 'string' || typeof payload.exp !== 'number') {
      throw new joseErrors.JWTInvalid('claims');
    }
    const viewer = { id: payload.sub, role: payload.role };
    if (verified.size >= VERIFIED_CAP) verified.delete(verified.keys().next().value!);
    verified.set(token, { viewer, expiresAt: payload.exp * 1000 });
    return viewer;
  } catch (error) {
    if (error instanceof joseErrors.JOSEError) {
      const expired = error instanceof joseErrors.JWTExpired;
      throw clientError('UNAUTHENTICATED', expired ? 'Your session has expired; log in again' : 'Invalid token');
    }
    throw error;
  }
}

/**
 * Reads `Authorization: Bearer <token>`. No header means an anonymous caller (null); a header that does not
 * verify is an error, never silently anonymous.
 */
export async function viewerFromAuthorization(header: string | undefined): Promise<Viewer | null> {
  if (!header) return null;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) throw clientError('UNAUTHENTICATED', 'Authorization must be "Bearer <token>"');
  return verifyToken(match[1]!);
}

/** Role every admin-only field and mutation checks. */
export const ADMIN_ROLE = 'ADMIN';
/** Role of service-to-service tokens (the orders subgraph reserving stock). */
export const SERVICE_ROLE = 'SERVICE';

export function requireViewer(viewer: Viewer | null): Viewer {
  if (!viewer) throw clientError('UNAUTHENTICATED', 'Log in to do this');
  return viewer;
}

export function requireRole(viewer: Viewer | null, role: string): Viewer {
  const known = requireViewer(viewer);
  if (known.role !== role) throw clientError('FORBIDDEN', 'You are not allowed to do this');
  return known;
}
