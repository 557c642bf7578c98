import { hash, verify } from '@node-rs/argon2';

// OWASP Password Storage Cheat Sheet: argon2id, 19 MiB of memory, 2 iterations, 1 lane.
const ARGON2ID = {
  algorithm: 2 /* Algorithm.Argon2id: a const enum, which isolatedModules cannot read */,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const;

export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2ID);
}

/** Verifies against a real hash even when there is no account, so a missing email costs the same time. */
let decoyHash: Promise<string> | undefined;
export async function verifyPassword(storedHash: string | undefined, password: string): Promise<boolean> {
  decoyHash ??= hashPassword('decoy password for unknown accounts');
  const matches = await verify(storedHash ?? (await decoyHash), password).catch(() => false);
  return storedHash !== undefined && matches;
}
