import { hashPassword } from './passwords.js';
import { findUserByEmail, insertUser, setRoleAndPassword, type UsersDatabase } from './db/users-repository.js';
import type { Logger } from '@shop/service';

export const DEMO_CUSTOMER = { email: 'demo@shop.test', password: 'demo-password', name: 'Demo Customer' };

/** With ADMIN_EMAIL and ADMIN_PASSWORD set, that account exists, is an admin and has that password. */
export async function ensureAdmin(db: UsersDatabase, logger: Logger): Promise<void> {
  const email = process.env.ADMIN_EMAIL;
  const password = process.env.ADMIN_PASSWORD;
  if (!email || !password) return;
  const passwordHash = await hashPassword(password);
  const existing = await findUserByEmail(db, email);
  if (existing) await setRoleAndPassword(db, existing.id, 'ADMIN', passwordHash);
  else await insertUser(db, { email, name: 'Administrator', role: 'ADMIN', passwordHash });
  logger.info({ email }, 'admin account ready');
}

/** `SEED_DEMO=true` (set by `npm start`): a demo customer, unless the account exists already. */
export async function seedDemoCustomer(db: UsersDatabase): Promise<void> {
  if (process.env.SEED_DEMO !== 'true') return;
  if (await findUserByEmail(db, DEMO_CUSTOMER.email)) return;
  const { email, name, password } = DEMO_CUSTOMER;
  await insertUser(db, { email, name, passwordHash: await hashPassword(password) });
}
