import type { CommandPayload, EscapeChar, Instruction } from '@kiln/dockerfile';
import { expandWord, expandWords } from '@kiln/dockerfile';
import { KilnError } from '@kiln/errors';
import type { HealthConfig } from '@kiln/image';
import { parseDuration } from './duration.ts';
import type { StageState } from './stageState.ts';
import { setEnv, stageLookup } from './stageState.ts';

export const defaultShell = ['/bin/sh', '-c'];

export type MetadataInstruction = Extract<
  Instruction,
  {
    kind:
      | 'ENV'
      | 'LABEL'
      | 'CMD'
      | 'ENTRYPOINT'
      | 'EXPOSE'
      | 'VOLUME'
      | 'USER'
      | 'STOPSIGNAL'
      | 'HEALTHCHECK'
      | 'SHELL'
      | 'ONBUILD'
      | 'MAINTAINER';
  }
>;

export function isMetadataInstruction(instruction: Instruction): instruction is MetadataInstruction {
  return [
    'ENV',
    'LABEL',
    'CMD',
    'ENTRYPOINT',
    'EXPOSE',
    'VOLUME',
    'USER',
    'STOPSIGNAL',
    'HEALTHCHECK',
    'SHELL',
    'ONBUILD',
    'MAINTAINER',
  ].includes(instruction.kind);
}

export interface MetadataContext {
  escape: EscapeChar;
  /** Whether CMD was set in this stage (ENTRYPOINT clears an inherited CMD only). */
  cmdSetInStage: boolean;
}

/** Docker's history text for a metadata-only step. */
export function nopCreatedBy(text: string): string {
  return `/bin/sh -c #(nop)  ${text}`;
}

/** Applies a metadata-only instruction to the config; returns the history `created_by`. */
export function applyMetadataInstruction(
  state: StageState,
  instruction: MetadataInstruction,
  context: MetadataContext,
): string {
  const config = state.config.config;
  const lookup = stageLookup(state);
  const expand = (word: string) => expandWord(word, lookup, { escape: context.escape });
  switch (instruction.kind) {
    case 'ENV': {
      const set: string[] = [];
      for (const pair of instruction.pairs) {
        // Each pair sees the ones before it only after the whole instruction, as Docker does.
        const value = expand(pair.value);
        set.push(`${pair.key}=${value}`);
      }
      for (const entry of set) {
        const equals = entry.indexOf('=');
        setEnv(state, entry.slice(0, equals), entry.slice(equals + 1));
      }
      return nopCreatedBy(`ENV ${set.join(' ')}`);
    }
    case 'LABEL': {
      const labels = { ...(config.Labels ?? {}) };
      const set: string[] = [];
      for (const pair of instruction.pairs) {
        const key = expand(pair.key);
        const value = expand(pair.value);
        labels[key] = value;
        set.push(`${key}=${value}`);
      }
      config.Labels = labels;
      return nopCreatedBy(`LABEL ${set.join(' ')}`);
    }
    case 'MAINTAINER': {
      state.config.author = instruction.value;
      return nopCreatedBy(`MAINTAINER ${instruction.value}`);
    }
    case 'CMD': {
      config.Cmd = commandArgs(instruction, config.Shell ?? defaultShell);
      context.cmdSetInStage = true;
      return nopCreatedBy(`CMD ${JSON.stringify(config.Cmd)}`);
    }
    case 'ENTRYPOINT': {
      config.Entrypoint = commandArgs(instruction, config.Shell ?? defaultShell);
      if (!context.cmdSetInStage) config.Cmd = null;
      return nopCreatedBy(`ENTRYPOINT ${JSON.stringify(config.Entrypoint)}`);
    }
    case 'EXPOSE': {
      const ports = { ...(config.ExposedPorts ?? {}) };
      const added: string[] = [];
      for (const value of expandWords(instruction.values.join(' '), lookup, { escape: context.escape })) {
        const port = normalisePort(value);
        ports[port] = {};
        added.push(port);
      }
      config.ExposedPorts = ports;
      return nopCreatedBy(`EXPOSE map[${added.map((port) => `${port}:{}`).join(' ')}]`);
    }
    case 'VOLUME': {
      const volumes = { ...(config.Volumes ?? {}) };
      const added: string[] = [];
      for (const value of instruction.values.map(expand)) {
        if (value.trim() === '') throw new KilnError('INVALID_VOLUME', 'VOLUME with an empty path');
        volumes[value] = {};
        added.push(value);
      }
      config.Volumes = volumes;
      return nopCreatedBy(`VOLUME ${JSON.stringify(added)}`);
    }
    case 'USER': {
      config.User = expand(instruction.value);
      return nopCreatedBy(`USER ${config.User}`);
    }
    case 'STOPSIGNAL': {
      config.StopSignal = expand(instruction.value);
      return nopCreatedBy(`STOPSIGNAL ${config.StopSignal}`);
    }
    case 'SHELL': {
      config.Shell = [...instruction.args];
      return nopCreatedBy(`SHELL ${JSON.stringify(config.Shell)}`);
    }
    case 'HEALTHCHECK': {
      config.Healthcheck = healthConfig(instruction);
      return nopCreatedBy(`HEALTHCHECK &{${JSON.stringify(config.Healthcheck.Test)}}`);
    }
    case 'ONBUILD': {
      const trigger = onbuildTrigger(instruction.raw);
      config.OnBuild = [...(config.OnBuild ?? []), trigger];
      return nopCreatedBy(`ONBUILD ${trigger}`);
    }
  }
}

function commandArgs(payload: CommandPayload, shell: string[]): string[] {
  return payload.form === 'exec' ? [...payload.args] : [...shell, payload.command];
}

function normalisePort(value: string): string {
  const match = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(value);
  if (!match) throw new KilnError('INVALID_PORT', `EXPOSE "${value}" is not a port (e.g. 80, 53/udp)`);
  return `${match[1]}${match[2] ? `-${match[2]}` : ''}/${(match[3] ?? 'tcp').toLowerCase()}`;
}

function healthConfig(instruction: Extract<Instruction, { kind: 'HEALTHCHECK' }>): HealthConfig {
  if (instruction.type === 'NONE') return { Test: ['NONE'] };
  const test =
    instruction.form === 'exec' ? ['CMD', ...instruction.args] : ['CMD-SHELL', instruction.command];
  const health: HealthConfig = { Test: test };
  const options = instruction.options;
  if (options.interval !== undefined) health.Interval = parseDuration(options.interval, 'interval');
  if (options.timeout !== undefined) health.Timeout = parseDuration(options.timeout, 'timeout');
  if (options.startPeriod !== undefined)
    health.StartPeriod = parseDuration(options.startPeriod, 'start-period');
  if (options.startInterval !== undefined) {
    health.StartInterval = parseDuration(options.startInterval, 'start-interval');
  }
  if (options.retries !== undefined) health.Retries = options.retries;
  return health;
}

/** The trigger as Docker stores it: the instruction text after ONBUILD, on one line. */
export function onbuildTrigger(raw: string): string {
  return raw
    .replace(/^\s*onbuild\s+/i, '')
    .replace(/\\\r?\n\s*/g, ' ')
    .trim();
}
