import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import postgres from 'postgres';
import { ServiceProcess, freePort } from '../scripts/stack.js';

/**
 * Rate limits across replicas (issue 12, item 7): two users processes on one PostgreSQL database and one Redis
 * (REDIS_URL), as two replicas behind a load balancer. The router's calls are made directly here, with the
 * router's secret and the client's address in x-client-ip, alternating between the replicas: the limits must
 * hold for the two together, not per replica.
 *
 * Two processes cannot share one embedded PGlite, so this file always runs on PostgreSQL: TEST_POSTGRES_URL, or
 * the machine's own server (CI starts it), whichever driver the rest of the run uses. Redis is REDIS_URL, or the
 * machine's own at 127.0.0.1:6379 (CI starts it too).
 */

const POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const ROUTER_SECRET = `router-secret-${randomUUID()}`;
const LIMITS = { loginPerEmail: 3, loginPerIp: 5, registerPerIp: 2 };

const database = `shop_rate_limits_${Date.now().toString(36)}_${process.pid}`;
const replicas: ServiceProcess[] = [];

/** The x-client-ip of one client of this run: fresh each time, so runs sharing the Redis never meet. */
const newClient = () => `client-${randomUUID()}`;

async function call(replica: ServiceProcess, clientIp: string, query: string, variables: Record<string, unknown>) {
  const response = await fetch(`${replica.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-router-secret': ROUTER_SECRET, 'x-client-ip': clientIp },
    body: JSON.stringify({ query, variables }),
  });
  expect(response.status).toBe(200);
  const body = (await response.json()) as { errors?: { extensions?: { code?: string } }[]; data?: unknown };
  return body.errors?.[0]?.extensions?.code ?? 'OK';
}

const LOGIN = 'mutation($input: LoginInput!) { login(input: $input) { token } }';
const REGISTER = 'mutation($input: RegisterInput!) { register(input: $input) { token } }';
const login = (replica: ServiceProcess, clientIp: string, email: string, password = 'wrong password') =>
  call(replica, clientIp, LOGIN, { input: { email, password } });
const register = (replica: ServiceProcess, clientIp: string, email: string) =>
  call(replica, clientIp, REGISTER, { input: { email, password: 'long enough', name: 'Shared' } });

beforeAll(async () => {
  const admin = postgres(POSTGRES_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${database}`);
  await admin.end();
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${database}`;
  const env = {
    USERS_DATABASE_URL: url.toString(),
    REDIS_URL,
    ROUTER_SECRET,
    JWT_SECRET: `rate-limits-test-key-${randomUUID()}`,
    LOG_LEVEL: 'warn',
    SEED_DEMO: 'false',
    RATE_LIMIT_LOGIN_PER_EMAIL: String(LIMITS.loginPerEmail),
    RATE_LIMIT_LOGIN_PER_IP: String(LIMITS.loginPerIp),
    RATE_LIMIT_REGISTER_PER_IP: String(LIMITS.registerPerIp),
  };
  // One after the other: the second finds the database migrated.
  for (let i = 0; i < 2; i += 1) {
    const replica = new ServiceProcess('users', await freePort(), env);
    replicas.push(replica);
    await replica.start();
  }
}, 180_000);

afterAll(async () => {
  await Promise.all(replicas.map((replica) => replica.stop('SIGTERM')));
  const admin = postgres(POSTGRES_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`drop database if exists ${database} with (force)`);
  await admin.end();
}, 60_000);

describe('two users replicas sharing their counters through Redis', () => {
  it('limits failed logins per account across the replicas', async () => {
    const [a, b] = replicas as [ServiceProcess, ServiceProcess];
    const email = `shared-${randomUUID()}@test.shop`;
    const client = newClient();
    expect(await register(a, client, email)).toBe('OK');
    // Three failures, spread over both replicas, spend the account's limit on both.
    expect(await login(a, newClient(), email)).toBe('INVALID_CREDENTIALS');
    expect(await login(b, newClient(), email)).toBe('INVALID_CREDENTIALS');
    expect(await login(a, newClient(), email)).toBe('INVALID_CREDENTIALS');
    expect(await login(b, newClient(), email)).toBe('RATE_LIMITED');
    expect(await login(a, newClient(), email, 'long enough')).toBe('RATE_LIMITED');
  });

  it('limits failed logins per client address across the replicas, and other addresses are unaffected', async () => {
    const client = newClient();
    for (let i = 0; i < LIMITS.loginPerIp; i += 1) {
      expect(await login(replicas[i % 2]!, client, `unknown-${randomUUID()}@test.shop`)).toBe('INVALID_CREDENTIALS');
    }
    for (const replica of replicas) expect(await login(replica, client, `unknown-${randomUUID()}@test.shop`)).toBe('RATE_LIMITED');
    expect(await login(replicas[1]!, newClient(), `unknown-${randomUUID()}@test.shop`)).toBe('INVALID_CREDENTIALS');
  });

  it('limits registrations per client address across the replicas', async () => {
    const client = newClient();
    expect(await register(replicas[0]!, client, `reg-${randomUUID()}@test.shop`)).toBe('OK');
    expect(await register(replicas[1]!, client, `reg-${randomUUID()}@test.shop`)).toBe('OK');
    for (const replica of replicas) expect(await register(replica, client, `reg-${randomUUID()}@test.shop`)).toBe('RATE_LIMITED');
  });

  it('lets exactly the limit through when attempts on one account race on both replicas', async () => {
    const email = `race-${randomUUID()}@test.shop`;
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => login(replicas[i % 2]!, newClient(), email)));
    expect(results.filter((code) => code === 'INVALID_CREDENTIALS')).toHaveLength(LIMITS.loginPerEmail);
    expect(results.filter((code) => code === 'RATE_LIMITED')).toHaveLength(12 - LIMITS.loginPerEmail);
  });
});
