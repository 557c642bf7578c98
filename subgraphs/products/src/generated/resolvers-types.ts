import type { GraphQLResolveInfo } from 'graphql';
import type { ProductRow, ReservationLineRow } from '../db/schema.js';
import type { Connection } from '@shop/subgraph';
import type { Reservation } from '../db/reservations-repository.js';
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
  _FieldSet: { input: unknown; output: unknown; }
};

/** A new product for the catalogue. */
export type CreateProductInput = {
  /** Catalogue section, 1 to 64 characters. */
  category: Scalars['String']['input'];
  /** Description, at most 5000 characters. */
  description: Scalars['String']['input'];
  /** Name, 1 to 200 characters. */
  name: Scalars['String']['input'];
  /** Price in the shop's currency. */
  price: MoneyInput;
  /** Unique code, 1 to 64 characters. A taken one gives BAD_USER_INPUT. */
  sku: Scalars['String']['input'];
  /** Units on hand, 0 or more. */
  stock: Scalars['Int']['input'];
};

/** An amount of money in minor units (cents), never a float. */
export type Money = {
  __typename?: 'Money';
  /** Amount in minor units of the currency: 1999 is 19.99. */
  amount: Scalars['Int']['output'];
  /** ISO-4217 currency code, for example USD. */
  currency: Scalars['String']['output'];
};

/** An amount of money given by a client. */
export type MoneyInput = {
  /** Amount in minor units, from 0 to 100000000. */
  amount: Scalars['Int']['input'];
  /** ISO-4217 currency code; must be the shop's currency. */
  currency: Scalars['String']['input'];
};

export type Mutation = {
  __typename?: 'Mutation';
  /** Internal, for the orders subgraph: marks an order's held stock as sold. Idempotent. */
  commitStock: StockReservation;
  /** Adds a product to the catalogue. ADMIN only. */
  createProduct: ProductPayload;
  /** Internal, for the orders subgraph: gives an order's held stock back. Idempotent; also refuses any later reservation for the order. */
  releaseStock: StockReservation;
  /** Internal, for the orders subgraph: takes stock for every line of an order or for none. Idempotent per order. */
  reserveStock: StockReservation;
  /** Adds units to a product's stock. ADMIN only. */
  restockProduct: ProductPayload;
  /** Changes a product's name, description, price or category. ADMIN only. */
  updateProduct: ProductPayload;
};


export type MutationCommitStockArgs = {
  orderId: Scalars['ID']['input'];
};


export type MutationCreateProductArgs = {
  input: CreateProductInput;
};


export type MutationReleaseStockArgs = {
  orderId: Scalars['ID']['input'];
};


export type MutationReserveStockArgs = {
  lines: Array<StockLineInput>;
  orderId: Scalars['ID']['input'];
};


export type MutationRestockProductArgs = {
  id: Scalars['ID']['input'];
  quantity: Scalars['Int']['input'];
};


export type MutationUpdateProductArgs = {
  id: Scalars['ID']['input'];
  input: UpdateProductInput;
};

/** Where a page of a list stands in the whole list. */
export type PageInfo = {
  __typename?: 'PageInfo';
  /** Cursor of the last item of this page, or null for an empty page. */
  endCursor?: Maybe<Scalars['String']['output']>;
  /** Whether there are more items after this page. */
  hasNextPage: Scalars['Boolean']['output'];
};

/** Something the shop sells. Owned by the products subgraph; the orders subgraph adds its sales figures. */
export type Product = {
  __typename?: 'Product';
  /** Catalogue section the product is listed under, for example books. */
  category: Scalars['String']['output'];
  /** Longer text shown on the product page. */
  description: Scalars['String']['output'];
  /** Stable identifier of the product. */
  id: Scalars['ID']['output'];
  /** Whether at least one unit can be ordered. */
  inStock: Scalars['Boolean']['output'];
  /** Name shown in the catalogue. */
  name: Scalars['String']['output'];
  /** Current price. Orders keep the price they were placed at. */
  price: Money;
  /** Stock keeping unit: the shop's own unique code for the product. */
  sku: Scalars['String']['output'];
  /** Units that can still be ordered: stock held by unpaid orders is already taken out. */
  stock: Scalars['Int']['output'];
};

/** A page of the catalogue. */
export type ProductConnection = {
  __typename?: 'ProductConnection';
  /** The products of this page, in the order asked for. */
  edges: Array<ProductEdge>;
  /** Where this page stands in the whole list. */
  pageInfo: PageInfo;
  /** Number of products that match the filter, not just this page. */
  totalCount: Scalars['Int']['output'];
};

/** One product in a page of products, with the cursor that points at it. */
export type ProductEdge = {
  __typename?: 'ProductEdge';
  /** Opaque position of this product in the list; pass it as `after` to continue from here. */
  cursor: Scalars['String']['output'];
  /** The product. */
  node: Product;
};

/** Narrows the catalogue; every field given must hold. */
export type ProductFilter = {
  /** Only this category, matched exactly. */
  category?: InputMaybe<Scalars['String']['input']>;
  /** true: only products with stock; false: only sold-out ones. */
  inStock?: InputMaybe<Scalars['Boolean']['input']>;
  /** Highest price, in minor units, inclusive. */
  maxPrice?: InputMaybe<Scalars['Int']['input']>;
  /** Lowest price, in minor units, inclusive. */
  minPrice?: InputMaybe<Scalars['Int']['input']>;
  /** Text to find in the name or description, ignoring case; % and _ match themselves. At most 100 characters. */
  search?: InputMaybe<Scalars['String']['input']>;
};

/** The product a catalogue mutation created or changed. */
export type ProductPayload = {
  __typename?: 'ProductPayload';
  /** The product as it is now. */
  product: Product;
};

/** Order of the catalogue. */
export type ProductSort =
  /** Alphabetical by name. */
  | 'NAME'
  /** Most recently added first (the default). */
  | 'NEWEST'
  /** Cheapest first. */
  | 'PRICE_ASC'
  /** Most expensive first. */
  | 'PRICE_DESC';

export type Query = {
  __typename?: 'Query';
  /** Internal, for the orders subgraph's reconciliation: reservations still holding stock (RESERVED), by order id after `after`, at most `first` (1 to 500). */
  heldReservations: Array<StockReservation>;
  /** A product by id; null for an unknown id. */
  product?: Maybe<Product>;
  /** A product by its sku; null for an unknown sku. */
  productBySku?: Maybe<Product>;
  /** The catalogue: filtered, sorted, a page at a time. Anyone may read it. */
  products: ProductConnection;
};


export type QueryHeldReservationsArgs = {
  after?: InputMaybe<Scalars['ID']['input']>;
  first: Scalars['Int']['input'];
};


export type QueryProductArgs = {
  id: Scalars['ID']['input'];
};


export type QueryProductBySkuArgs = {
  sku: Scalars['String']['input'];
};


export type QueryProductsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  filter?: InputMaybe<ProductFilter>;
  first?: InputMaybe<Scalars['Int']['input']>;
  sort?: InputMaybe<ProductSort>;
};

/** Internal: where the stock held for one order stands. */
export type ReservationState =
  /** The order was paid; the stock is sold. */
  | 'COMMITTED'
  /** The stock went back to the catalogue, or was never taken; no reservation can follow. */
  | 'RELEASED'
  /** Stock is taken out of the catalogue and held for the order. */
  | 'RESERVED';

/** Internal: one product held for an order. */
export type ReservedLine = {
  __typename?: 'ReservedLine';
  /** The product. */
  productId: Scalars['ID']['output'];
  /** Units held. */
  quantity: Scalars['Int']['output'];
  /** Price of one unit when the stock was taken. */
  unitPrice: Money;
};

/** Internal: a product and quantity an order wants. */
export type StockLineInput = {
  /** The product. */
  productId: Scalars['ID']['input'];
  /** Units wanted, more than 0. */
  quantity: Scalars['Int']['input'];
};

/** Internal: the stock held for one order. */
export type StockReservation = {
  __typename?: 'StockReservation';
  /** What is held, at the prices of the moment it was taken. */
  lines: Array<ReservedLine>;
  /** The order. */
  orderId: Scalars['ID']['output'];
  /** Where the reservation stands. */
  state: ReservationState;
};

export type Subscription = {
  __typename?: 'Subscription';
  /** Watches products: the product again each time its stock or its price changes (an order reserving it, a cancel or expiry releasing it, a restock, a price update), in order. Anyone may watch. 1 to 100 ids, else BAD_USER_INPUT; an unknown id sends nothing. */
  productUpdated: Product;
};


export type SubscriptionProductUpdatedArgs = {
  ids: Array<Scalars['ID']['input']>;
};

/** Changes to a product; fields left out stay as they are. */
export type UpdateProductInput = {
  /** New catalogue section, 1 to 64 characters. */
  category?: InputMaybe<Scalars['String']['input']>;
  /** New description, at most 5000 characters. */
  description?: InputMaybe<Scalars['String']['input']>;
  /** New name, 1 to 200 characters. */
  name?: InputMaybe<Scalars['String']['input']>;
  /** New price. Orders already placed keep the price they were placed at. */
  price?: InputMaybe<MoneyInput>;
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
  Product: Product;
}>;

/** Mapping of federation reference types */
export type FederationReferenceTypes = ResolversObject<{
  Product:
    ( { __typename: 'Product' }
    & GraphQLRecursivePick<FederationTypes['Product'], {"id":true}> );
}>;



/** Mapping between all available schema types and the resolvers types */
export type ResolversTypes = ResolversObject<{
  CreateProductInput: CreateProductInput;
  String: ResolverTypeWrapper<Scalars['String']['output']>;
  Int: ResolverTypeWrapper<Scalars['Int']['output']>;
  Money: ResolverTypeWrapper<Money>;
  MoneyInput: MoneyInput;
  Mutation: ResolverTypeWrapper<Record<PropertyKey, never>>;
  ID: ResolverTypeWrapper<Scalars['ID']['output']>;
  PageInfo: ResolverTypeWrapper<PageInfo>;
  Boolean: ResolverTypeWrapper<Scalars['Boolean']['output']>;
  Product: ResolverTypeWrapper<ProductRow>;
  ProductConnection: ResolverTypeWrapper<Connection<ProductRow>>;
  ProductEdge: ResolverTypeWrapper<Omit<ProductEdge, 'node'> & { node: ResolversTypes['Product'] }>;
  ProductFilter: ProductFilter;
  ProductPayload: ResolverTypeWrapper<Omit<ProductPayload, 'product'> & { product: ResolversTypes['Product'] }>;
  ProductSort: ProductSort;
  Query: ResolverTypeWrapper<Record<PropertyKey, never>>;
  ReservationState: ReservationState;
  ReservedLine: ResolverTypeWrapper<ReservationLineRow>;
  StockLineInput: StockLineInput;
  StockReservation: ResolverTypeWrapper<Reservation>;
  Subscription: ResolverTypeWrapper<Record<PropertyKey, never>>;
  UpdateProductInput: UpdateProductInput;
}>;

/** Mapping between all available schema types and the resolvers parents */
export type ResolversParentTypes = ResolversObject<{
  CreateProductInput: CreateProductInput;
  String: Scalars['String']['output'];
  Int: Scalars['Int']['output'];
  Money: Money;
  MoneyInput: MoneyInput;
  Mutation: Record<PropertyKey, never>;
  ID: Scalars['ID']['output'];
  PageInfo: PageInfo;
  Boolean: Scalars['Boolean']['output'];
  Product: ProductRow;
  ProductConnection: Connection<ProductRow>;
  ProductEdge: Omit<ProductEdge, 'node'> & { node: ResolversParentTypes['Product'] };
  ProductFilter: ProductFilter;
  ProductPayload: Omit<ProductPayload, 'product'> & { product: ResolversParentTypes['Product'] };
  Query: Record<PropertyKey, never>;
  ReservedLine: ReservationLineRow;
  StockLineInput: StockLineInput;
  StockReservation: Reservation;
  Subscription: Record<PropertyKey, never>;
  UpdateProductInput: UpdateProductInput;
}>;

export type MoneyResolvers<ContextType = Context, ParentType extends ResolversParentTypes['Money'] = ResolversParentTypes['Money']> = ResolversObject<{
  amount?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  currency?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
}>;

export type MutationResolvers<ContextType = Context, ParentType extends ResolversParentTypes['Mutation'] = ResolversParentTypes['Mutation']> = ResolversObject<{
  commitStock?: Resolver<ResolversTypes['StockReservation'], ParentType, ContextType, RequireFields<MutationCommitStockArgs, 'orderId'>>;
  createProduct?: Resolver<ResolversTypes['ProductPayload'], ParentType, ContextType, RequireFields<MutationCreateProductArgs, 'input'>>;
  releaseStock?: Resolver<ResolversTypes['StockReservation'], ParentType, ContextType, RequireFields<MutationReleaseStockArgs, 'orderId'>>;
  reserveStock?: Resolver<ResolversTypes['StockReservation'], ParentType, ContextType, RequireFields<MutationReserveStockArgs, 'lines' | 'orderId'>>;
  restockProduct?: Resolver<ResolversTypes['ProductPayload'], ParentType, ContextType, RequireFields<MutationRestockProductArgs, 'id' | 'quantity'>>;
  updateProduct?: Resolver<ResolversTypes['ProductPayload'], ParentType, ContextType, RequireFields<MutationUpdateProductArgs, 'id' | 'input'>>;
}>;

export type PageInfoResolvers<ContextType = Context, ParentType extends ResolversParentTypes['PageInfo'] = ResolversParentTypes['PageInfo']> = ResolversObject<{
  endCursor?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  hasNextPage?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
}>;

export type ProductResolvers<ContextType = Context, ParentType extends ResolversParentTypes['Product'] = ResolversParentTypes['Product'], FederationReferenceType extends FederationReferenceTypes['Product'] = FederationReferenceTypes['Product']> = ResolversObject<{
  __resolveReference?: ReferenceResolver<Maybe<ResolversTypes['Product']> | FederationReferenceType, FederationReferenceType, ContextType>;
  category?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  description?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  inStock?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  name?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  price?: Resolver<ResolversTypes['Money'], ParentType, ContextType>;
  sku?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  stock?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
}>;

export type ProductConnectionResolvers<ContextType = Context, ParentType extends ResolversParentTypes['ProductConnection'] = ResolversParentTypes['ProductConnection']> = ResolversObject<{
  edges?: Resolver<Array<ResolversTypes['ProductEdge']>, ParentType, ContextType>;
  pageInfo?: Resolver<ResolversTypes['PageInfo'], ParentType, ContextType>;
  totalCount?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
}>;

export type ProductEdgeResolvers<ContextType = Context, ParentType extends ResolversParentTypes['ProductEdge'] = ResolversParentTypes['ProductEdge']> = ResolversObject<{
  cursor?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  node?: Resolver<ResolversTypes['Product'], ParentType, ContextType>;
}>;

export type ProductPayloadResolvers<ContextType = Context, ParentType extends ResolversParentTypes['ProductPayload'] = ResolversParentTypes['ProductPayload']> = ResolversObject<{
  product?: Resolver<ResolversTypes['Product'], ParentType, ContextType>;
}>;

export type QueryResolvers<ContextType = Context, ParentType extends ResolversParentTypes['Query'] = ResolversParentTypes['Query']> = ResolversObject<{
  heldReservations?: Resolver<Array<ResolversTypes['StockReservation']>, ParentType, ContextType, RequireFields<QueryHeldReservationsArgs, 'first'>>;
  product?: Resolver<Maybe<ResolversTypes['Product']>, ParentType, ContextType, RequireFields<QueryProductArgs, 'id'>>;
  productBySku?: Resolver<Maybe<ResolversTypes['Product']>, ParentType, ContextType, RequireFields<QueryProductBySkuArgs, 'sku'>>;
  products?: Resolver<ResolversTypes['ProductConnection'], ParentType, ContextType, Partial<QueryProductsArgs>>;
}>;

export type ReservedLineResolvers<ContextType = Context, ParentType extends ResolversParentTypes['ReservedLine'] = ResolversParentTypes['ReservedLine']> = ResolversObject<{
  productId?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  quantity?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  unitPrice?: Resolver<ResolversTypes['Money'], ParentType, ContextType>;
}>;

export type StockReservationResolvers<ContextType = Context, ParentType extends ResolversParentTypes['StockReservation'] = ResolversParentTypes['StockReservation']> = ResolversObject<{
  lines?: Resolver<Array<ResolversTypes['ReservedLine']>, ParentType, ContextType>;
  orderId?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  state?: Resolver<ResolversTypes['ReservationState'], ParentType, ContextType>;
}>;

export type SubscriptionResolvers<ContextType = Context, ParentType extends ResolversParentTypes['Subscription'] = ResolversParentTypes['Subscription']> = ResolversObject<{
  productUpdated?: SubscriptionResolver<ResolversTypes['Product'], "productUpdated", ParentType, ContextType, RequireFields<SubscriptionProductUpdatedArgs, 'ids'>>;
}>;

export type Resolvers<ContextType = Context> = ResolversObject<{
  Money?: MoneyResolvers<ContextType>;
  Mutation?: MutationResolvers<ContextType>;
  PageInfo?: PageInfoResolvers<ContextType>;
  Product?: ProductResolvers<ContextType>;
  ProductConnection?: ProductConnectionResolvers<ContextType>;
  ProductEdge?: ProductEdgeResolvers<ContextType>;
  ProductPayload?: ProductPayloadResolvers<ContextType>;
  Query?: QueryResolvers<ContextType>;
  ReservedLine?: ReservedLineResolvers<ContextType>;
  StockReservation?: StockReservationResolvers<ContextType>;
  Subscription?: SubscriptionResolvers<ContextType>;
}>;

