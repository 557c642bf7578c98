/**
 * Patch of @apollo/gateway 2.14: swaps two functions inside its own CommonJS modules, which it calls through
 * their exports objects.
 * - resultShaping.computeResponse becomes the compiled result shaping of ../result-shaping.ts (same answers,
 *   compared with the original by router/test/result-shaping.test.ts).
 * - federation-internals' operationFromDocument remembers the Operation per parsed document, which Apollo
 *   Server hands over again for the same query, instead of rebuilding it on every request.
 * The versions are exact: an upgrade fails here at start instead of silently losing the swap.
 */
import { createRequire } from 'node:module';
import { assert, type Operation, type Schema } from '@apollo/federation-internals';
import { assertPatchedVersion } from '@shop/service';
import { Kind, type OperationDefinitionNode } from 'graphql';
import { compiledComputeResponse, type ComputeResponse, type OperationFromDocument } from '../result-shaping.js';

assertPatchedVersion('@apollo/gateway', '2.14.4', import.meta.url);
assertPatchedVersion('@apollo/federation-internals', '2.14.4', import.meta.url);

/** The @apollo/gateway and @apollo/federation-internals module instances the gateway itself loads. */
const gatewayRequire = createRequire(createRequire(import.meta.url).resolve('@apollo/gateway'));
const gatewayModules = {
  resultShaping: gatewayRequire('./resultShaping.js') as { computeResponse: ComputeResponse },
  operations: gatewayRequire('@apollo/federation-internals/dist/operations.js') as { operationFromDocument: OperationFromDocument },
};
assert(typeof gatewayModules.resultShaping.computeResponse === 'function', '@apollo/gateway has no resultShaping.computeResponse');
assert(typeof gatewayModules.operations.operationFromDocument === 'function', '@apollo/federation-internals has no operationFromDocument');

/** The gateway's own computeResponse, kept for the differential test and the bench. */
export const gatewayComputeResponse: ComputeResponse = gatewayModules.resultShaping.computeResponse;
const gatewayOperationFromDocument = gatewayModules.operations.operationFromDocument;

const operationsByDocument = new WeakMap<Schema, WeakMap<OperationDefinitionNode, Operation>>();

/**
 * The gateway's operationFromDocument, remembered for the call its executor makes on every request: the
 * operation's own definition node (from Apollo Server's parsed-document cache) followed by its fragments,
 * unvalidated (Apollo Server validated the document). Any other call goes straight through.
 */
export const rememberedOperationFromDocument: OperationFromDocument = (schema, document, options) => {
  const [first] = document.definitions;
  if (options?.validate !== false || options.operationName !== undefined || first?.kind !== Kind.OPERATION_DEFINITION) {
    return gatewayOperationFromDocument(schema, document, options);
  }
  let bySchema = operationsByDocument.get(schema);
  if (!bySchema) operationsByDocument.set(schema, (bySchema = new WeakMap()));
  let operation = bySchema.get(first);
  if (!operation) bySchema.set(first, (operation = gatewayOperationFromDocument(schema, document, options)));
  return operation;
};

/** Swaps both into the gateway's modules (idempotent). */
export function installCompiledResultShaping(): void {
  gatewayModules.resultShaping.computeResponse = compiledComputeResponse;
  gatewayModules.operations.operationFromDocument = rememberedOperationFromDocument;
}

/** Puts the gateway's own two back, so that the differential test can run a stock gateway in the same process. */
export function uninstallCompiledResultShaping(): void {
  gatewayModules.resultShaping.computeResponse = gatewayComputeResponse;
  gatewayModules.operations.operationFromDocument = gatewayOperationFromDocument;
}
