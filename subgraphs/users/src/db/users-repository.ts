import { and, asc, count, eq, gt, or, sql } from 'drizzle-orm';
import { preparedPerDatabase, type Database } from '@shop/subgraph';
import * as tables from './schema.js';
import { users, type UserRow } from './schema.js';

export type UsersDatabase = Database<typeof tables>;

const usersByIds = preparedPerDatabase((db: UsersDatabase) =>
  db
    .select()
    .from(users)
    .where(sql`${users.id} = any(${sql.placeholder('ids')})`)
    .prepare('users_by_ids'),
);

export function findUsersByIds(db: UsersDatabase, ids: readonly string[]): Promise<UserRow[]> {
  return usersByIds(db).execute({ ids: [...ids] });
}

export async function findUserByEmail(db: UsersDatabase, email: string): Promise<UserRow | undefined> {
  const [row] = await db
    .select()
    .from(users)
    .where(eq(sql`lower(${users.email})`, email.toLowerCase()))
    .limit(1);
  return row;
}

/** Inserts an account, or returns undefined when the email (in any case) already has one. */
export async function insertUser(
  db: UsersDatabase,
  user: Pick<UserRow, 'email' | 'name' | 'passwordHash'> & Partial<Pick<UserRow, 'role'>>,
): Promise<UserRow | undefined> {
  const [row] = await db.insert(users).values(user).onConflictDoNothing().returning();
  return row;
}

export async function setRoleAndPassword(db: UsersDatabase, id: string, role: UserRow['role'], passwordHash: string) {
  await db.update(users).set({ role, passwordHash }).where(eq(users.id, id));
}

/** A page of accounts, oldest first, after the (createdAt, id) of the cursor. */
export function listUsers(db: UsersDatabase, limit: number, after: { createdAt: Date; id: string } | null) {
  return db
    .select()
    .from(users)
    .where(after ? or(gt(users.createdAt, after.createdAt), and(eq(users.createdAt, after.createdAt), gt(users.id, after.id))) : undefined)
    .orderBy(asc(users.createdAt), asc(users.id))
    .limit(limit);
}

export async function countUsers(db: UsersDatabase): Promise<number> {
  const [row] = await db.select({ total: count() }).from(users);
  return row?.total ?? 0;
}
