import { runSyscallRules, type SyscallRule } from './runPolicy.ts';
import { syscallNumbers } from './syscallNumbers.ts';

/** One classic BPF instruction (struct sock_filter). */
export interface BpfInstruction {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

// linux/filter.h and linux/seccomp.h
const ldAbsW = 0x20; // BPF_LD | BPF_W | BPF_ABS
const jmpJa = 0x05; // BPF_JMP | BPF_JA
const jmpJeq = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
const jmpJset = 0x45; // BPF_JMP | BPF_JSET | BPF_K
const retK = 0x06; // BPF_RET | BPF_K
export const seccompRet = {
  killProcess: 0x80000000,
  errno: 0x00050000,
  allow: 0x7fff0000,
} as const;
const eperm = 1;
const enosys = 38;

// struct seccomp_data: int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6]
const offsetNr = 0;
const offsetArch = 4;
// The low half of args[0] on a little-endian machine (both supported arches are).
const offsetArg0Low = 16;

export const auditArch = { x86_64: 0xc000003e, aarch64: 0xc00000b7 } as const;
export type SeccompArch = keyof typeof auditArch;
const archColumn: Record<SeccompArch, 0 | 1> = { x86_64: 0, aarch64: 1 };
// x32 syscalls enter the x86_64 table with this bit set; Docker's amd64 profile is not meant for them.
const x32Bit = 0x40000000;

const ld = (k: number): BpfInstruction => ({ code: ldAbsW, jt: 0, jf: 0, k });
const jeq = (k: number, jt: number, jf: number): BpfInstruction => ({ code: jmpJeq, jt, jf, k });
const jset = (k: number, jt: number, jf: number): BpfInstruction => ({ code: jmpJset, jt, jf, k });
const ja = (k: number): BpfInstruction => ({ code: jmpJa, jt: 0, jf: 0, k });
const ret = (k: number): BpfInstruction => ({ code: retK, jt: 0, jf: 0, k });

/**
 * Instructions for one rule, entered with the syscall number in A and left (falling through)
 * with it still there when the rule does not apply. Every jump is short and local.
 */
function ruleInstructions(rule: SyscallRule, nr: number): BpfInstruction[] {
  switch (rule.action) {
    case 'deny':
      return [jeq(nr, 0, 1), ret(seccompRet.errno | eperm)];
    case 'enosys':
      return [jeq(nr, 0, 1), ret(seccompRet.errno | enosys)];
    case 'deny-flags':
      return [
        jeq(nr, 0, 4),
        ld(offsetArg0Low),
        jset(rule.mask >>> 0, 0, 1),
        ret(seccompRet.errno | eperm),
        ret(seccompRet.allow),
      ];
    case 'allow-values': {
      const count = rule.values.length;
      // After the load: `count` comparisons, then the deny, then the allow they jump to.
      const compares = rule.values.map((value, index) => jeq(value >>> 0, count - index, 0));
      return [
        jeq(nr, 0, count + 3),
        ld(offsetArg0Low),
        ...compares,
        ret(seccompRet.errno | eperm),
        ret(seccompRet.allow),
      ];
    }
  }
}

function archBlock(arch: SeccompArch, rules: readonly SyscallRule[]): BpfInstruction[] {
  const block: BpfInstruction[] = [ld(offsetNr)];
  if (arch === 'x86_64') block.push(jset(x32Bit, 0, 1), ret(seccompRet.errno | eperm));
  for (const rule of rules) {
    const nr = syscallNumbers[rule.name][archColumn[arch]];
    if (nr !== null) block.push(...ruleInstructions(rule, nr));
  }
  block.push(ret(seccompRet.allow));
  return block;
}

/**
 * The seccomp program for RUN: checks the architecture first (x86_64 and aarch64 each with
 * their own numbers; any other, such as i386 through int 0x80, kills the process, since its
 * numbers would slip past the table), then applies `rules`, allowing everything else.
 */
export function runSeccompProgram(rules: readonly SyscallRule[] = runSyscallRules): BpfInstruction[] {
  const x86 = archBlock('x86_64', rules);
  const arm = archBlock('aarch64', rules);
  const head = [
    ld(offsetArch),
    jeq(auditArch.x86_64, 0, 1),
    ja(3), // to x86 block
    jeq(auditArch.aarch64, 0, 1),
    ja(1 + x86.length), // past the kill and the x86 block
    ret(seccompRet.killProcess),
  ];
  return [...head, ...x86, ...arm];
}

/** struct sock_filter[] as the kernel (and bwrap --seccomp) reads it: 8 bytes each, little endian. */
export function encodeBpf(program: readonly BpfInstruction[]): Buffer {
  const buffer = Buffer.alloc(program.length * 8);
  program.forEach((instruction, index) => {
    buffer.writeUInt16LE(instruction.code, index * 8);
    buffer.writeUInt8(instruction.jt, index * 8 + 2);
    buffer.writeUInt8(instruction.jf, index * 8 + 3);
    buffer.writeUInt32LE(instruction.k >>> 0, index * 8 + 4);
  });
  return buffer;
}
