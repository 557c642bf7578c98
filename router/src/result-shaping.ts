import {
  ERRORS,
  FieldSelection,
  Variable,
  assert,
  isCompositeType,
  isCustomScalarType,
  isEnumType,
  isListType,
  isNonNullType,
  isObjectType,
  isSubtype,
  typenameFieldName,
  type CompositeType,
  type Directive,
  type NamedType,
  type Operation,
  type OutputType,
  type Schema,
  type SelectionSet,
} from '@apollo/federation-internals';
import type { DocumentNode, GraphQLError } from 'graphql';

/**
 * Result shaping compiled once per operation, for @apollo/gateway 2.14.
 *
 * After its fetches the gateway turns the merged subgraph data into the client's response (drops the keys it
 * added, fills __typename, applies @skip/@include, nulls what is null but must not be) with computeResponse,
 * which interprets the operation for every value it visits: directive lookups, type lookups and getters
 * through @apollo/federation-internals, and a result object per value. On OrderHistory that was about a fifth
 * of the router's CPU, and the gateway also rebuilt the Operation from the document on every request.
 *
 * This module keeps computeResponse's algorithm, line for line, but runs it over a plain tree built once per
 * operation: directives, response names, types and leaf checks are looked up when the tree is built. The
 * Operation is rebuilt only when the document is new (Apollo Server hands the gateway the same parsed document
 * for the same query), so the tree is found in a WeakMap. router/test/result-shaping.test.ts compares this with
 * the gateway's own computeResponse, and the router's whole execution with a stock gateway's, over generated
 * operations on several supergraphs and generated data, invalid values included.
 *
 * patches/gateway-result-shaping.ts swaps both into the gateway.
 */

export type OperationFromDocument = (
  schema: Schema,
  document: DocumentNode,
  options?: { operationName?: string; validate?: boolean },
) => Operation;
export type ComputeResponse = (input: {
  operation: Operation;
  variables?: Record<string, unknown>;
  input: Record<string, unknown> | null | undefined;
  introspectionHandling: (selection: FieldSelection) => unknown;
}) => { data?: Record<string, unknown> | null; errors: GraphQLError[] };

/** A @skip or @include: a literal, or a variable read per request. */
interface Condition {
  skip: boolean;
  literal?: boolean;
  variable?: string;
  /** The directive as written, for the assertion's message. */
  written: string;
}

type Shape =
  | { kind: 'nonNull'; ofType: Shape; display: string }
  | { kind: 'list'; ofType: Shape; display: string }
  | { kind: 'composite'; type: CompositeType; display: string }
  | { kind: 'leaf'; isValid: (value: unknown) => boolean; display: string };

type CompiledSelection =
  | {
      kind: 'field';
      conditions: Condition[] | null;
      responseName: string;
      isTypename: boolean;
      /** The gateway answers __schema and __type itself; kept for its introspection handler. */
      introspection: FieldSelection | null;
      shape: Shape;
      children: CompiledSelection[] | null;
    }
  | { kind: 'fragment'; conditions: Condition[] | null; typeCondition: CompositeType | undefined; children: CompiledSelection[] };

interface CompiledOperation {
  rootType: CompositeType;
  selections: CompiledSelection[];
  /**
   * A response object. computeResponse makes them with a null prototype: reading `output[name]` then never finds
   * an inherited member (`constructor`, `toString`...) and writing `__proto__` never sets a prototype. V8 keeps
   * those as hash tables, slower to fill and to serialize, so an operation none of whose response names a plain
   * object inherits gets plain objects, which share their shape.
   */
  newObject: () => Record<string, unknown>;
  /** Variables with defaults, merged under the request's only when a @skip/@include reads one. */
  defaultedVariables: Record<string, unknown>;
  /** `schema.type(name)`, remembered. */
  typeNamed: (name: string) => NamedType | undefined;
  /** `isSubtype(typeCondition, type)`, remembered per pair. */
  isSubtype: (typeCondition: CompositeType, type: NamedType) => boolean;
}

const integerString = /^-?(?:0|[1-9][0-9]*)$/;

function leafCheck(schema: Schema, type: NamedType): (value: unknown) => boolean {
  // federation-internals' isValidLeafValue, with the type comparisons made once.
  if (isCustomScalarType(type)) return () => true;
  const isBoolean = type === schema.booleanType();
  const isInt = type === schema.intType();
  const isIntOrId = isInt || type === schema.idType();
  const isFloat = type === schema.floatType();
  const enumValues = isEnumType(type) ? new Set(type.values.map((value) => value.name)) : null;
  return (value) => {
    if (typeof value === 'boolean') return isBoolean;
    if (typeof value === 'number' && isFinite(value)) return isIntOrId ? integerString.test(String(value)) : isFloat;
    if (typeof value === 'string') return enumValues ? enumValues.has(value) : !isBoolean && !isInt && !isFloat;
    return false;
  };
}

function shapeOf(schema: Schema, type: OutputType): Shape {
  // A non-null's message names the type it wraps.
  if (isNonNullType(type)) return { kind: 'nonNull', ofType: shapeOf(schema, type.ofType), display: String(type.ofType) };
  if (isListType(type)) return { kind: 'list', ofType: shapeOf(schema, type.ofType), display: String(type) };
  if (isCompositeType(type)) return { kind: 'composite', type, display: String(type) };
  return { kind: 'leaf', isValid: leafCheck(schema, type), display: String(type) };
}

function conditionsOf(schema: Schema, element: { appliedDirectivesOf(definition: unknown): Directive<any, any>[] }): Condition[] | null {
  const conditions: Condition[] = [];
  for (const [definition, skip] of [
    [schema.skipDirective(), true],
    [schema.includeDirective(), false],
  ] as const) {
    const directive = element.appliedDirectivesOf(definition)[0];
    if (!directive) continue;
    const ifArgument = directive.arguments().if as unknown;
    const written = String(directive);
    conditions.push(
      ifArgument instanceof Variable ? { skip, variable: ifArgument.name, written } : { skip, literal: ifArgument as boolean, written },
    );
  }
  return conditions.length > 0 ? conditions : null;
}

/** Whether a response name is also a member every plain object inherits, such as `constructor` or `__proto__`. */
function hasInheritedResponseName(selections: CompiledSelection[]): boolean {
  return selections.some(
    (s) => (s.kind === 'field' && s.responseName in Object.prototype) || (s.children !== null && hasInheritedResponseName(s.children)),
  );
}

function compileSelectionSet(schema: Schema, selectionSet: SelectionSet): CompiledSelection[] {
  return selectionSet.selections().map((selection): CompiledSelection => {
    const conditions = conditionsOf(schema, selection.element);
    if (selection.kind === 'FieldSelection') {
      const field = selection.element;
      return {
        kind: 'field',
        conditions,
        responseName: field.responseName(),
        isTypename: field.name === typenameFieldName,
        introspection: field.definition.isSchemaIntrospectionField() ? selection : null,
        shape: shapeOf(schema, field.definition.type!),
        children: selection.selectionSet ? compileSelectionSet(schema, selection.selectionSet) : null,
      };
    }
    return {
      kind: 'fragment',
      conditions,
      typeCondition: selection.element.typeCondition,
      children: compileSelectionSet(schema, selection.selectionSet),
    };
  });
}

function compile(operation: Operation): CompiledOperation {
  const schema = operation.schema();
  const types = new Map<string, NamedType | undefined>();
  const subtypes = new Map<CompositeType, Map<NamedType, boolean>>();
  const selections = compileSelectionSet(schema, operation.selectionSet);
  return {
    rootType: schema.schemaDefinition.rootType(operation.rootKind)!,
    selections,
    newObject: hasInheritedResponseName(selections) ? () => Object.create(null) : () => ({}),
    defaultedVariables: operation.collectDefaultedVariableValues(),
    typeNamed: (name) => {
      if (!types.has(name)) types.set(name, schema.type(name));
      return types.get(name);
    },
    isSubtype: (typeCondition, type) => {
      let known = subtypes.get(typeCondition);
      if (!known) subtypes.set(typeCondition, (known = new Map()));
      let answer = known.get(type);
      if (answer === undefined) known.set(type, (answer = isSubtype(typeCondition, type as any)));
      return answer;
    },
  };
}

const compiledByOperation = new WeakMap<Operation, CompiledOperation>();

/** One shaping: the request's variables and errors, and the flags updateOutputValue returns beside a value. */
interface Shaping {
  operation: CompiledOperation;
  requestVariables: Record<string, unknown> | undefined;
  variables: Record<string, unknown> | null;
  errors: GraphQLError[];
  introspectionHandling: (selection: FieldSelection) => unknown;
  invalid: boolean;
  hasErrors: boolean;
}

function isSkipped(conditions: Condition[], shaping: Shaping): boolean {
  for (const condition of conditions) {
    let value = condition.literal;
    if (condition.variable !== undefined) {
      shaping.variables ??= { __proto__: null, ...shaping.operation.defaultedVariables, ...shaping.requestVariables };
      const given = shaping.variables[condition.variable];
      assert(
        given !== undefined && typeof given === 'boolean',
        () => `Unexpected value ${given} for variable $${condition.variable} of ${condition.written}`,
      );
      value = given;
    }
    if (condition.skip ? value : !value) return true;
  }
  return false;
}

function describeLast(path: (string | number)[], currentType: string, parentType: CompositeType | NamedType): string {
  const element = path[path.length - 1];
  assert(element !== undefined, 'Should not have been called on an empty path');
  return typeof element === 'string' ? `field ${parentType}.${element}` : `array element of type ${currentType} at index ${element}`;
}

const getOwn = (object: Record<string, unknown>, key: string) =>
  Object.prototype.hasOwnProperty.call(object, key) ? object[key] : undefined;

/** Returns true when a null must bubble up to the parent (computeResponse's NULL_BUBBLE_UP). */
function applySelectionSet(
  input: Record<string, any>,
  selections: CompiledSelection[],
  output: Record<string, unknown>,
  shaping: Shaping,
  path: (string | number)[],
  parentType: CompositeType | NamedType,
): boolean {
  for (const selection of selections) {
    if (selection.conditions && isSkipped(selection.conditions, shaping)) continue;
    if (selection.kind === 'field') {
      const { responseName } = selection;
      const outputValue = output[responseName];
      if (selection.introspection) {
        if (outputValue === undefined) output[responseName] = shaping.introspectionHandling(selection.introspection);
        continue;
      }
      let inputValue = getOwn(input, responseName) ?? null;
      if (selection.isTypename) {
        if (outputValue === undefined) {
          if (inputValue === null && responseName !== typenameFieldName) inputValue = input[typenameFieldName] ?? null;
          const type =
            inputValue !== null && typeof inputValue === 'string' ? (shaping.operation.typeNamed(inputValue) ?? parentType) : parentType;
          if (!isObjectType(type)) return true;
          output[responseName] = type.name;
        }
        continue;
      }
      path.push(responseName);
      output[responseName] = updateOutputValue(outputValue, selection.shape, inputValue, selection.children, path, shaping, parentType);
      path.pop();
      if (shaping.invalid) return true;
    } else {
      const typename = input[typenameFieldName];
      assert(!typename || typeof typename === 'string', () => `Got unexpected value for __typename: ${typename}`);
      const { typeCondition } = selection;
      let applies = true;
      if (typeCondition) {
        const type = typename ? shaping.operation.typeNamed(typename) : parentType;
        applies = !!type && shaping.operation.isSubtype(typeCondition, type);
      }
      if (applies && applySelectionSet(input, selection.children, output, shaping, path, typeCondition ?? parentType)) return true;
    }
  }
  return false;
}

/** computeResponse's updateOutputValue; its { isInvalid, hasErrors } go to shaping.invalid and shaping.hasErrors. */
function updateOutputValue(
  outputValue: any,
  shape: Shape,
  inputValue: any,
  children: CompiledSelection[] | null,
  path: (string | number)[],
  shaping: Shaping,
  parentType: CompositeType | NamedType,
): unknown {
  assert(inputValue !== undefined, 'Should not pass undefined for `inputValue` to this method');
  shaping.invalid = false;
  shaping.hasErrors = false;
  if (outputValue === null || (outputValue !== undefined && !children)) return outputValue;
  switch (shape.kind) {
    case 'nonNull': {
      const updated = updateOutputValue(outputValue, shape.ofType, inputValue, children, path, shaping, parentType);
      if (updated === null) {
        if (!shaping.hasErrors) {
          const message = `Cannot return null for non-nullable ${describeLast(path, shape.display, parentType)}.`;
          shaping.errors.push(ERRORS.INVALID_GRAPHQL.err(message, { path: Array.from(path) }));
        }
        shaping.invalid = true;
        shaping.hasErrors = true;
        return null;
      }
      shaping.invalid = false;
      shaping.hasErrors = false;
      return updated;
    }
    case 'list': {
      if (inputValue === null) return null;
      assert(Array.isArray(inputValue), () => `Invalid non-list value ${inputValue} returned by subgraph for list type ${shape.display}`);
      assert(
        outputValue === undefined || Array.isArray(outputValue),
        () => `Invalid non-list value ${outputValue} returned by subgraph for list type ${shape.display}`,
      );
      // computeResponse fills a list of undefined to stand for a missing output list; reading one as absent is the same.
      const outputList = outputValue as unknown[] | undefined;
      const length = inputValue.length;
      assert(
        outputList === undefined || length === outputList.length,
        () => `[${inputValue}].length (${length}) !== [${outputList}].length (${outputList!.length})`,
      );
      let shouldNullify = false;
      let hasErrors = false;
      const updated = new Array(length);
      for (let index = 0; index < length; index++) {
        path.push(index);
        updated[index] = updateOutputValue(outputList?.[index], shape.ofType, inputValue[index], children, path, shaping, parentType);
        path.pop();
        shouldNullify ||= shaping.invalid;
        hasErrors ||= shaping.hasErrors;
      }
      shaping.invalid = false;
      shaping.hasErrors = hasErrors;
      return shouldNullify ? null : updated;
    }
    case 'composite': {
      if (inputValue === null) return null;
      assert(children, () => `Invalid empty selection set for composite type ${shape.display}`);
      assert(
        typeof inputValue === 'object',
        () => `Invalid non-object value ${inputValue} returned by subgraph for composite type ${shape.display}`,
      );
      assert(
        outputValue === undefined || typeof outputValue === 'object',
        () => `Invalid non-object value ${inputValue} returned by subgraph for composite type ${shape.display}`,
      );
      const inputTypename = inputValue[typenameFieldName];
      assert(
        inputTypename === undefined || typeof inputTypename === 'string',
        () => `Invalid non-string value ${inputTypename} for __typename at ${path}`,
      );
      let objectType: CompositeType | NamedType = shape.type;
      if (inputTypename) {
        const named = shaping.operation.typeNamed(inputTypename);
        if (!named || !isCompositeType(named)) {
          const message = `Invalid __typename found for object at ${describeLast(path, shape.display, parentType)}.`;
          shaping.errors.push(ERRORS.INVALID_GRAPHQL.err(message, { path: Array.from(path) }));
          shaping.hasErrors = true;
          return null;
        }
        objectType = named;
      }
      const outputObject = outputValue === undefined ? shaping.operation.newObject() : outputValue;
      const bubbled = applySelectionSet(inputValue, children, outputObject, shaping, path, objectType);
      shaping.invalid = false;
      shaping.hasErrors = bubbled;
      return bubbled ? null : outputObject;
    }
    case 'leaf': {
      if (inputValue === null) return null;
      assert(outputValue === undefined, () => `Excepted output to be undefined but got ${shape.display} for type ${shape.display}`);
      const valid = shape.isValid(inputValue);
      if (!valid) {
        const message = `Invalid value found for ${describeLast(path, shape.display, parentType)}.`;
        shaping.errors.push(ERRORS.INVALID_GRAPHQL.err(message, { path: Array.from(path) }));
      }
      shaping.hasErrors = !valid;
      return valid ? inputValue : null;
    }
  }
}

/** A drop-in for the gateway's computeResponse. */
export const compiledComputeResponse: ComputeResponse = ({ operation, variables, input, introspectionHandling }) => {
  if (!input) return { data: input, errors: [] };
  let compiled = compiledByOperation.get(operation);
  if (!compiled) compiledByOperation.set(operation, (compiled = compile(operation)));
  const shaping: Shaping = {
    operation: compiled,
    requestVariables: variables,
    variables: null,
    errors: [],
    introspectionHandling,
    invalid: false,
    hasErrors: false,
  };
  const data = compiled.newObject();
  const bubbled = applySelectionSet(input, compiled.selections, data, shaping, [], compiled.rootType);
  return { data: bubbled ? null : data, errors: shaping.errors };
};
