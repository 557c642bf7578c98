/**
 * Token verification. Verified tokens are remembered (each request carries the same token to every subgraph),
 * so these check that what is remembered never outlives the token or lets a different one through.
 */
import { SignJWT } from 'jose';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { signToken, verifyToken } from '../src/auth.js';

beforeAll(() => {
  process.env.JWT_SECRET ??= 'a-test-secret-that-is-at-least-32-characters-long';
});
afterEach(() => {
  vi.useRealTimers();
});

const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'verified',
    (error: { extensions?: { code?: string } }) => error.extensions?.code,
  );

describe('verifyToken', () => {
  it('gives the viewer of a signed token, the second time too', async () => {
    const token = await signToken({ id: 'a2b6b1d4-56f4-4d1c-9d55-3c8d0f5f0d01', role: 'CUSTOMER' });
    expect(await verifyToken(token)).toEqual({ id: 'a2b6b1d4-56f4-4d1c-9d55-3c8d0f5f0d01', role: 'CUSTOMER' });
    expect(await verifyToken(token)).toEqual({ id: 'a2b6b1d4-56f4-4d1c-9d55-3c8d0f5f0d01', role: 'CUSTOMER' });
  });

  it('refuses a remembered token once it has expired', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const token = await signToken({ id: '7f1e3c55-0a3b-4c8e-a1f2-6d7e8f9a0b1c', role: 'CUSTOMER' }, '1h');
    expect(await codeOf(verifyToken(token))).toBe('verified');
    vi.setSystemTime(Date.now() + 61 * 60 * 1000);
    expect(await codeOf(verifyToken(token))).toBe('UNAUTHENTICATED');
    expect(await codeOf(verifyToken(token))).toBe('UNAUTHENTICATED');
  });

  it('does not let a token with a changed payload ride on a remembered one', async () => {
    const token = await signToken({ id: '0c9d8e7f-6a5b-4c3d-9e1f-2a3b4c5d6e7f', role: 'CUSTOMER' });
    await verifyToken(token);
    const [header, , signature] = token.split('.');
    const admin = Buffer.from(
      JSON.stringify({ role: 'ADMIN', sub: '0c9d8e7f-6a5b-4c3d-9e1f-2a3b4c5d6e7f', iss: 'federated-shop', exp: 4e9 }),
    ).toString('base64url');
    expect(await codeOf(verifyToken(`${header}.${admin}.${signature}`))).toBe('UNAUTHENTICATED');
  });

  it('refuses a token signed with another key', async () => {
    const forged = await new SignJWT({ role: 'ADMIN' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('0c9d8e7f-6a5b-4c3d-9e1f-2a3b4c5d6e7f')
      .setIssuer('federated-shop')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('another-secret-that-is-also-32-characters-long'));
    expect(await codeOf(verifyToken(forged))).toBe('UNAUTHENTICATED');
  });
});
