import { readFile } from 'node:fs/promises';
import { KilnError } from '@kiln/errors';
import { resolveInRoot } from '@kiln/layer';
import type { ExecUser } from '../executor/executor.ts';

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
}

interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

/**
 * Resolves a USER / --chown spec (`name`, `uid`, `name:group`, `uid:gid`) against the stage
 * root's /etc/passwd and /etc/group, as runc does: a name must exist; a numeric uid need not
 * (then gid 0); supplementary groups are the groups listing the user by name.
 */
export async function resolveUser(root: string, spec: string): Promise<ExecUser> {
  const text = spec.trim();
  // No USER is 0:0 and `uid:gid` is taken as written, neither reading /etc/passwd (BuildKit's
  // fast path): a scratch image with one static binary has none.
  if (text === '') return { uid: 0, gid: 0, groups: [] };
  const numeric = /^(\d+|root):(\d+|root)$/.exec(text);
  if (numeric) return { uid: idOf(numeric[1]!), gid: idOf(numeric[2]!), groups: [] };
  const colon = text.indexOf(':');
  const userPart = colon === -1 ? text : text.slice(0, colon);
  const groupPart = colon === -1 ? undefined : text.slice(colon + 1);
  const passwd = await readPasswd(root);
  const groups = await readGroups(root);

  let uid: number;
  let gid = 0;
  let name: string | undefined;
  if (/^\d+$/.test(userPart)) {
    uid = Number(userPart);
    const entry = passwd.find((candidate) => candidate.uid === uid);
    if (entry) {
      gid = entry.gid;
      name = entry.name;
    }
  } else {
    const entry = passwd.find((candidate) => candidate.name === userPart);
    if (!entry && userPart === 'root' && passwd.length === 0) {
      // An image without /etc/passwd (scratch) still runs root as 0:0.
      uid = 0;
    } else if (!entry) {
      throw new KilnError('UNKNOWN_USER', `user "${userPart}" is not in the image's /etc/passwd`, {
        hint: 'create it in an earlier RUN (useradd/adduser) or use a numeric uid',
      });
    } else {
      uid = entry.uid;
      gid = entry.gid;
      name = entry.name;
    }
  }
  if (groupPart !== undefined && groupPart !== '') {
    if (/^\d+$/.test(groupPart)) gid = Number(groupPart);
    else {
      const group = groups.find((candidate) => candidate.name === groupPart);
      if (!group) {
        throw new KilnError('UNKNOWN_GROUP', `group "${groupPart}" is not in the image's /etc/group`);
      }
      gid = group.gid;
    }
    // An explicit group replaces the supplementary groups, as Docker does.
    return { uid, gid, groups: [] };
  }
  const supplementary =
    name === undefined
      ? []
      : groups.filter((group) => group.members.includes(name)).map((group) => group.gid);
  return { uid, gid, groups: supplementary.filter((group) => group !== gid) };
}

function idOf(text: string): number {
  return text === 'root' ? 0 : Number(text);
}

async function readLines(root: string, path: string): Promise<string[][]> {
  try {
    const text = await readFile(await resolveInRoot(root, path), 'utf8');
    return text
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.startsWith('#'))
      .map((line) => line.split(':'));
  } catch {
    return [];
  }
}

async function readPasswd(root: string): Promise<PasswdEntry[]> {
  return (await readLines(root, '/etc/passwd'))
    .filter((fields) => fields.length >= 4 && /^\d+$/.test(fields[2] ?? '') && /^\d+$/.test(fields[3] ?? ''))
    .map((fields) => ({ name: fields[0]!, uid: Number(fields[2]), gid: Number(fields[3]) }));
}

async function readGroups(root: string): Promise<GroupEntry[]> {
  return (await readLines(root, '/etc/group'))
    .filter((fields) => fields.length >= 3 && /^\d+$/.test(fields[2] ?? ''))
    .map((fields) => ({
      name: fields[0]!,
      gid: Number(fields[2]),
      members: (fields[3] ?? '').split(',').filter(Boolean),
    }));
}
