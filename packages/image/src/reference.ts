import { KilnError } from '@kiln/errors';
import { type Digest, isDigest } from './digest.ts';

/** An image reference, normalised: `alpine` → registry `index.docker.io`, repository `library/alpine`, tag `latest`. */
export interface Reference {
  /** `index.docker.io`, `ghcr.io`, `127.0.0.1:5000`, `[::1]:5000`. */
  readonly registry: string;
  /** `library/alpine`, `team/app`. */
  readonly repository: string;
  /** Set unless the reference names only a digest. */
  readonly tag?: string;
  readonly digest?: Digest;
  /** `registry/repository[:tag][@digest]`. */
  toString(): string;
}

export const dockerHubRegistry = 'index.docker.io';
const dockerHubAliases = new Set([
  'docker.io',
  'index.docker.io',
  'registry-1.docker.io',
  'registry.hub.docker.com',
]);

// Grammar from distribution's reference package: lowercase path components joined by `.`, `_`, `__` or dashes.
const pathComponent = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const hostPattern =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::[0-9]{1,5})?$/;
const tagPattern = /^[\w][\w.-]{0,127}$/;
const maxNameLength = 255;

export interface ParseReferenceOptions {
  /** Tag when the text names neither tag nor digest (default `latest`). */
  defaultTag?: string;
}

/** Parses and normalises an image reference; throws INVALID_REFERENCE with the reason. */
export function parseReference(text: string, options: ParseReferenceOptions = {}): Reference {
  const fail = (reason: string): never => {
    throw new KilnError('INVALID_REFERENCE', `invalid image reference "${text}": ${reason}`, {
      hint: 'expected [registry[:port]/]repository[:tag][@sha256:digest], e.g. alpine:3.20 or 127.0.0.1:5000/team/app:1',
    });
  };
  const trimmed = text.trim();
  if (trimmed === '') fail('empty');
  if (trimmed.includes('://')) fail('a reference has no URL scheme');

  let rest = trimmed;
  let digest: Digest | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    const digestText = rest.slice(at + 1);
    if (!isDigest(digestText))
      fail(`digest "${digestText}" is not sha256: followed by 64 lowercase hex digits`);
    digest = digestText as Digest;
    rest = rest.slice(0, at);
  }

  let tag: string | undefined;
  // A colon after the last slash starts a tag; one before it belongs to a registry port.
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!tagPattern.test(tag)) fail(`tag "${tag}" must be 1-128 of [A-Za-z0-9_.-], not starting with . or -`);
  }

  let registry = dockerHubRegistry;
  let repository = rest;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    // Docker's rule: the first component is a registry if it has a dot, a port, is localhost, or has capitals.
    if (
      first.includes('.') ||
      first.includes(':') ||
      first === 'localhost' ||
      first !== first.toLowerCase()
    ) {
      if (!hostPattern.test(first)) fail(`registry "${first}" is not a host[:port]`);
      registry = dockerHubAliases.has(first.toLowerCase()) ? dockerHubRegistry : first.toLowerCase();
      repository = rest.slice(slash + 1);
    }
  }
  if (repository === '') fail('missing repository');
  if (repository !== repository.toLowerCase()) fail('repository names must be lowercase');
  for (const component of repository.split('/')) {
    if (!pathComponent.test(component)) fail(`"${component}" is not a valid repository path component`);
  }
  if (registry === dockerHubRegistry && !repository.includes('/')) repository = `library/${repository}`;
  if (`${registry}/${repository}`.length > maxNameLength)
    fail(`name longer than ${maxNameLength} characters`);
  if (tag === undefined && digest === undefined) tag = options.defaultTag ?? 'latest';
  return createReference(registry, repository, tag, digest);
}

export function createReference(
  registry: string,
  repository: string,
  tag?: string,
  digest?: Digest,
): Reference {
  return Object.freeze({
    registry,
    repository,
    ...(tag === undefined ? {} : { tag }),
    ...(digest === undefined ? {} : { digest }),
    toString: () =>
      `${registry}/${repository}${tag === undefined ? '' : `:${tag}`}${digest ? `@${digest}` : ''}`,
  });
}

/** The same repository with another tag (and no digest). */
export function withTag(reference: Reference, tag: string): Reference {
  if (!tagPattern.test(tag)) {
    throw new KilnError('INVALID_REFERENCE', `invalid tag "${tag}"`, {
      hint: 'a tag is 1-128 of [A-Za-z0-9_.-], not starting with . or -',
    });
  }
  return createReference(reference.registry, reference.repository, tag);
}

/** The same repository pinned to a digest (the tag kept for display). */
export function withDigest(reference: Reference, digest: Digest): Reference {
  return createReference(reference.registry, reference.repository, reference.tag, digest);
}

/** What goes after `/manifests/`: the digest when pinned, else the tag. */
export function manifestIdentifier(reference: Reference): string {
  return reference.digest ?? reference.tag ?? 'latest';
}

export function isDockerHub(reference: Reference): boolean {
  return reference.registry === dockerHubRegistry;
}
