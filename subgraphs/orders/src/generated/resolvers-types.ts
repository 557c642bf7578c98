import type { GraphQLResolveInfo, GraphQLScalarType, GraphQLScalarTypeConfig } from 'graphql';
import type { OrderRow, OrderItemRow } from '../db/schema.js';
import type { Connection } from '@shop/subgraph';
import type { SalesRow } from '../db/orders-repository.js';
import type { EntityReference } from '../resolvers/references.js';
import type { Context } from '../context.js';
export type Maybe<T> = T | null;
export type InputMaybe<T> = Maybe<T>;
export type Omit<T, K extends keyof T> = Pick<T, Exclude<keyof T, K>>;
export type RequireFields<T, K extends keyof T> = Omit<T, K> & { [P in K]-?: NonNullable<T[P]> };
/** All built-in and custom scalars, mapped to their actual values */
export type Scalars = {
  ID: { input: string; output: string; }
  String: { input: string; output: string; }
  Boolean: { input: boolean; output: boolean; }
  Int: { input: number; output: number; }
  Float: { input: number; output: number; }
  /** A point in time, as an ISO-8601 string in UTC with millisecond precision, for example "2026-11-27T09:15:00.000Z". */
  DateTime: { input: Date; output: Date; }
  /** A whole number from -(2^53-1) to 2^53-1, sent as a JSON number: exact in every JSON and JavaScript client. */
  SafeInt: { input: number; output: number; }
  _FieldSet: { input: unknown; output: unknown; }
};

/** An amount of money in minor units (cents), never a float. */
export type Money = {
  __typename?: 'Money';
  /** Amount in minor units of the currency: 1999 is 19.99. */
  amount: Scalars['Int']['output'];
  /** ISO-4217 currency code, for example USD. */
  currency: Scalars['String']['output'];
};

/** A sum of money over many orders, in minor units, which can exceed what Money (a 32-bit Int) holds. */
export type MoneyTotal = {
  __typename?: 'MoneyTotal';
  /** Amount in minor units of the currency: 300000000000 is 3,000,000,000.00. */
  amount: Scalars['SafeInt']['output'];
  /** ISO-4217 currency code, for example USD. */
  currency: Scalars['String']['output'];
};

export type Mutation = {
  __typename?: 'Mutation';
  /** Cancels a PENDING order of the caller's own and gives its stock back; any other state gives INVALID_STATE. */
  cancelOrder: OrderPayload;
  /** Pays a PENDING order of the caller's own. PAYMENT_DECLINED leaves it PENDING; any other state gives INVALID_STATE. */
  payOrder: OrderPayload;
  /** Places an order: holds stock for every line or for none (INSUFFICIENT_STOCK), at the catalogue's prices of this moment. Needs a token. */
  placeOrder: OrderPayload;
};


export type MutationCancelOrderArgs = {
  id: Scalars['ID']['input'];
};


export type MutationPayOrderArgs = {
  input: PayOrderInput;
};


export type MutationPlaceOrderArgs = {
  input: PlaceOrderInput;
};

/** An order placed by a customer. Owned by the orders subgraph. */
export type Order = {
  __typename?: 'Order';
  /** The customer who placed the order; null (with a SERVICE_UNAVAILABLE error) while the users service is unavailable. */
  buyer?: Maybe<User>;
  /** When the order was placed. */
  createdAt: Scalars['DateTime']['output'];
  /** Stable identifier of the order. */
  id: Scalars['ID']['output'];
  /** What was ordered, at the prices of the moment it was placed. */
  items: Array<OrderItem>;
  /** When the order was paid; null until then. */
  paidAt?: Maybe<Scalars['DateTime']['output']>;
  /** Where the order stands. */
  status: OrderStatus;
  /** Sum of quantity times unit price over the items. */
  total: Money;
};

/** A page of orders, newest first. */
export type OrderConnection = {
  __typename?: 'OrderConnection';
  /** The orders of this page, newest first. */
  edges: Array<OrderEdge>;
  /** Where this page stands in the whole list. */
  pageInfo: PageInfo;
  /** Number of orders in the whole list, not just this page. */
  totalCount: Scalars['Int']['output'];
};

/** One order in a page of orders, with the cursor that points at it. */
export type OrderEdge = {
  __typename?: 'OrderEdge';
  /** Opaque position of this order in the list; pass it as `after` to continue from here. */
  cursor: Scalars['String']['output'];
  /** The order. */
  node: Order;
};

/** One line of an order. */
export type OrderItem = {
  __typename?: 'OrderItem';
  /** The product ordered, resolved by the products subgraph; null (with a SERVICE_UNAVAILABLE error) while that service is unavailable. */
  product?: Maybe<Product>;
  /** Units ordered. */
  quantity: Scalars['Int']['output'];
  /** Price of one unit when the order was placed; later price changes do not touch it. */
  unitPrice: Money;
};

/** One line of a new order. */
export type OrderLineInput = {
  /** The product to buy. */
  productId: Scalars['ID']['input'];
  /** Units to buy, 1 to 1000. */
  quantity: Scalars['Int']['input'];
};

/** The order a checkout mutation placed or changed. */
export type OrderPayload = {
  __typename?: 'OrderPayload';
  /** The order as it is now. */
  order: Order;
};

/** Where an order stands. */
export type OrderStatus =
  /** Cancelled by the buyer or expired unpaid; its stock went back to the catalogue. */
  | 'CANCELLED'
  /** Paid; the stock is sold. */
  | 'PAID'
  /** Placed, its stock held, waiting for payment. Unpaid orders are cancelled after the hold time. */
  | 'PENDING';

/** Where a page of a list stands in the whole list. */
export type PageInfo = {
  __typename?: 'PageInfo';
  /** Cursor of the last item of this page, or null for an empty page. */
  endCursor?: Maybe<Scalars['String']['output']>;
  /** Whether there are more items after this page. */
  hasNextPage: Scalars['Boolean']['output'];
};

/** A payment for an order. */
export type PayOrderInput = {
  /** The PENDING order to pay. */
  orderId: Scalars['ID']['input'];
  /** Payment method token from the payment provider. Test tokens: tok_visa (approved), tok_chargeDeclined (declined). */
  paymentToken: Scalars['String']['input'];
};

/** A new order. */
export type PlaceOrderInput = {
  /** Chosen by the client, 1 to 100 characters: sending the same key again returns the same order instead of placing another. */
  idempotencyKey: Scalars['String']['input'];
  /** What to buy: 1 to 50 lines. */
  items: Array<OrderLineInput>;
};

/** A catalogue product, owned by the products subgraph; the orders subgraph adds its sales figures. */
export type Product = {
  __typename?: 'Product';
  /** Stable identifier of the product. */
  id: Scalars['ID']['output'];
  /** What the product has sold, counting PAID orders only. ADMIN only; anyone else gets FORBIDDEN. */
  sales?: Maybe<ProductSales>;
};

/** Sales figures of one product over all PAID orders. */
export type ProductSales = {
  __typename?: 'ProductSales';
  /** Number of paid orders that include the product. */
  orderCount: Scalars['Int']['output'];
  /** Sum of quantity times the unit price each order paid; a MoneyTotal, since it can exceed a 32-bit Int. */
  revenue: MoneyTotal;
  /** Units sold. */
  unitsSold: Scalars['Int']['output'];
};

export type Query = {
  __typename?: 'Query';
  /** An order by id: null for an unknown id. Readable by its buyer and by admins; anyone else gets FORBIDDEN. */
  order?: Maybe<Order>;
};


export type QueryOrderArgs = {
  id: Scalars['ID']['input'];
};

export type Subscription = {
  __typename?: 'Subscription';
  /** Watches an order: first the order as it is now, then the order again at each change of status (PENDING to PAID, PENDING to CANCELLED, also when an unpaid order expires), in order; it ends after PAID or CANCELLED. Its buyer and admins may watch it: UNAUTHENTICATED without a token (or once the token expires), FORBIDDEN for another buyer's order, NOT_FOUND for an unknown id. */
  orderUpdated: Order;
};


export type SubscriptionOrderUpdatedArgs = {
  id: Scalars['ID']['input'];
};

/** A shop account, owned by the users subgraph; the orders subgraph adds its orders. */
export type User = {
  __typename?: 'User';
  /** Stable identifier of the account. */
  id: Scalars['ID']['output'];
  /** The account's orders, newest first. Readable by the account itself and by admins; null (with a SERVICE_UNAVAILABLE error) while the orders service is unavailable. */
  orders?: Maybe<OrderConnection>;
};


/** A shop account, owned by the users subgraph; the orders subgraph adds its orders. */
export type UserOrdersArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
};

export type WithIndex<TObject> = TObject & Record<string, any>;
export type ResolversObject<TObject> = WithIndex<TObject>;

export type ResolverTypeWrapper<T> = Promise<T> | T;

export type ReferenceResolver<TResult, TReference, TContext> = (
      reference: TReference,
      context: TContext,
      info: GraphQLResolveInfo
    ) => Promise<TResult> | TResult;

      type ScalarCheck<T, S> = S extends true ? T : NullableCheck<T, S>;
      type NullableCheck<T, S> = Maybe<T> extends T ? Maybe<ListCheck<NonNullable<T>, S>> : ListCheck<T, S>;
      type ListCheck<T, S> = T extends (infer U)[] ? NullableCheck<U, S>[] : GraphQLRecursivePick<T, S>;
      export type GraphQLRecursivePick<T, S> = { [K in keyof T & keyof S]: ScalarCheck<T[K], S[K]> };
    

export type ResolverWithResolve<TResult, TParent, TContext, TArgs> = {
  resolve: ResolverFn<TResult, TParent, TContext, TArgs>;
};
export type Resolver<TResult, TParent = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>, TArgs = Record<PropertyKey, never>> = ResolverFn<TResult, TParent, TContext, TArgs> | ResolverWithResolve<TResult, TParent, TContext, TArgs>;

export type ResolverFn<TResult, TParent, TContext, TArgs> = (
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo
) => Promise<TResult> | TResult;

export type SubscriptionSubscribeFn<TResult, TParent, TContext, TArgs> = (
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo
) => AsyncIterable<TResult> | Promise<AsyncIterable<TResult>>;

export type SubscriptionResolveFn<TResult, TParent, TContext, TArgs> = (
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo
) => TResult | Promise<TResult>;

export interface SubscriptionSubscriberObject<TResult, TKey extends string, TParent, TContext, TArgs> {
  subscribe: SubscriptionSubscribeFn<{ [key in TKey]: TResult }, TParent, TContext, TArgs>;
  resolve?: SubscriptionResolveFn<TResult, { [key in TKey]: TResult }, TContext, TArgs>;
}

export interface SubscriptionResolverObject<TResult, TParent, TContext, TArgs> {
  subscribe: SubscriptionSubscribeFn<any, TParent, TContext, TArgs>;
  resolve: SubscriptionResolveFn<TResult, any, TContext, TArgs>;
}

export type SubscriptionObject<TResult, TKey extends string, TParent, TContext, TArgs> =
  | SubscriptionSubscriberObject<TResult, TKey, TParent, TContext, TArgs>
  | SubscriptionResolverObject<TResult, TParent, TContext, TArgs>;

export type SubscriptionResolver<TResult, TKey extends string, TParent = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>, TArgs = Record<PropertyKey, never>> =
  | ((...args: any[]) => SubscriptionObject<TResult, TKey, TParent, TContext, TArgs>)
  | SubscriptionObject<TResult, TKey, TParent, TContext, TArgs>;

export type TypeResolveFn<TTypes, TParent = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>> = (
  parent: TParent,
  context: TContext,
  info: GraphQLResolveInfo
) => Maybe<TTypes> | Promise<Maybe<TTypes>>;

export type IsTypeOfResolverFn<T = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>> = (obj: T, context: TContext, info: GraphQLResolveInfo) => boolean | Promise<boolean>;

export type NextResolverFn<T> = () => Promise<T>;

export type DirectiveResolverFn<TResult = Record<PropertyKey, never>, TParent = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>, TArgs = Record<PropertyKey, never>> = (
  next: NextResolverFn<TResult>,
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo
) => TResult | Promise<TResult>;

/** Mapping of federation types */
export type FederationTypes = ResolversObject<{
  Order: Order;
  Product: Product;
  User: User;
}>;

/** Mapping of federation reference types */
export type FederationReferenceTypes = ResolversObject<{
  Order:
    ( { __typename: 'Order' }
    & GraphQLRecursivePick<FederationTypes['Order'], {"id":true}> );
  Product:
    ( { __typename: 'Product' }
    & GraphQLRecursivePick<FederationTypes['Product'], {"id":true}> );
  User:
    ( { __typename: 'User' }
    & GraphQLRecursivePick<FederationTypes['User'], {"id":true}> );
}>;



/** Mapping between all available schema types and the resolvers types */
export type ResolversTypes = ResolversObject<{
  DateTime: ResolverTypeWrapper<Scalars['DateTime']['output']>;
  Money: ResolverTypeWrapper<Money>;
  Int: ResolverTypeWrapper<Scalars['Int']['output']>;
  String: ResolverTypeWrapper<Scalars['String']['output']>;
  MoneyTotal: ResolverTypeWrapper<MoneyTotal>;
  Mutation: ResolverTypeWrapper<Record<PropertyKey, never>>;
  ID: ResolverTypeWrapper<Scalars['ID']['output']>;
  Order: ResolverTypeWrapper<OrderRow>;
  OrderConnection: ResolverTypeWrapper<Connection<OrderRow>>;
  OrderEdge: ResolverTypeWrapper<Omit<OrderEdge, 'node'> & { node: ResolversTypes['Order'] }>;
  OrderItem: ResolverTypeWrapper<OrderItemRow>;
  OrderLineInput: OrderLineInput;
  OrderPayload: ResolverTypeWrapper<Omit<OrderPayload, 'order'> & { order: ResolversTypes['Order'] }>;
  OrderStatus: OrderStatus;
  PageInfo: ResolverTypeWrapper<PageInfo>;
  Boolean: ResolverTypeWrapper<Scalars['Boolean']['output']>;
  PayOrderInput: PayOrderInput;
  PlaceOrderInput: PlaceOrderInput;
  Product: ResolverTypeWrapper<EntityReference>;
  ProductSales: ResolverTypeWrapper<SalesRow>;
  Query: ResolverTypeWrapper<Record<PropertyKey, never>>;
  SafeInt: ResolverTypeWrapper<Scalars['SafeInt']['output']>;
  Subscription: ResolverTypeWrapper<Record<PropertyKey, never>>;
  User: ResolverTypeWrapper<EntityReference>;
}>;

/** Mapping between all available schema types and the resolvers parents */
export type ResolversParentTypes = ResolversObject<{
  DateTime: Scalars['DateTime']['output'];
  Money: Money;
  Int: Scalars['Int']['output'];
  String: Scalars['String']['output'];
  MoneyTotal: MoneyTotal;
  Mutation: Record<PropertyKey, never>;
  ID: Scalars['ID']['output'];
  Order: OrderRow;
  OrderConnection: Connection<OrderRow>;
  OrderEdge: Omit<OrderEdge, 'node'> & { node: ResolversParentTypes['Order'] };
  OrderItem: OrderItemRow;
  OrderLineInput: OrderLineInput;
  OrderPayload: Omit<OrderPayload, 'order'> & { order: ResolversParentTypes['Order'] };
  PageInfo: PageInfo;
  Boolean: Scalars['Boolean']['output'];
  PayOrderInput: PayOrderInput;
  PlaceOrderInput: PlaceOrderInput;
  Product: EntityReference;
  ProductSales: SalesRow;
  Query: Record<PropertyKey, never>;
  SafeInt: Scalars['SafeInt']['output'];
  Subscription: Record<PropertyKey, never>;
  User: EntityReference;
}>;

export interface DateTimeScalarConfig extends GraphQLScalarTypeConfig<ResolversTypes['DateTime'], any> {
  name: 'DateTime';
}

export type MoneyResolvers<ContextType = Context, ParentType extends ResolversParentTypes['Money'] = ResolversParentTypes['Money']> = ResolversObject<{
  amount?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  currency?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
}>;

export type MoneyTotalResolvers<ContextType = Context, ParentType extends ResolversParentTypes['MoneyTotal'] = ResolversParentTypes['MoneyTotal']> = ResolversObject<{
  amount?: Resolver<ResolversTypes['SafeInt'], ParentType, ContextType>;
  currency?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
}>;

export type MutationResolvers<ContextType = Context, ParentType extends ResolversParentTypes['Mutation'] = ResolversParentTypes['Mutation']> = ResolversObject<{
  cancelOrder?: Resolver<ResolversTypes['OrderPayload'], ParentType, ContextType, RequireFields<MutationCancelOrderArgs, 'id'>>;
  payOrder?: Resolver<ResolversTypes['OrderPayload'], ParentType, ContextType, RequireFields<MutationPayOrderArgs, 'input'>>;
  placeOrder?: Resolver<ResolversTypes['OrderPayload'], ParentType, ContextType, RequireFields<MutationPlaceOrderArgs, 'input'>>;
}>;

export type OrderResolvers<ContextType = Context, ParentType extends ResolversParentTypes['Order'] = ResolversParentTypes['Order'], FederationReferenceType extends FederationReferenceTypes['Order'] = FederationReferenceTypes['Order']> = ResolversObject<{
  __resolveReference?: ReferenceResolver<Maybe<ResolversTypes['Order']> | FederationReferenceType, FederationReferenceType, ContextType>;
  buyer?: Resolver<Maybe<ResolversTypes['User']>, ParentType, ContextType>;
  createdAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  items?: Resolver<Array<ResolversTypes['OrderItem']>, ParentType, ContextType>;
  paidAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  status?: Resolver<ResolversTypes['OrderStatus'], ParentType, ContextType>;
  total?: Resolver<ResolversTypes['Money'], ParentType, ContextType>;
}>;

export type OrderConnectionResolvers<ContextType = Context, ParentType extends ResolversParentTypes['OrderConnection'] = ResolversParentTypes['OrderConnection']> = ResolversObject<{
  edges?: Resolver<Array<ResolversTypes['OrderEdge']>, ParentType, ContextType>;
  pageInfo?: Resolver<ResolversTypes['PageInfo'], ParentType, ContextType>;
  totalCount?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
}>;

export type OrderEdgeResolvers<ContextType = Context, ParentType extends ResolversParentTypes['OrderEdge'] = ResolversParentTypes['OrderEdge']> = ResolversObject<{
  cursor?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  node?: Resolver<ResolversTypes['Order'], ParentType, ContextType>;
}>;

export type OrderItemResolvers<ContextType = Context, ParentType extends ResolversParentTypes['OrderItem'] = ResolversParentTypes['OrderItem']> = ResolversObject<{
  product?: Resolver<Maybe<ResolversTypes['Product']>, ParentType, ContextType>;
  quantity?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  unitPrice?: Resolver<ResolversTypes['Money'], ParentType, ContextType>;
}>;

export type OrderPayloadResolvers<ContextType = Context, ParentType extends ResolversParentTypes['OrderPayload'] = ResolversParentTypes['OrderPayload']> = ResolversObject<{
  order?: Resolver<ResolversTypes['Order'], ParentType, ContextType>;
}>;

export type PageInfoResolvers<ContextType = Context, ParentType extends ResolversParentTypes['PageInfo'] = ResolversParentTypes['PageInfo']> = ResolversObject<{
  endCursor?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  hasNextPage?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
}>;

export type ProductResolvers<ContextType = Context, ParentType extends ResolversParentTypes['Product'] = ResolversParentTypes['Product'], FederationReferenceType extends FederationReferenceTypes['Product'] = FederationReferenceTypes['Product']> = ResolversObject<{
  __resolveReference?: ReferenceResolver<Maybe<ResolversTypes['Product']> | FederationReferenceType, FederationReferenceType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  sales?: Resolver<Maybe<ResolversTypes['ProductSales']>, ParentType, ContextType>;
}>;

export type ProductSalesResolvers<ContextType = Context, ParentType extends ResolversParentTypes['ProductSales'] = ResolversParentTypes['ProductSales']> = ResolversObject<{
  orderCount?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  revenue?: Resolver<ResolversTypes['MoneyTotal'], ParentType, ContextType>;
  unitsSold?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
}>;

export type QueryResolvers<ContextType = Context, ParentType extends ResolversParentTypes['Query'] = ResolversParentTypes['Query']> = ResolversObject<{
  order?: Resolver<Maybe<ResolversTypes['Order']>, ParentType, ContextType, RequireFields<QueryOrderArgs, 'id'>>;
}>;

export interface SafeIntScalarConfig extends GraphQLScalarTypeConfig<ResolversTypes['SafeInt'], any> {
  name: 'SafeInt';
}

export type SubscriptionResolvers<ContextType = Context, ParentType extends ResolversParentTypes['Subscription'] = ResolversParentTypes['Subscription']> = ResolversObject<{
  orderUpdated?: SubscriptionResolver<ResolversTypes['Order'], "orderUpdated", ParentType, ContextType, RequireFields<SubscriptionOrderUpdatedArgs, 'id'>>;
}>;

export type UserResolvers<ContextType = Context, ParentType extends ResolversParentTypes['User'] = ResolversParentTypes['User'], FederationReferenceType extends FederationReferenceTypes['User'] = FederationReferenceTypes['User']> = ResolversObject<{
  __resolveReference?: ReferenceResolver<Maybe<ResolversTypes['User']> | FederationReferenceType, FederationReferenceType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  orders?: Resolver<Maybe<ResolversTypes['OrderConnection']>, ParentType, ContextType, Partial<UserOrdersArgs>>;
}>;

export type Resolvers<ContextType = Context> = ResolversObject<{
  DateTime?: GraphQLScalarType;
  Money?: MoneyResolvers<ContextType>;
  MoneyTotal?: MoneyTotalResolvers<ContextType>;
  Mutation?: MutationResolvers<ContextType>;
  Order?: OrderResolvers<ContextType>;
  OrderConnection?: OrderConnectionResolvers<ContextType>;
  OrderEdge?: OrderEdgeResolvers<ContextType>;
  OrderItem?: OrderItemResolvers<ContextType>;
  OrderPayload?: OrderPayloadResolvers<ContextType>;
  PageInfo?: PageInfoResolvers<ContextType>;
  Product?: ProductResolvers<ContextType>;
  ProductSales?: ProductSalesResolvers<ContextType>;
  Query?: QueryResolvers<ContextType>;
  SafeInt?: GraphQLScalarType;
  Subscription?: SubscriptionResolvers<ContextType>;
  User?: UserResolvers<ContextType>;
}>;

