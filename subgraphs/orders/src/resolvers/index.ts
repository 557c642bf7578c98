import { DateTimeScalar, SafeIntScalar } from '@shop/subgraph';
import type { Resolvers } from '../generated/resolvers-types.js';
import { Mutation } from './Mutation.js';
import { Order, OrderItem } from './Order.js';
import { Product, ProductSales } from './Product.js';
import { Query } from './Query.js';
import { Subscription } from './Subscription.js';
import { User } from './User.js';

export const resolvers: Resolvers = {
  DateTime: DateTimeScalar,
  SafeInt: SafeIntScalar,
  Query,
  Mutation,
  Subscription,
  Order,
  OrderItem,
  User,
  Product,
  ProductSales,
};
