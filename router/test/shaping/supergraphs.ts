import { readFileSync } from 'node:fs';
import { composeServices } from '@apollo/composition';
import { Supergraph, type Schema } from '@apollo/federation-internals';
import type { GraphQLSchema } from 'graphql';
import { graphql } from './graphql.js';

/**
 * Supergraphs for the result-shaping differential test: the shop's own, and three composed here from SDL written
 * to reach what the shop's does not: interfaces and unions (entities and value types), nested and non-null lists
 * at several depths, @requires and @provides, @interfaceObject, @shareable value types, enums in and out,
 * custom scalars, a mutation, and schema fields that are themselves named after Object.prototype members.
 */
export interface TestSupergraph {
  name: string;
  sdl: string;
  apiSchema: Schema;
  /** The API schema as graphql-js sees it, for generating and validating operations. */
  api: GraphQLSchema;
  /** Each subgraph's schema (with _entities), by the URL the supergraph gives it, for the fake subgraphs. */
  subgraphsByUrl: Map<string, { name: string; schema: GraphQLSchema }>;
}

const federation = (imports: string[]) =>
  `extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: [${imports.map((i) => `"${i}"`).join(', ')}])`;

const catalog = {
  inventory: `
    ${federation(['@key', '@shareable', '@external', '@provides'])}
    scalar Instant
    enum Color { RED GREEN BLUE }
    type Query {
      items(first: Int = 3, filter: ItemFilter): [Item!]!
      item(id: ID!): Item
      search(text: String!, colors: [Color!]): [SearchResult]
      matrix(size: Int): [[Int]!]
      shelves: [[Shelf!]]!
      featured: Book @provides(fields: "author { name }")
    }
    interface Item { id: ID! name: String! price: Money! tags: [String!] }
    type Book implements Item @key(fields: "id") {
      id: ID! name: String! price: Money! tags: [String!] pages: Int author: Author
    }
    type Pen implements Item @key(fields: "id") {
      id: ID! name: String! price: Money! tags: [String!] color: Color! constructor: String
    }
    type Author @key(fields: "id") { id: ID! name: String @external }
    type Money @shareable { amount: Int! currency: String! }
    union SearchResult = Book | Pen | Author
    type Shelf { label: String toString: [Item] at: Instant! }
    input ItemFilter { colors: [Color!] minPrice: Int valueOf: String nested: ItemFilter }
  `,
  people: `
    ${federation(['@key', '@shareable'])}
    type Query { authors(first: Int): [Author!]! }
    type Author @key(fields: "id") { id: ID! name: String @shareable bio: String books: [Book!]! hasOwnProperty: Int }
    type Book @key(fields: "id", resolvable: false) { id: ID! }
  `,
  shipping: `
    ${federation(['@key', '@shareable', '@external', '@requires'])}
    enum Color { RED GREEN BLUE }
    type Money @shareable { amount: Int! currency: String! }
    type Book @key(fields: "id") { id: ID! pages: Int @external shippingCost: Money @requires(fields: "pages") }
    type Pen @key(fields: "id") { id: ID! color: Color! @external valueOf: [[Money!]] @requires(fields: "color") }
  `,
};

const ledger = {
  accounts: `
    ${federation(['@key'])}
    scalar Instant
    enum Kind { PERSONAL BUSINESS }
    interface Account @key(fields: "id") { id: ID! owner: String! }
    type Personal implements Account @key(fields: "id") { id: ID! owner: String! birthday: Instant }
    type Business implements Account @key(fields: "id") { id: ID! owner: String! vat: String employees: [Personal!] }
    type Query { accounts(kind: Kind): [Account!]! account(id: ID!): Account }
  `,
  entries: `
    ${federation(['@key', '@interfaceObject'])}
    enum Direction { DEBIT CREDIT }
    type Account @key(fields: "id") @interfaceObject {
      id: ID! balance: Int! entries(last: Int = 2): [Entry!]! isPrototypeOf: Boolean
    }
    type Entry { amount: Int! direction: Direction! memo: String }
    type Query { richest: Account ledgerSize: Int! }
    type Mutation { post(accountId: ID!, amount: Int!, memo: String): Entry }
  `,
};

const social = {
  posts: `
    ${federation(['@key', '@shareable'])}
    scalar JSON
    interface Node { id: ID! }
    type Query { feed(first: Int!, after: String): Page! node(id: ID!): Node }
    type Post implements Node @key(fields: "id") {
      id: ID! title: String! body: String grid: [[String!]!]! meta: JSON reactions: [Reaction!]
    }
    union Reaction = Like | Comment
    type Like { by: ID! at: String }
    type Comment { by: ID! text: String! replies: [Comment!] }
    type Page @shareable { items: [Post!]! cursor: String total: Int! }
    type Mutation { publish(input: PostInput!): Post! }
    input PostInput { title: String! body: String tags: [String!] = [] }
  `,
  users: `
    ${federation(['@key', '@shareable'])}
    type Query { me: User feedOf(userId: ID!): Page! }
    type User @key(fields: "id") { id: ID! handle: String! posts: [Post!]! propertyIsEnumerable: [User] }
    type Post @key(fields: "id") { id: ID! author: User! }
    type Page @shareable { items: [Post!]! cursor: String total: Int! }
  `,
};

function compose(name: string, subgraphs: Record<string, string>): string {
  const result = composeServices(
    Object.entries(subgraphs).map(([subgraph, sdl]) => ({
      name: subgraph,
      typeDefs: graphql.parse(sdl),
      url: `http://${subgraph}.${name}.test/graphql`,
    })),
  );
  if (result.errors) throw new Error(`${name} does not compose: ${result.errors.map((e) => e.message).join('\n')}`);
  return result.supergraphSdl;
}

function load(name: string, sdl: string): TestSupergraph {
  const supergraph = Supergraph.build(sdl);
  const apiSchema = supergraph.apiSchema();
  const subgraphsByUrl = new Map(
    supergraph
      .subgraphs()
      .values()
      .map((s) => [s.url, { name: s.name, schema: s.schema.toGraphQLJSSchema() }] as const),
  );
  return { name, sdl, apiSchema, api: apiSchema.toGraphQLJSSchema(), subgraphsByUrl };
}

/** The shop's own supergraph, with URLs the fake subgraphs answer. */
function shop(): string {
  const sdl = readFileSync(new URL('../../../schema/supergraph.graphql', import.meta.url), 'utf8');
  return sdl.replace(/(@join__graph\(name: "([^"]+)", url: ")[^"]*/g, '$1http://$2.shop.test/graphql');
}

export function testSupergraphs(): TestSupergraph[] {
  return [
    load('shop', shop()),
    load('catalog', compose('catalog', catalog)),
    load('ledger', compose('ledger', ledger)),
    load('social', compose('social', social)),
  ];
}
