export type {
  AddInstruction,
  AddOptions,
  ArgDeclaration,
  ArgInstruction,
  BindMount,
  CacheMount,
  CacheSharing,
  CmdInstruction,
  CommandPayload,
  CopyInstruction,
  CopyOptions,
  Directive,
  DirectiveName,
  Dockerfile,
  EntrypointInstruction,
  EnvInstruction,
  EscapeChar,
  ExposeInstruction,
  Flag,
  FromInstruction,
  HealthcheckInstruction,
  HealthcheckOptions,
  Heredoc,
  Instruction,
  InstructionKind,
  KeyValue,
  LabelInstruction,
  MaintainerInstruction,
  Mount,
  OnbuildInstruction,
  ParseOptions,
  RunInstruction,
  SecretMount,
  ShellInstruction,
  SshMount,
  StopsignalInstruction,
  TmpfsMount,
  UserInstruction,
  VolumeInstruction,
  WorkdirInstruction,
} from './ast.ts';
export { expandingInstructions } from './ast.ts';
export type { SyntaxErrorLocation } from './dockerfileSyntaxError.ts';
export { DockerfileSyntaxError } from './dockerfileSyntaxError.ts';
export { parseDockerignore } from './dockerignore.ts';
export type { ExpandOptions, VariableLookup } from './expandWord.ts';
export { expandHeredocContent, expandWord, expandWords } from './expandWord.ts';
export { heredocNameOf, isLoneHeredoc } from './heredocSyntax.ts';
export type { IgnoreMatcher } from './ignoreMatcher.ts';
export { createIgnoreMatcher } from './ignoreMatcher.ts';
export { instructionKinds } from './instructionKinds.ts';
export { parseDockerfile } from './parseDockerfile.ts';
export { printDockerfile, printInstruction, printInstructionLine } from './printDockerfile.ts';
export { quoteForMessage } from './quoteForMessage.ts';
export type { ShellExpansionErrorCode } from './shellExpansionError.ts';
export { ShellExpansionError } from './shellExpansionError.ts';
