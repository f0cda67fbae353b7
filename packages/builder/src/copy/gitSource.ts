/** An ADD source BuildKit fetches with git: the repository URL, and `#ref:subdir` split off. */
export interface GitSource {
  /** The URL without its fragment, as the clone is given it. */
  url: string;
  /** Branch, tag or commit; none: the remote's HEAD. */
  ref?: string;
  /** A directory inside the tree whose contents are copied; none: the whole tree. */
  subdir?: string;
}

/**
 * BuildKit's rule for an ADD source (gitutil.ParseGitRef): `git://`, `ssh://` and scp-like
 * `git@host:path` are git, and so is an `http(s)://` URL whose path ends in `.git`; any other URL is
 * a plain download. The fragment is `#ref[:subdir]`.
 */
export function parseGitSource(text: string): GitSource | undefined {
  const hash = text.indexOf('#');
  const location = hash === -1 ? text : text.slice(0, hash);
  const fragment = hash === -1 ? '' : text.slice(hash + 1);
  if (!isGitLocation(location)) return undefined;
  const colon = fragment.indexOf(':');
  const ref = colon === -1 ? fragment : fragment.slice(0, colon);
  const subdir = colon === -1 ? '' : fragment.slice(colon + 1);
  return {
    url: location,
    ...(ref === '' ? {} : { ref }),
    ...(subdir === '' ? {} : { subdir }),
  };
}

function isGitLocation(location: string): boolean {
  if (/^(git|ssh):\/\//i.test(location)) return true;
  if (/^git@[^:/]+:/.test(location)) return true;
  if (!/^https?:\/\//i.test(location)) return false;
  try {
    return new URL(location).pathname.endsWith('.git');
  } catch {
    return false;
  }
}
