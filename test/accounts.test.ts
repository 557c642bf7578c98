import { readFileSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { describe, expect, inject, it } from 'vitest';
import { codes, forgedAdminToken, registerCustomer, run, unsignedAdminToken } from './client.js';

/** The development signing key the test stack generated under its DATA_DIR. */
function stackKey(): Uint8Array {
  const { DATA_DIR } = JSON.parse(inject('stackEnv')) as { DATA_DIR: string };
  return new TextEncoder().encode(readFileSync(path.join(DATA_DIR, 'jwt-secret'), 'utf8').trim());
}

describe('Register', () => {
  it('opens a customer account and returns a token for it', async () => {
    const email = `new-${randomUUID()}@test.shop`;
    const response = await run('Register', { input: { email, password: 'long enough', name: 'Ann' } });
    expect(response.errors).toBeUndefined();
    expect(response.data.register.user).toMatchObject({ email, name: 'Ann', role: 'CUSTOMER' });
    const me = await run('Me', {}, response.data.register.token);
    expect(me.data.me.id).toBe(response.data.register.user.id);
  });

  it('gives EMAIL_TAKEN for an email that has an account, in any letter case', async () => {
    const { email } = await registerCustomer();
    const response = await run('Register', { input: { email: email.toUpperCase(), password: 'long enough', name: 'Bob' } });
    expect(codes(response)).toEqual(['EMAIL_TAKEN']);
  });

  it.each([
    ['a bad email', { email: 'not-an-email', password: 'long enough', name: 'Cy' }],
    ['a password under 8 characters', { email: `short-${randomUUID()}@test.shop`, password: 'short', name: 'Cy' }],
    ['an empty name', { email: `noname-${randomUUID()}@test.shop`, password: 'long enough', name: '   ' }],
  ])('gives BAD_USER_INPUT for %s and creates nothing', async (_case, input) => {
    const response = await run('Register', { input });
    expect(codes(response)).toEqual(['BAD_USER_INPUT']);
    const login = await run('Login', { input: { email: input.email, password: input.password } });
    expect(codes(login)).toEqual(['INVALID_CREDENTIALS']);
  });
});

describe('Login', () => {
  it('logs in with the right password, whatever the email case', async () => {
    const { email, password, user } = await registerCustomer();
    const response = await run('Login', { input: { email: email.toUpperCase(), password } });
    expect(response.data.login.user).toEqual({ id: user.id, email, name: user.name, role: 'CUSTOMER' });
    expect((await run('Me', {}, response.data.login.token)).data.me.id).toBe(user.id);
  });

  it('gives INVALID_CREDENTIALS for a wrong password and for an unknown email alike', async () => {
    const { email } = await registerCustomer();
    const wrongPassword = await run('Login', { input: { email, password: 'not the password' } });
    const unknownEmail = await run('Login', { input: { email: `nobody-${randomUUID()}@test.shop`, password: 'whatever1' } });
    expect(codes(wrongPassword)).toEqual(['INVALID_CREDENTIALS']);
    expect(codes(unknownEmail)).toEqual(['INVALID_CREDENTIALS']);
    expect(wrongPassword.errors![0]!.message).toBe(unknownEmail.errors![0]!.message);
    expect(wrongPassword.data).toBeNull();
  });
});

describe('Me', () => {
  it('is null without a token', async () => {
    const response = await run('Me');
    expect(response.errors).toBeUndefined();
    expect(response.data).toEqual({ me: null });
  });

  it('returns the caller with a valid token', async () => {
    const { token, user, email } = await registerCustomer('Dee');
    const response = await run('Me', {}, token);
    expect(response.data.me).toMatchObject({ id: user.id, email, name: 'Dee', role: 'CUSTOMER' });
    expect(new Date(response.data.me.createdAt).getTime()).toBeGreaterThan(Date.now() - 60_000);
  });

  it('gives UNAUTHENTICATED for a token signed with another key', async () => {
    const { user } = await registerCustomer();
    const forged = await forgedAdminToken(user.id);
    const response = await run('Me', {}, forged);
    expect(codes(response)).toEqual(['UNAUTHENTICATED']);
    expect(response.data?.me ?? null).toBeNull();
  });

  it('gives UNAUTHENTICATED for an expired token signed with the right key', async () => {
    const { user } = await registerCustomer();
    const expired = await new SignJWT({ role: 'CUSTOMER' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(user.id)
      .setIssuer('federated-shop')
      .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
      .sign(stackKey());
    const response = await run('Me', {}, expired);
    expect(codes(response)).toEqual(['UNAUTHENTICATED']);
  });

  it('gives UNAUTHENTICATED for an unsigned (alg: none) token', async () => {
    const { user } = await registerCustomer();
    const unsigned = unsignedAdminToken(user.id);
    expect(codes(await run('Me', {}, unsigned))).toEqual(['UNAUTHENTICATED']);
  });
});
