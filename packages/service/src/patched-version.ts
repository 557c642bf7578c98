import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/**
 * A patch reaches into a dependency's internals, which may change in any release: it asserts at start-up that
 * the dependency is exactly the version it was written for, so an upgrade fails loudly instead of silently.
 * `from` is the patch's `import.meta.url`, so the package resolves as the patch itself sees it.
 */
export function assertPatchedVersion(packageName: string, expected: string, from: string): void {
  let directory = path.dirname(createRequire(from).resolve(packageName));
  for (;;) {
    try {
      const manifest = JSON.parse(readFileSync(path.join(directory, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (manifest.name === packageName) {
        if (manifest.version !== expected) {
          throw new Error(
            `${packageName} is ${manifest.version}, but the patch in ${new URL(from).pathname} was written for ${expected}: check the patch against the new version, then update its expected version`,
          );
        }
        return;
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const parent = path.dirname(directory);
    if (parent === directory) throw new Error(`cannot find the package.json of ${packageName} from ${from}`);
    directory = parent;
  }
}
