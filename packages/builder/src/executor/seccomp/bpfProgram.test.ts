import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { findExecutable } from '../findExecutable.ts';
import { auditArch, type BpfInstruction, encodeBpf, runSeccompProgram, seccompRet } from './bpfProgram.ts';
import { runSyscallRules } from './runPolicy.ts';
import { syscallNumbers } from './syscallNumbers.ts';

const ret = 0x06;
const ldAbsW = 0x20;
const jeq = 0x15;

/** Runs the program in a tiny interpreter: what the kernel would answer for a call. */
function evaluate(program: BpfInstruction[], arch: number, nr: number, arg0 = 0): number {
  let pc = 0;
  let a = 0;
  for (let steps = 0; steps < program.length + 1; steps++) {
    const instruction = program[pc]!;
    switch (instruction.code) {
      case ldAbsW:
        a = instruction.k === 0 ? nr : instruction.k === 4 ? arch : instruction.k === 16 ? arg0 >>> 0 : 0;
        pc++;
        break;
      case 0x05:
        pc += 1 + instruction.k;
        break;
      case jeq:
        pc += 1 + (a === instruction.k >>> 0 ? instruction.jt : instruction.jf);
        break;
      case 0x45:
        pc += 1 + ((a & instruction.k) !== 0 ? instruction.jt : instruction.jf);
        break;
      case ret:
        return instruction.k >>> 0;
      default:
        throw new Error(`unknown instruction ${instruction.code}`);
    }
  }
  throw new Error('program did not return');
}

const eperm = (seccompRet.errno | 1) >>> 0;
const enosys = (seccompRet.errno | 38) >>> 0;

describe('runSeccompProgram', () => {
  const program = runSeccompProgram();

  it('checks the architecture first and kills any other (i386 through int 0x80 included)', () => {
    expect(program[0]).toEqual({ code: ldAbsW, jt: 0, jf: 0, k: 4 });
    expect(evaluate(program, 0x40000003, 1)).toBe(seccompRet.killProcess);
    expect(evaluate(program, auditArch.x86_64, 0)).toBe(seccompRet.allow); // read
    expect(evaluate(program, auditArch.aarch64, 63)).toBe(seccompRet.allow); // read
  });

  it('denies every rule by its own number on each architecture, and x32 calls on x86_64', () => {
    for (const rule of runSyscallRules) {
      if (rule.action !== 'deny') continue;
      const [x86, arm] = syscallNumbers[rule.name];
      if (x86 !== null)
        expect([rule.name, evaluate(program, auditArch.x86_64, x86)]).toEqual([rule.name, eperm]);
      if (arm !== null)
        expect([rule.name, evaluate(program, auditArch.aarch64, arm)]).toEqual([rule.name, eperm]);
    }
    expect(evaluate(program, auditArch.x86_64, 0x40000000 + 165)).toBe(eperm);
    // aarch64's mount (40) is x86_64's connect... which stays allowed.
    expect(evaluate(program, auditArch.x86_64, 40)).toBe(seccompRet.allow);
  });

  it('lets clone through without namespace flags, answers clone3 ENOSYS, allows only Docker personalities', () => {
    expect(evaluate(program, auditArch.x86_64, 56, 0x01200011)).toBe(seccompRet.allow); // fork-like
    expect(evaluate(program, auditArch.x86_64, 56, 0x00020000 | 0x11)).toBe(eperm); // CLONE_NEWNS
    expect(evaluate(program, auditArch.aarch64, 220, 0x40000000)).toBe(eperm); // CLONE_NEWNET
    expect(evaluate(program, auditArch.x86_64, 435)).toBe(enosys);
    for (const allowed of [0, 8, 0x20000, 0x20008, 0xffffffff])
      expect(evaluate(program, auditArch.x86_64, 135, allowed)).toBe(seccompRet.allow);
    expect(evaluate(program, auditArch.x86_64, 135, 0x0040000)).toBe(eperm); // ADDR_NO_RANDOMIZE
  });

  it('encodes struct sock_filter: 8 bytes each, little endian', () => {
    const bytes = encodeBpf(program);
    expect(bytes.length).toBe(program.length * 8);
    expect(program.length).toBeLessThan(4096);
    expect([...bytes.subarray(0, 8)]).toEqual([0x20, 0, 0, 0, 4, 0, 0, 0]);
    const last = program.at(-1)!;
    expect(bytes.readUInt32LE(bytes.length - 4)).toBe(last.k);
  });

  // The kernel is the judge: a root process holding every capability, filtered, tries the calls.
  it('makes the kernel refuse namespaces, mounts and odd personalities to a fully privileged root', async () => {
    const bwrap = await findExecutable('bwrap');
    const unshare = await findExecutable('unshare');
    const setarch = await findExecutable('setarch');
    if (!bwrap || !unshare || !setarch) throw new Error('needs bwrap, unshare and setarch');
    const script = [
      `${unshare} -m true && echo unshare-ok || echo unshare-denied`,
      `mount -t tmpfs none /mnt 2>/dev/null && echo mount-ok || echo mount-denied`,
      `${setarch} linux32 true && echo linux32-ok || echo linux32-denied`,
      `${setarch} -R true 2>/dev/null && echo norandom-ok || echo norandom-denied`,
      `grep ^Seccomp: /proc/self/status`,
    ].join('; ');
    // bwrap reads the program from fd 3: here a dup of stdin, which carries it.
    const run = (filtered: boolean) =>
      spawnSync(
        '/bin/sh',
        ['-c', 'exec 3<&0; exec "$@"', 'sh', bwrap, '--dev-bind', '/', '/', '--tmpfs', '/mnt']
          .concat(filtered ? ['--seccomp', '3'] : [])
          .concat(['--', '/bin/sh', '-c', script]),
        { input: encodeBpf(program), encoding: 'utf8' },
      );
    const filtered = run(true);
    expect(run(false).stdout.trim().split('\n')).toEqual([
      'unshare-ok',
      'mount-ok',
      'linux32-ok',
      'norandom-ok',
      'Seccomp:\t0',
    ]);
    expect(filtered.stdout.trim().split('\n')).toEqual([
      'unshare-denied',
      'mount-denied',
      'linux32-ok',
      'norandom-denied',
      'Seccomp:\t2',
    ]);
  });
});
