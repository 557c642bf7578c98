import type { Resolvers } from '../generated/resolvers-types.js';
import { Mutation } from './Mutation.js';
import { Product, ReservedLine } from './Product.js';
import { Query } from './Query.js';

export const resolvers: Resolvers = { Query, Mutation, Product, ReservedLine };
