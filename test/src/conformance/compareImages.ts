import { join } from 'node:path';
import { skopeoInspect, unpackWithUmoci } from '../kilnProcess.ts';
import { listTree, type TreeEntry } from '../treeListing.ts';
import { buildahVersionLabel } from './buildah.ts';
import type { NamedException } from './exceptions.ts';

/** The config fields a Dockerfile sets; both builders must agree on each. */
export const comparedConfigFields = [
  'Env',
  'Entrypoint',
  'Cmd',
  'WorkingDir',
  'User',
  'ExposedPorts',
  'Volumes',
  'StopSignal',
  'Healthcheck',
  'OnBuild',
  'Shell',
  'Labels',
] as const;

export interface Difference {
  /** A path in the tree, or `config.<Field>`. */
  where: string;
  kiln: string;
  buildah: string;
}

export interface Comparison {
  /** Differences no named exception explains: each one a conformance failure. */
  unexplained: Difference[];
  /** Which exception explained which difference, for the report. */
  explained: { exception: string; difference: Difference }[];
}

interface RawConfig {
  config: Record<string, unknown> & { Labels?: Record<string, string> };
}

async function rawConfig(reference: string): Promise<RawConfig> {
  const result = await skopeoInspect(reference, true);
  if (result.code !== 0) throw new Error(result.stderr);
  return JSON.parse(result.stdout) as RawConfig;
}

/**
 * Unpacks both images (skopeo + umoci, the same tools for both) and compares every path (type,
 * mode, uid, gid, size, content hash, link target) and the config fields a Dockerfile sets.
 * A difference is explained only by one of `exceptions`, the case's named, documented ones.
 */
export async function compareImages(
  kilnRef: string,
  buildahRef: string,
  work: string,
  exceptions: readonly NamedException[],
): Promise<Comparison> {
  const differences: Difference[] = [];
  const [kilnConfig, buildahConfig] = await Promise.all([rawConfig(kilnRef), rawConfig(buildahRef)]);
  const { [buildahVersionLabel]: _version, ...buildahLabels } = buildahConfig.config.Labels ?? {};
  const buildahFields: Record<string, unknown> = {
    ...buildahConfig.config,
    Labels: Object.keys(buildahLabels).length === 0 ? undefined : buildahLabels,
  };
  for (const field of comparedConfigFields) {
    const ours = JSON.stringify(sortedKeys(emptyAsAbsent(kilnConfig.config[field])));
    const theirs = JSON.stringify(sortedKeys(emptyAsAbsent(buildahFields[field])));
    if (ours !== theirs) differences.push({ where: `config.${field}`, kiln: ours, buildah: theirs });
  }
  const [kilnTree, buildahTree] = await Promise.all([
    unpackWithUmoci(`docker://${kilnRef}`, join(work, 'kiln')).then((root) => listTree(root)),
    unpackWithUmoci(`docker://${buildahRef}`, join(work, 'buildah')).then((root) => listTree(root)),
  ]);
  const entries = new Map<string, { kiln?: TreeEntry; buildah?: TreeEntry }>();
  for (const path of [...new Set([...kilnTree.keys(), ...buildahTree.keys()])].sort()) {
    const kiln = kilnTree.get(path);
    const buildah = buildahTree.get(path);
    entries.set(path, { ...(kiln ? { kiln } : {}), ...(buildah ? { buildah } : {}) });
    if (JSON.stringify(kiln) !== JSON.stringify(buildah))
      differences.push({ where: path, kiln: describeEntry(kiln), buildah: describeEntry(buildah) });
  }
  const comparison: Comparison = { unexplained: [], explained: [] };
  for (const difference of differences) {
    const pair = entries.get(difference.where) ?? {};
    const exception = exceptions.find((candidate) =>
      candidate.covers(difference.where, pair.kiln, pair.buildah),
    );
    if (exception) comparison.explained.push({ exception: exception.name, difference });
    else comparison.unexplained.push(difference);
  }
  return comparison;
}

/** Buildah writes `[]`, `{}` and `""` where BuildKit and Kiln omit the field: the same to a runtime. */
function emptyAsAbsent(value: unknown): unknown {
  if (value === undefined || value === null || value === '') return null;
  if (Array.isArray(value) && value.length === 0) return null;
  if (typeof value === 'object' && !Array.isArray(value) && Object.keys(value as object).length === 0)
    return null;
  return value;
}

/** Objects with their keys in order: label and port maps compare by content, not insertion order. */
function sortedKeys(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const record = value as Record<string, unknown>;
  return Object.fromEntries(
    Object.keys(record)
      .sort()
      .map((key) => [key, sortedKeys(record[key])]),
  );
}

export function describeEntry(entry: TreeEntry | undefined): string {
  if (!entry) return '(absent)';
  const owner = `${entry.type} ${entry.mode.toString(8)} ${entry.uid}:${entry.gid}`;
  const link = entry.target === undefined ? '' : ` -> ${entry.target}`;
  const content =
    entry.sha256 === undefined
      ? ''
      : ` ${entry.size}B ${entry.content === undefined ? entry.sha256.slice(0, 12) : JSON.stringify(entry.content.slice(0, 40))}`;
  return `${owner}${link}${content}`;
}
