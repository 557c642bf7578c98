import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { assertPatchedVersion } from '../src/patched-version.js';

describe('assertPatchedVersion', () => {
  it('passes for the exact version installed', () => {
    expect(() =>
      assertPatchedVersion('fastify', createRequire(import.meta.url)('fastify/package.json').version, import.meta.url),
    ).not.toThrow();
  });

  it('stops with the installed version, the expected one and the patch that needs checking', () => {
    expect(() => assertPatchedVersion('fastify', '0.0.1', import.meta.url)).toThrow(
      /fastify is \d+\.\d+\.\d+, but the patch in .* was written for 0\.0\.1/,
    );
  });
});
