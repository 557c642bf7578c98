import { readFileSync, watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import { Supergraph } from '@apollo/federation-internals';
import type { SupergraphManager } from '@apollo/gateway';
import type { Logger } from '@shop/service';

/**
 * The supergraph file, watched: a changed file that builds is handed to the gateway, which swaps to it
 * without a restart (requests in flight finish on the old one); a file that does not build is refused
 * with a logged error, and the router keeps serving the last good supergraph.
 */
export class SupergraphFile implements SupergraphManager {
  /** The supergraph being served. */
  current: string;
  private watcher?: FSWatcher;
  private debounce?: NodeJS.Timeout;

  constructor(
    readonly file: string,
    private readonly logger: Logger,
  ) {
    this.current = readFileSync(file, 'utf8');
    Supergraph.build(this.current); // refuse to start on a broken file
  }

  async initialize({ update }: { update: (supergraphSdl: string) => void }) {
    // Watch the directory, not the file: editors and `npm run compose` may replace the file by a rename.
    this.watcher = watch(path.dirname(this.file), (_event, name) => {
      if (name !== path.basename(this.file)) return;
      clearTimeout(this.debounce);
      this.debounce = setTimeout(() => void this.reload(update), 100);
    });
    return {
      supergraphSdl: this.current,
      cleanup: async () => {
        clearTimeout(this.debounce);
        this.watcher?.close();
      },
    };
  }

  private async reload(update: (supergraphSdl: string) => void | Promise<void>) {
    let next: string;
    try {
      next = readFileSync(this.file, 'utf8');
    } catch (error) {
      this.logger.error({ err: error, file: this.file }, 'supergraph file unreadable; still serving the last good supergraph');
      return;
    }
    if (next === this.current) return;
    try {
      Supergraph.build(next);
      await update(next);
      this.current = next;
      this.logger.info({ file: this.file }, 'supergraph reloaded');
    } catch (error) {
      this.logger.error({ err: error, file: this.file }, 'new supergraph refused; still serving the last good supergraph');
    }
  }
}
