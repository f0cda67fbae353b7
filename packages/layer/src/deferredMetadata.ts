import { utimesSync } from 'node:fs';
import { IntactPaths } from './intactPaths.ts';
import type { LayerEvent } from './layerEvents.ts';
import type { RootResolver } from './rootResolver.ts';
import { setXattrs, type XattrTarget } from './setXattrs.ts';
import type { TarReadHeader } from './tarReader.ts';

/**
 * What an extraction sets only at its end: xattrs (after every chown, which clears file capabilities)
 * and directory mtimes (writing their children changes them). Paths are kept relative to the root and
 * checked again before use, since a later entry may have replaced a parent with a symlink.
 */
export class DeferredMetadata {
  readonly #resolver: RootResolver;
  readonly #onEvent: ((event: LayerEvent) => void) | undefined;
  readonly #dirTimes: Array<[string, number]> = [];
  readonly #xattrs: Array<XattrTarget & { rel: string }> = [];

  constructor(resolver: RootResolver, onEvent: ((event: LayerEvent) => void) | undefined) {
    this.#resolver = resolver;
    this.#onEvent = onEvent;
  }

  dirTime(rel: string, mtime: number): void {
    this.#dirTimes.push([rel, mtime]);
  }

  xattrs(rel: string, header: TarReadHeader): void {
    if (header.xattrs !== undefined) {
      this.#xattrs.push({ rel, path: this.#resolver.abs(rel), xattrs: header.xattrs });
    }
  }

  /** Sets both where the path is still intact; returns the check, for the caller's own paths. */
  apply(): IntactPaths {
    const root = this.#resolver.root;
    const intact = new IntactPaths(root);
    const xattrs = this.#xattrs.filter((target) => intact.exists(target.rel));
    for (const failure of setXattrs(xattrs)) {
      this.#onEvent?.({
        type: 'extract-xattr-skipped',
        path: failure.path.slice(root.length + 1),
        names: [failure.name],
        reason: failure.reason,
      });
    }
    // Deepest first, so setting a parent's time is not undone by touching its children.
    for (let i = this.#dirTimes.length - 1; i >= 0; i--) {
      const [rel, mtime] = this.#dirTimes[i]!;
      if (intact.isRealDir(rel)) utimesSync(this.#resolver.abs(rel), mtime, mtime);
    }
    return intact;
  }
}
