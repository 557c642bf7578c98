import type { GraphQLCompositeType, GraphQLField, GraphQLInputType, GraphQLObjectType, GraphQLSchema } from 'graphql';
import { graphql } from './graphql.js';
import { PROTOTYPE_NAMES, Random } from './random.js';

const {
  GraphQLBoolean,
  GraphQLNonNull,
  GraphQLString,
  astFromValue,
  getNamedType,
  isAbstractType,
  isCompositeType,
  isEnumType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
  isUnionType,
  parse,
  print,
  validate,
} = graphql;

/**
 * A seeded generator of valid operations over a supergraph's API schema: fields under random aliases drawn from
 * a pool that includes every Object.prototype member, response names repeated so that they merge, inline and
 * named fragments (spread more than once), @skip and @include with literals and variables on fields and
 * fragments, __typename anywhere, __schema and __type at the root, and arguments as literals or as variables
 * whose values are sent as JSON. graphql-js validation is the judge of validity: a draw that does not validate
 * is dropped and counted.
 */

export interface GeneratedOperation {
  /** The document, one operation and its fragments. */
  text: string;
  /** Request variables as the client sends them: JSON text, parsed by the receiver. */
  variables: string[];
}

const ALIASES = [...PROTOTYPE_NAMES, 'a', 'b', 'id', 'name', 'node', 'items', 'data'];
const VARIABLE_NAMES = ['flag', 'on', 'first', 'input', 'constructor', 'toString', 'valueOf', 'hasOwnProperty', '__proto__'];
const MAX_DEPTH = 4;

interface VariableDefinition {
  name: string;
  type: GraphQLInputType;
  /** The default written in the definition, if any (then the request may leave the variable out). */
  defaultValue?: unknown;
}

/** Response names already selected at one level, with the field each stands for, so repeats can merge. */
type Scope = Map<string, { fieldName: string; argumentsText: string; children: Scope }>;

class OperationWriter {
  private readonly variables = new Map<string, VariableDefinition>();
  private readonly fragments: string[] = [];
  private readonly fragmentNames = new Set<string>();
  private fragmentDepth = 0;

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly random: Random,
  ) {}

  write(): { text: string; variables: VariableDefinition[] } {
    const mutation = this.schema.getMutationType();
    const root = mutation && this.random.chance(0.15) ? mutation : this.schema.getQueryType()!;
    const body = this.selectionSet(root, 0, new Map());
    const definitions = [...this.variables.values()].map(
      (v) => `$${v.name}: ${String(v.type)}${v.defaultValue === undefined ? '' : ` = ${print(astFromValue(v.defaultValue, v.type)!)}`}`,
    );
    const header = `${root === mutation ? 'mutation' : 'query'} Generated${definitions.length ? `(${definitions.join(', ')})` : ''}`;
    return { text: [`${header} ${body}`, ...this.fragments].join('\n'), variables: [...this.variables.values()] };
  }

  private selectionSet(type: GraphQLCompositeType, depth: number, scope: Scope): string {
    const items: string[] = [];
    const count = 1 + this.random.int(depth === 0 ? 4 : 3);
    for (let i = 0; i < count; i++) {
      const item = this.selection(type, depth, scope);
      if (item) items.push(item);
    }
    if (items.length === 0) items.push(this.typename(scope) ?? '__typename');
    return `{ ${items.join(' ')} }`;
  }

  private selection(type: GraphQLCompositeType, depth: number, scope: Scope): string | undefined {
    const roll = this.random.next();
    const isRootQuery = type === this.schema.getQueryType() && depth === 0;
    if (isUnionType(type)) return roll < 0.3 ? this.typename(scope) : this.inlineFragment(type, depth, scope);
    if (roll < 0.55) return this.field(type, depth, scope);
    if (roll < 0.65) return this.typename(scope);
    if (roll < 0.8) return this.inlineFragment(type, depth, scope);
    if (roll < 0.92 || !isRootQuery) return this.fragmentSpread(type, depth, scope);
    return this.introspection(scope);
  }

  /** An alias from the pool, or none; an alias already taken by another field is drawn again, then dropped. */
  private responseName(fieldName: string, argumentsText: string, scope: Scope): string | undefined {
    for (let attempt = 0; attempt < 3; attempt++) {
      const name = this.random.chance(0.5) ? this.random.pick(ALIASES) : fieldName;
      const taken = scope.get(name);
      if (!taken || (taken.fieldName === fieldName && taken.argumentsText === argumentsText)) return name;
    }
    return undefined;
  }

  private written(responseName: string, fieldName: string) {
    return responseName === fieldName ? fieldName : `${responseName}: ${fieldName}`;
  }

  private typename(scope: Scope): string | undefined {
    const responseName = this.responseName('__typename', '', scope);
    if (!responseName) return undefined;
    if (!scope.has(responseName)) scope.set(responseName, { fieldName: '__typename', argumentsText: '', children: new Map() });
    return `${this.written(responseName, '__typename')}${this.directives()}`;
  }

  private field(type: GraphQLObjectType | GraphQLCompositeType, depth: number, scope: Scope): string | undefined {
    if (isUnionType(type)) return this.typename(scope);
    const fields = Object.values(type.getFields()).filter((f) => depth < MAX_DEPTH || isLeafType(getNamedType(f.type)));
    if (fields.length === 0) return this.typename(scope);
    // Sometimes select a response name again, as the same field with the same arguments, so the two merge.
    const repeats = [...scope].filter(([, entry]) => entry.fieldName !== '__typename' && type.getFields()[entry.fieldName]);
    let field: GraphQLField<unknown, unknown>;
    let responseName: string | undefined;
    let argumentsText: string;
    if (repeats.length > 0 && this.random.chance(0.25)) {
      const [name, entry] = this.random.pick(repeats);
      field = type.getFields()[entry.fieldName]!;
      responseName = name;
      argumentsText = entry.argumentsText;
    } else {
      // Objects more often than leaves above the deepest level, so that plans reach across subgraphs.
      const objects = fields.filter((f) => isCompositeType(getNamedType(f.type)));
      field = this.random.pick(objects.length > 0 && this.random.chance(0.4) ? objects : fields);
      argumentsText = this.arguments(field);
      responseName = this.responseName(field.name, argumentsText, scope);
    }
    if (!responseName) return undefined;
    let entry = scope.get(responseName);
    if (!entry) scope.set(responseName, (entry = { fieldName: field.name, argumentsText, children: new Map() }));
    const named = getNamedType(field.type);
    const children = isCompositeType(named) ? ` ${this.selectionSet(named, depth + 1, entry.children)}` : '';
    return `${this.written(responseName, field.name)}${argumentsText}${this.directives()}${children}`;
  }

  private arguments(field: GraphQLField<unknown, unknown>): string {
    const written: string[] = [];
    for (const argument of field.args) {
      const required = isNonNullType(argument.type) && argument.defaultValue === undefined;
      if (!required && this.random.chance(0.5)) continue;
      if (this.random.chance(0.5)) {
        const variable = this.variable(argument.type, !required && this.random.chance(0.3));
        written.push(`${argument.name}: $${variable}`);
      } else {
        written.push(`${argument.name}: ${print(astFromValue(inputValue(argument.type, this.random, 0), argument.type)!)}`);
      }
    }
    return written.length ? `(${written.join(', ')})` : '';
  }

  /** A new variable of this type, or an existing one of the same type. */
  private variable(type: GraphQLInputType, withDefault: boolean): string {
    const same = [...this.variables.values()].filter((v) => String(v.type) === String(type));
    if (same.length > 0 && this.random.chance(0.4)) return this.random.pick(same).name;
    const free = VARIABLE_NAMES.filter((name) => !this.variables.has(name));
    const name = free.length > 0 ? this.random.pick(free) : `v${this.variables.size}`;
    const definitionType = withDefault && isNonNullType(type) ? type.ofType : type;
    this.variables.set(name, {
      name,
      type: definitionType,
      ...(withDefault && { defaultValue: inputValue(type, this.random, 0) }),
    });
    return name;
  }

  /** @skip and @include, sometimes, with a literal or a Boolean variable (with or without a default). */
  private directives(): string {
    let written = '';
    for (const directive of ['skip', 'include']) {
      if (!this.random.chance(0.15)) continue;
      let condition: string;
      if (this.random.chance(0.4)) {
        condition = String(this.random.chance(0.5));
      } else {
        const withDefault = this.random.chance(0.3);
        const booleans = [...this.variables.values()].filter((v) => String(v.type) === (withDefault ? 'Boolean' : 'Boolean!'));
        if (booleans.length > 0 && this.random.chance(0.5)) condition = `$${this.random.pick(booleans).name}`;
        else condition = `$${this.variable(new GraphQLNonNull(GraphQLBoolean), withDefault)}`;
      }
      written += ` @${directive}(if: ${condition})`;
    }
    return written;
  }

  /** Types a fragment inside a selection on `type` may be on: those whose possible types overlap its own. */
  private fragmentTypes(type: GraphQLCompositeType): GraphQLCompositeType[] {
    const possible = new Set(this.possibleTypes(type));
    return Object.values(this.schema.getTypeMap()).filter(
      (candidate): candidate is GraphQLCompositeType =>
        isCompositeType(candidate) && !candidate.name.startsWith('__') && this.possibleTypes(candidate).some((t) => possible.has(t)),
    );
  }

  private possibleTypes(type: GraphQLCompositeType): readonly GraphQLObjectType[] {
    return isAbstractType(type) ? this.schema.getPossibleTypes(type) : [type];
  }

  private inlineFragment(type: GraphQLCompositeType, depth: number, scope: Scope): string | undefined {
    if (this.fragmentDepth >= 2) return this.field(type, depth, scope);
    const condition = this.random.chance(0.2) ? undefined : this.random.pick(this.fragmentTypes(type));
    this.fragmentDepth++;
    const body = this.selectionSet(condition ?? type, depth, scope);
    this.fragmentDepth--;
    return `...${condition ? ` on ${condition.name}` : ''}${this.directives()} ${body}`;
  }

  private fragmentSpread(type: GraphQLCompositeType, depth: number, scope: Scope): string | undefined {
    if (this.fragmentDepth >= 2) return this.field(type, depth, scope);
    const on = this.random.pick(this.fragmentTypes(type));
    // Fragment names go into maps too: some are Object.prototype names.
    const index = this.fragments.length;
    const free = PROTOTYPE_NAMES.filter((n) => !this.fragmentNames.has(n));
    const name = free.length > 0 && this.random.chance(0.5) ? this.random.pick(free) : `F${index}`;
    this.fragmentNames.add(name);
    this.fragments.push(''); // keeps its place; nested fragments take the next ones
    this.fragmentDepth++;
    const body = this.selectionSet(on, depth, scope);
    this.fragmentDepth--;
    this.fragments[index] = `fragment ${name} on ${on.name} ${body}`;
    const spread = () => `...${name}${this.directives()}`;
    return this.random.chance(0.3) ? `${spread()} ${spread()}` : spread();
  }

  private introspection(scope: Scope): string | undefined {
    if (this.random.chance(0.5)) {
      const responseName = this.responseName('__schema', '', scope);
      if (!responseName || scope.has(responseName)) return undefined;
      scope.set(responseName, { fieldName: '__schema', argumentsText: '', children: new Map() });
      return `${this.written(responseName, '__schema')} { queryType { name } mutationType { name kind } directives { name } }`;
    }
    const names = Object.keys(this.schema.getTypeMap()).filter((n) => !n.startsWith('__'));
    const typeName = this.random.chance(0.1) ? 'NoSuchType' : this.random.pick(names);
    const argument = this.random.chance(0.5) ? JSON.stringify(typeName) : `$${this.variable(new GraphQLNonNull(GraphQLString), false)}`;
    const argumentsText = `(name: ${argument})`;
    const responseName = this.responseName('__type', argumentsText, scope);
    if (!responseName || scope.has(responseName)) return undefined;
    scope.set(responseName, { fieldName: '__type', argumentsText, children: new Map() });
    return `${this.written(responseName, '__type')}${argumentsText} { name kind fields { name type { name kind } } possibleTypes { name } }`;
  }
}

/** A valid value of an input type, as the JSON a client would send. */
export function inputValue(type: GraphQLInputType, random: Random, depth: number, nullable = true): unknown {
  if (isNonNullType(type)) return inputValue(type.ofType, random, depth, false);
  if (nullable && random.chance(0.1)) return null;
  if (isListType(type)) return Array.from({ length: random.int(3) }, () => inputValue(type.ofType, random, depth + 1));
  if (isInputObjectType(type)) {
    const value: Record<string, unknown> = Object.create(null);
    for (const field of Object.values(type.getFields())) {
      const required = isNonNullType(field.type) && field.defaultValue === undefined;
      // graphql-js reads an input object's fields with obj[name], so one named after an Object.prototype member
      // is always sent: left out, it would read the inherited member (for the stock gateway as for ours).
      if (required || PROTOTYPE_NAMES.includes(field.name) || (depth < 2 && random.chance(0.5))) {
        value[field.name] = inputValue(field.type, random, depth + 1);
      }
    }
    return value;
  }
  if (isEnumType(type)) return random.pick(type.getValues()).name;
  switch (type.name) {
    case 'Int':
      return random.int(100) - 5;
    case 'Float':
      return Math.round(random.next() * 1000) / 10;
    case 'Boolean':
      return random.chance(0.5);
    case 'ID':
      return `id-${random.int(10)}`;
    default:
      return `text-${random.int(10)}`;
  }
}

/** One set of request variables: every variable without a default, and those with one sometimes. */
function variableValues(variables: VariableDefinition[], random: Random): string {
  const values: Record<string, unknown> = Object.create(null);
  for (const variable of variables) {
    if (variable.defaultValue !== undefined && random.chance(0.5)) continue;
    if (!isNonNullType(variable.type) && variable.defaultValue === undefined && random.chance(0.2)) continue;
    // A condition's variable gets a Boolean: null would be refused only once the response is shaped.
    values[variable.name] = getNamedType(variable.type).name === 'Boolean' ? random.chance(0.5) : inputValue(variable.type, random, 0);
  }
  return JSON.stringify(values);
}

export interface GeneratedOperations {
  operations: GeneratedOperation[];
  /** Draws that did not validate and were dropped. */
  dropped: number;
}

/** `count` valid operations over `schema`, from `seed`, each with `variableSets` sets of variables. */
export function generateOperations(schema: GraphQLSchema, seed: number, count: number, variableSets = 2): GeneratedOperations {
  const random = new Random(seed);
  const operations: GeneratedOperation[] = [];
  let dropped = 0;
  while (operations.length < count) {
    const { text, variables } = new OperationWriter(schema, random).write();
    const errors = validate(schema, parse(text));
    if (errors.length > 0) {
      dropped++;
      if (dropped > count * 5) throw new Error(`seed ${seed}: too many invalid draws, last: ${errors[0]!.message}\n${text}`);
      continue;
    }
    operations.push({ text, variables: Array.from({ length: variableSets }, () => variableValues(variables, random)) });
  }
  return { operations, dropped };
}
