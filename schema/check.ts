import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { checkSchema, SUBGRAPH_NAMES, subgraphSdlPath, type CheckResult, type SchemaChange, type SubgraphName } from './check-schema.js';

/**
 * `npm run schema:check` (all subgraphs) or `npm run schema:check -w subgraphs/<name>` (`--subgraph <name>`):
 * composes the working tree's subgraph SDL and compares the API schema with the committed supergraph's.
 * Exit code 1 on a composition error, a breaking change or a contract operation that no longer validates.
 *
 * `--base <git-ref>` compares with schema/supergraph.graphql as committed at that ref instead of the file in the
 * working tree. CI passes the previous commit (or the last release tag): compared with the working tree's own
 * supergraph, a breaking change committed together with its recomposed supergraph would pass. A breaking change
 * made on purpose is recorded in schema/approved-changes.json, with its reason, in the same commit.
 */
const CONTRACT = 'schema/operations/storefront.graphql';

function usage(message: string): never {
  console.error(`${message}\nUsage: tsx schema/check.ts [--subgraph ${SUBGRAPH_NAMES.join('|')}] [--base <git-ref>]`);
  process.exit(2);
}

let args: { subgraph?: string; base?: string };
try {
  args = parseArgs({ options: { subgraph: { type: 'string' }, base: { type: 'string' } } }).values;
} catch (error) {
  usage((error as Error).message);
}
const subgraph = args.subgraph as SubgraphName | undefined;
if (subgraph !== undefined && !SUBGRAPH_NAMES.includes(subgraph)) usage(`Unknown subgraph "${subgraph}".`);

let baseline: string | undefined;
if (args.base) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  try {
    baseline = execFileSync('git', ['show', `${args.base}:schema/supergraph.graphql`], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    usage(`Cannot read schema/supergraph.graphql at ${args.base}: ${(error as Error).message.trim()}`);
  }
}

const result = await checkSchema({ subgraph, baseline });
print(result);
process.exit(result.ok ? 0 : 1);

function print(result: CheckResult): void {
  const against = args.base ? `schema/supergraph.graphql at ${args.base}` : 'schema/supergraph.graphql';
  console.log(
    subgraph
      ? `Schema check for the ${subgraph} subgraph (${subgraphSdlPath(subgraph)}), composed with ${SUBGRAPH_NAMES.filter((n) => n !== subgraph).join(' and ')} from the working tree, against ${against}\n`
      : `Schema check: ${SUBGRAPH_NAMES.join(', ')} composed from the working tree, against ${against}\n`,
  );

  if (result.compositionErrors.length) {
    console.log(`FAIL  Composition failed with ${result.compositionErrors.length} error(s):\n`);
    for (const message of result.compositionErrors) {
      const involved = subgraph && (message.includes(`"${subgraph}"`) || message.startsWith(`[${subgraph}]`));
      const mine = involved ? `  <- involves ${subgraph}` : '';
      console.log(indent(`- ${message}${mine}`, 2));
    }
    console.log(`\nFix the subgraph SDL so that the supergraph composes (check with npm run compose), then run the check again.`);
    console.log('\nschema:check FAILED: composition errors.');
    return;
  }
  if (result.baselineError) {
    console.log(`FAIL  ${result.baselineError}`);
    console.log('\nschema:check FAILED.');
    return;
  }

  if (result.breaking.length) {
    console.log(`FAIL  ${result.breaking.length} breaking change(s)${subgraph ? ` from ${subgraph}` : ''}:\n`);
    for (const change of result.breaking) printChange(change, 'x');
  } else {
    console.log(`ok    No breaking changes${subgraph ? ` from ${subgraph}` : ''}.\n`);
  }

  if (result.approved.length) {
    console.log(`ok    ${result.approved.length} breaking change(s) approved in schema/approved-changes.json:\n`);
    for (const change of result.approved) {
      console.log(`  ~ ${change.path}  [${change.type}]${owners(change)}\n      ${change.message}\n      Approved: ${change.approval}\n`);
    }
  }

  if (result.dangerous.length) {
    console.log(`WARN  ${result.dangerous.length} dangerous change(s): allowed, but check that clients handle them:\n`);
    for (const change of result.dangerous) printChange(change, '!');
  }

  if (result.safe.length) {
    console.log(`ok    ${result.safe.length} safe change(s):`);
    for (const change of result.safe) console.log(`  + ${change.path || '(schema)'}  ${change.message}${owners(change)}`);
    console.log('');
  }

  if (result.brokenOperations.length) {
    console.log(`FAIL  ${result.brokenOperations.length} client operation(s) of the contract (${CONTRACT}) no longer validate:\n`);
    for (const op of result.brokenOperations) {
      const cause = op.causes.length ? ` (broken by ${op.causes.join(', ')})` : '';
      console.log(`  x ${op.name}${cause}`);
      for (const error of op.errors) console.log(`      ${error}`);
    }
    console.log('');
  } else if (subgraph && result.elsewhere?.contractErrors) {
    console.log(
      `ok    No operation of the client contract (${CONTRACT}) is broken by ${subgraph}'s changes (other subgraphs' are: see the note below).\n`,
    );
  } else {
    console.log(`ok    Every operation of the client contract (${CONTRACT}) validates.\n`);
  }

  if (result.elsewhere && Object.values(result.elsewhere).some((n) => n > 0)) {
    const e = result.elsewhere;
    console.log(
      `note  Not shown: changes from other subgraphs (${e.breaking} breaking, ${e.dangerous} dangerous, ${e.safe} safe, ${e.contractErrors} contract error(s)). Run npm run schema:check at the repository root for the whole report.\n`,
    );
  }
  if (result.supergraphStale) {
    console.log(
      'note  schema/supergraph.graphql is not what composition produces now: run npm run compose to update schema/supergraph.graphql\n',
    );
  }

  if (result.ok) {
    console.log('schema:check passed.');
  } else {
    const reasons = [
      result.breaking.length ? `${result.breaking.length} breaking change(s)` : '',
      result.contractErrors.length ? `${result.contractErrors.length} contract error(s)` : '',
    ].filter(Boolean);
    console.log(`schema:check FAILED: ${reasons.join(', ')}.`);
  }
}

function printChange(change: SchemaChange, mark: string): void {
  console.log(`  ${mark} ${change.path || '(schema)'}  [${change.type}]${owners(change)}`);
  console.log(`      ${change.message}`);
  if (change.reason) console.log(indent(change.reason, 6));
  if (change.locations.length) console.log(`      Where: ${change.locations.join(', ')}`);
  if (change.operations.length) {
    const verb = change.level === 'BREAKING' ? 'Breaks' : 'Affects';
    console.log(`      ${verb} client operation(s): ${change.operations.join(', ')} (${CONTRACT})`);
  } else if (change.level === 'BREAKING') {
    console.log(`      No operation of the client contract uses it, but other clients may.`);
  }
  if (change.fix) console.log(`      Fix: ${change.fix}`);
  console.log('');
}

function owners(change: SchemaChange): string {
  if (subgraph || change.subgraphs.length === 0) return '';
  return `  from ${change.subgraphs.join(', ')}`;
}

function indent(text: string, spaces: number): string {
  return text
    .split('\n')
    .map((line) => ' '.repeat(spaces) + line)
    .join('\n');
}
