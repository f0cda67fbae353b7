import type { StageLayer, StageState } from '../stage/stageState.ts';

interface Pending {
  layers: StageLayer[];
  running?: Promise<void>;
}

/**
 * Layers that belong in a stage's root but are not extracted yet (its base, cache hits). They
 * are extracted just before something needs the files: a step that executes, or a COPY --from
 * reading the stage. A fully cached stage never touches its root.
 */
export class LazyRoots {
  readonly #pending = new WeakMap<StageState, Pending>();

  defer(state: StageState, layers: StageLayer[]): void {
    if (layers.length === 0) return;
    const entry = this.#pending.get(state);
    if (entry) entry.layers.push(...layers);
    else this.#pending.set(state, { layers: [...layers] });
  }

  isPending(state: StageState): boolean {
    return (this.#pending.get(state)?.layers.length ?? 0) > 0;
  }

  /**
   * Extracts the pending layers in order, once, even when several readers ask at the same time.
   * Resolves true when anything was extracted (a snapshot baseline is then stale).
   */
  async materialise(state: StageState, extract: (layers: StageLayer[]) => Promise<void>): Promise<boolean> {
    const entry = this.#pending.get(state);
    if (!entry) return false;
    if (!entry.running) {
      const layers = entry.layers;
      entry.running = extract(layers).then(() => {
        this.#pending.delete(state);
      });
      // A failed extraction may be retried by the next reader.
      entry.running.catch(() => {
        delete entry.running;
      });
    }
    await entry.running;
    return true;
  }
}
