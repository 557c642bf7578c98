import { useSyncExternalStore } from 'react';
import { useQuery } from '@apollo/client/react';
import { client } from '../apollo';
import { MeDocument, type MeQuery } from '../generated/graphql';
import { session } from './session';

export type Viewer = NonNullable<MeQuery['me']>;

export function useSession() {
  return useSyncExternalStore(session.subscribe, session.get);
}

/** The signed-in account, from the token that survives reloads; null when signed out. */
export function useViewer(): { viewer: Viewer | null; loading: boolean } {
  const { token } = useSession();
  const { data, loading } = useQuery(MeDocument, { skip: !token });
  return { viewer: (token && data?.me) || null, loading: Boolean(token) && loading };
}

/** Another account's cached orders must not show, so the cache starts empty with each account. */
export async function signIn(token: string): Promise<void> {
  await client.clearStore();
  session.set({ token });
}

export async function signOut(): Promise<void> {
  session.set({});
  await client.clearStore();
}
