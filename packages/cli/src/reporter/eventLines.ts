import type { BuildEvent } from '@kiln/builder';
import type { LayerEvent } from '@kiln/layer';
import type { RegistryEvent } from '@kiln/registry';
import type { SnapshotEvent } from '@kiln/snapshot';
import { formatBytes, formatMs, shortDigest } from './formatting.ts';

export const logLevels = ['panic', 'fatal', 'error', 'warn', 'info', 'debug', 'trace'];

export interface LineStyle {
  color: boolean;
  /** Index in `logLevels`. */
  level: number;
}

/** A new event type is a type error here until it is rendered. */
function unrendered(event: never): never {
  throw new Error(`no rendering for event ${JSON.stringify(event)}`);
}

/**
 * The text line (if any) an event prints at a verbosity: shared by the plain and the live
 * reporter, and by every command. Each switch covers its whole union (see `unrendered`). RUN
 * output names its step only when it interleaves with another step's; a warning that every
 * snapshot of a build would repeat is printed once.
 */
export function createEventLines(style: LineStyle) {
  const paint = (code: number, text: string) => (style.color ? `\x1b[${code}m${text}\x1b[0m` : text);
  const dim = (text: string) => paint(2, text);
  const at = (level: string) => style.level >= logLevels.indexOf(level);
  const [warn, info, debug, trace] = ['warn', 'info', 'debug', 'trace'].map(at) as [
    boolean,
    boolean,
    boolean,
    boolean,
  ];
  /** A dim line, shown from a verbosity on. */
  const detail = (shown: boolean, text: string) => (shown ? dim(text) : undefined);
  const warning = (text: string) => (warn ? paint(33, `warning: ${text}`) : undefined);
  const said = new Set<string>();
  const once = (text: string) => {
    if (said.has(text)) return undefined;
    said.add(text);
    return warning(text);
  };
  let lastStep = '';
  const stepOf = (stage: string, step: number) => `${stage} ${step}`;
  const inStage = (stage: string | undefined) => (stage ? `[${stage}] ` : '');

  function registryLine(event: RegistryEvent): string | undefined {
    switch (event.type) {
      case 'blob-progress':
        return undefined; // the live footer's
      case 'blob-done': {
        if (!info) return undefined;
        const [verb, preposition] = event.direction === 'push' ? ['pushed', 'to'] : ['pulled', 'from'];
        return dim(
          `  ${verb} blob ${shortDigest(event.digest)} ${formatBytes(event.size)} ${preposition} ${event.registry}/${event.repository}`,
        );
      }
      case 'blob-skipped':
        return detail(
          debug,
          `  blob ${shortDigest(event.digest)} already ${event.reason === 'exists' ? `in ${event.registry}/${event.repository}` : 'in the blob store'}`,
        );
      case 'blob-mounted':
        return detail(
          info,
          `  mounted blob ${shortDigest(event.digest)} into ${event.registry}/${event.repository} from ${event.from}`,
        );
      case 'retry':
        return warn
          ? paint(
              33,
              `  retry ${event.attempt} of ${event.operation} on ${event.registry} in ${formatMs(event.delayMs)}: ${event.reason}`,
            )
          : undefined;
      case 'upload-resumed':
        return detail(
          info,
          `  upload of ${shortDigest(event.digest)} resumed at ${formatBytes(event.offset)}`,
        );
      case 'manifest-pushed':
        return detail(debug, `  manifest ${shortDigest(event.digest)} put as ${event.reference}`);
      case 'index-entry':
        return info ? `  ${event.platform} ${event.digest} from ${event.source}` : undefined;
      case 'mirror-failed':
        return warning(`mirror ${event.mirror} failed (${event.reason}); trying the next`);
      case 'immutable-tag':
        return warning(`${event.reference}: the tag is immutable and already set; its error ignored`);
      default:
        return unrendered(event);
    }
  }

  function snapshotLine(stage: string | undefined, event: SnapshotEvent): string | undefined {
    switch (event.type) {
      case 'snapshot-start':
        return detail(
          trace,
          `  ${inStage(stage)}snapshot ${event.root} (${event.strategy}, ${event.threads} threads)`,
        );
      case 'snapshot-walked':
        return detail(
          trace,
          `  ${inStage(stage)}walked ${event.entries} entries (${event.walker}), ${event.filesToHash} files to hash, ${formatMs(event.ms)}`,
        );
      case 'snapshot-done':
        return detail(
          trace,
          `  ${inStage(stage)}snapshot: ${event.stats.entries} entries, ${event.stats.filesHashed} files hashed (${formatBytes(event.stats.bytesHashed)}), ${formatMs(event.stats.ms)}`,
        );
      case 'snapshot-skipped':
        return detail(debug, `  ${inStage(stage)}not snapshotted: ${event.path} (${event.reason})`);
      case 'xattrs-unavailable':
        return once(`extended attributes are not recorded: ${event.reason}`);
      default:
        return unrendered(event);
    }
  }

  function layerLine(stage: string | undefined, event: LayerEvent): string | undefined {
    switch (event.type) {
      case 'layer-written':
        return detail(
          trace,
          `  ${inStage(stage)}layer ${shortDigest(event.digest)}: ${event.entries} entries, ${formatBytes(event.size)} ${event.compression}`,
        );
      case 'layer-extracted':
        return detail(
          debug,
          `  ${inStage(stage)}extracted ${event.entries} entries (${formatBytes(event.bytes)})`,
        );
      case 'extract-ignored':
        return detail(debug, `  ${inStage(stage)}not extracted (ignored path): ${event.path}`);
      case 'extract-xattr-skipped':
        return warning(
          `${inStage(stage)}extended attributes ${event.names.join(', ')} of ${event.path} not restored: ${event.reason}`,
        );
      default:
        return unrendered(event);
    }
  }

  function line(event: BuildEvent): string | undefined {
    switch (event.type) {
      case 'build-started':
        return info
          ? paint(
              1,
              `Building ${event.target} (stages: ${event.stages.join(', ')}; executor: ${event.executor})`,
            )
          : undefined;
      case 'stage-started':
        return info ? paint(36, `[${event.stage}] FROM ${event.base}`) : undefined;
      case 'base-pulled':
        return detail(
          info,
          `  base ${event.reference}@${shortDigest(event.digest)} (${event.layers} layers, ${formatMs(event.ms)})`,
        );
      case 'step-started':
        lastStep = stepOf(event.stage, event.step);
        return info
          ? `${paint(1, `[${event.stage} ${event.step}/${event.steps}]`)} ${event.instruction}`
          : undefined;
      case 'run-output': {
        if (!info) return undefined;
        const step = stepOf(event.stage, event.step);
        const prefix = step === lastStep ? '  ' : `  [${step}] `;
        return dim(`${prefix}│ ${event.line}`);
      }
      case 'step-cached':
        return detail(info, `  [${stepOf(event.stage, event.step)}] cached`);
      case 'snapshot-done':
        return detail(
          debug,
          `  snapshot: ${event.changes} changes of ${event.entries} entries (${formatMs(event.ms)})`,
        );
      case 'layer-written':
        return detail(
          info,
          `  layer ${shortDigest(event.digest)} ${formatBytes(event.size)} (${formatMs(event.ms)})`,
        );
      case 'step-done':
        return detail(debug, `  [${stepOf(event.stage, event.step)}] done in ${formatMs(event.ms)}`);
      case 'stage-done':
        return detail(debug, `[${event.stage}] done in ${formatMs(event.ms)}`);
      case 'pushed':
        return info ? `${paint(32, 'pushed')} ${event.destination}@${event.digest}` : undefined;
      case 'output-written':
        return detail(info, `wrote ${event.kind} ${event.path}`);
      case 'image-done':
        return info
          ? [
              `${paint(32, 'built')} ${event.digest} (${formatBytes(event.size)}, ${formatMs(event.ms)})`,
              ...(event.platforms ?? []).map(({ platform, digest }) => `  ${platform} ${digest}`),
            ].join('\n')
          : undefined;
      case 'platform-started':
        return info ? `platform ${event.platform} (${event.position}/${event.platforms})` : undefined;
      case 'stage-reused':
        return detail(info, `[${event.stage}] same inputs as for ${event.from}: reused`);
      case 'warning':
        return warning(event.message);
      case 'registry':
        return registryLine(event.event);
      case 'snapshot':
        return snapshotLine(event.stage, event.event);
      case 'layer':
        return layerLine(event.stage, event.event);
      default:
        return unrendered(event);
    }
  }
  return { line, paint, dim };
}
