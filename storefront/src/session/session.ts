import { storedValue } from '../lib/stored-value';

/** The signed-in shopper's token, kept across reloads; `ended` says the router refused it and why we forgot it. */
export interface Session {
  token?: string;
  ended?: boolean;
}

export const session = storedValue<Session>('shop.session', {}, (raw) => {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const { token, ended } = raw as Record<string, unknown>;
  return { ...(typeof token === 'string' && { token }), ...(ended === true && { ended }) };
});
