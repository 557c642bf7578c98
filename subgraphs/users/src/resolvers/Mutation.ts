import { clientError } from '@shop/service';
import { boundedText, signToken } from '@shop/subgraph';
import { findUserByEmail, insertUser } from '../db/users-repository.js';
import type { UserRow } from '../db/schema.js';
import type { MutationResolvers } from '../generated/resolvers-types.js';
import { hashPassword, verifyPassword } from '../passwords.js';
import { accountGuard } from '../rate-limit.js';

// Deliberately loose: the only real proof of an address is mail that arrives.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function validEmail(email: string): string {
  const trimmed = boundedText('email', email, 3, 254);
  if (!EMAIL.test(trimmed)) throw clientError('BAD_USER_INPUT', 'email is not an email address', { field: 'email' });
  return trimmed;
}

async function authPayload(user: UserRow) {
  return { token: await signToken({ id: user.id, role: user.role }), user };
}

export const Mutation: MutationResolvers = {
  async register(_parent, { input }, { db, clientIp }) {
    await accountGuard().registerAttempt(clientIp);
    const email = validEmail(input.email);
    const name = boundedText('name', input.name, 1, 100);
    if (input.password.length < 8 || input.password.length > 128) {
      throw clientError('BAD_USER_INPUT', 'password must be 8 to 128 characters', { field: 'password' });
    }
    const user = await insertUser(db, { email, name, passwordHash: await hashPassword(input.password) });
    if (!user) throw clientError('EMAIL_TAKEN', 'An account with this email already exists');
    return authPayload(user);
  },

  async login(_parent, { input }, { db, clientIp }) {
    // Counted before anything is looked up, so a refusal says nothing about whether the account exists.
    await accountGuard().loginAttempt(input.email, clientIp);
    // Over-long input is never a valid login, but it still costs one hash, like any other failure.
    const plausible = input.email.length <= 254 && input.password.length <= 128;
    const user = plausible ? await findUserByEmail(db, input.email.trim()) : undefined;
    if (!(await verifyPassword(user?.passwordHash, plausible ? input.password : '')) || !user) {
      throw clientError('INVALID_CREDENTIALS', 'Wrong email or password');
    }
    await accountGuard().loginSucceeded(input.email, clientIp);
    return authPayload(user);
  },
};
