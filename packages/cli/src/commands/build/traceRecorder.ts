import { type BuildEvent, writeOutputText } from '@kiln/builder';

interface TraceEvent {
  name: string;
  cat: string;
  ph: 'X' | 'i';
  ts: number;
  dur?: number;
  pid: number;
  tid: number;
  args?: Record<string, unknown>;
}

/** Collects step timings as Chrome trace events (chrome://tracing, Perfetto): one row per stage. */
export function createTraceRecorder() {
  const events: TraceEvent[] = [];
  const origin = performance.now();
  const open = new Map<string, { name: string; start: number }>();
  const rows = new Map<string, number>();
  const row = (stage: string) => {
    if (!rows.has(stage)) rows.set(stage, rows.size + 1);
    return rows.get(stage)!;
  };
  const now = () => Math.round((performance.now() - origin) * 1000);
  return {
    onEvent(event: BuildEvent) {
      if (event.type === 'step-started')
        open.set(`${event.stage}#${event.step}`, { name: event.instruction, start: now() });
      else if (event.type === 'step-done') {
        const started = open.get(`${event.stage}#${event.step}`);
        if (started) {
          events.push({
            name: started.name,
            cat: 'step',
            ph: 'X',
            ts: started.start,
            dur: now() - started.start,
            pid: 1,
            tid: row(event.stage),
            args: { cacheKey: event.cacheKey, emptyLayer: event.emptyLayer },
          });
        }
      } else if (event.type === 'stage-started')
        open.set(`stage:${event.stage}`, { name: `stage ${event.stage}`, start: now() });
      else if (event.type === 'stage-done') {
        const started = open.get(`stage:${event.stage}`);
        if (started)
          events.push({
            name: started.name,
            cat: 'stage',
            ph: 'X',
            ts: started.start,
            dur: now() - started.start,
            pid: 1,
            tid: row(event.stage),
          });
      } else if (event.type === 'layer-written' || event.type === 'snapshot-done') {
        events.push({
          name: event.type,
          cat: 'layer',
          ph: 'X',
          ts: now() - Math.round(event.ms * 1000),
          dur: Math.round(event.ms * 1000),
          pid: 1,
          tid: row(event.stage),
        });
      } else if (event.type === 'image-done' || event.type === 'pushed') {
        events.push({
          name: event.type,
          cat: 'output',
          ph: 'i',
          ts: now(),
          pid: 1,
          tid: 0,
          args: { digest: event.digest },
        });
      }
    },
    toJson() {
      return { traceEvents: events, displayTimeUnit: 'ms' };
    },
    /** Writes the trace (`--trace`, through a device or fifo too); resolves with the failure, if any. */
    async write(path: string): Promise<Error | undefined> {
      try {
        await writeOutputText('--trace', path, JSON.stringify(this.toJson()));
        return undefined;
      } catch (error) {
        return error instanceof Error ? error : new Error('the trace could not be written');
      }
    },
  };
}
