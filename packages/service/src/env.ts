import path from 'node:path';

export const isProduction = process.env.NODE_ENV === 'production';

/**
 * Directory for embedded databases and development keys: `DATA_DIR`, else `.data` where npm was invoked
 * (INIT_CWD), so `npm start -w subgraphs/products` run from the repository root shares the root's `.data`.
 */
export function dataDir(): string {
  return path.resolve(process.env.DATA_DIR ?? path.join(process.env.INIT_CWD ?? process.cwd(), '.data'));
}

export function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new Error(`${name} must be a number, got "${raw}"`);
  return value;
}

/** The port a service listens on: its own env var (for example `USERS_PORT`), then `PORT`, then the default. */
export function servicePort(envName: string, fallback: number): number {
  return envInt(envName, envInt('PORT', fallback));
}
