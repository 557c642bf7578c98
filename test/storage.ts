import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SUBGRAPH_NAMES } from '@shop/service/services';
import postgres from 'postgres';

/**
 * Fresh storage for a stack of test processes: a temporary DATA_DIR (PGlite), and with `TEST_POSTGRES_URL` (a
 * server URL) a new PostgreSQL database per subgraph. `env` goes to the stack; `remove` deletes it all.
 */
export async function freshStorage(label: string): Promise<{ env: Record<string, string>; remove: () => Promise<void> }> {
  const dataDir = await mkdtemp(path.join(tmpdir(), `shop-${label}-`));
  const env: Record<string, string> = { DATA_DIR: dataDir };
  const serverUrl = process.env.TEST_POSTGRES_URL;
  // A plain identifier, whatever the label: the statements below cannot take a bound parameter for it.
  const prefix = `shop_${label.replace(/[^A-Za-z0-9_]/g, '_')}`;
  const databases = SUBGRAPH_NAMES.map((name) => ({ name, database: `${prefix}_${name}_${Date.now().toString(36)}_${process.pid}` }));
  if (serverUrl) {
    const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
    for (const { name, database } of databases) {
      await admin.unsafe(`create database ${database}`);
      const url = new URL(serverUrl);
      url.pathname = `/${database}`;
      env[`${name.toUpperCase()}_DATABASE_URL`] = url.toString();
    }
    await admin.end();
  }
  return {
    env,
    remove: async () => {
      await rm(dataDir, { recursive: true, force: true });
      if (!serverUrl) return;
      const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
      for (const { database } of databases) await admin.unsafe(`drop database if exists ${database} with (force)`);
      await admin.end();
    },
  };
}
