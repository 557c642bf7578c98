import DataLoader from 'dataloader';
import { authenticate, clientAddress, isUuid, type Viewer } from '@shop/subgraph';
import type { FastifyRequest } from 'fastify';
import { findUsersByIds, type UsersDatabase } from './db/users-repository.js';
import type { UserRow } from './db/schema.js';

export interface Context {
  viewer: Viewer | null;
  db: UsersDatabase;
  /** The original client's address, from the router's x-client-ip header; login and register are limited by it. */
  clientIp: string;
  /** Per request, so one fetch of N users is one statement and nothing is cached across callers. */
  userById: DataLoader<string, UserRow | null>;
}

export async function createContext(request: FastifyRequest, db: UsersDatabase): Promise<Context> {
  return {
    viewer: await authenticate(request),
    db,
    clientIp: clientAddress(request),
    userById: new DataLoader(async (ids) => {
      const rows = await findUsersByIds(db, ids.filter(isUuid));
      const byId = new Map(rows.map((row) => [row.id, row]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
  };
}
