import { type Dockerfile, printInstructionLine } from '@kiln/dockerfile';

/** The readable form of `kiln parse`: directives, then one line per instruction with its lines. */
export function formatListing(dockerfile: Dockerfile): string {
  const lines: string[] = [];
  const name = dockerfile.fileName ?? 'Dockerfile';
  const count = dockerfile.instructions.length;
  lines.push(`${name}: ${count} instruction${count === 1 ? '' : 's'}`);
  for (const directive of dockerfile.directives) {
    lines.push(`  directive ${directive.name}=${directive.value} (line ${directive.line})`);
  }
  const positions = dockerfile.instructions.map((instruction) =>
    instruction.startLine === instruction.endLine
      ? `${instruction.startLine}`
      : `${instruction.startLine}-${instruction.endLine}`,
  );
  const width = Math.max(...positions.map((position) => position.length));
  dockerfile.instructions.forEach((instruction, index) => {
    lines.push(
      `  ${positions[index]!.padStart(width)}  ${printInstructionLine(instruction, dockerfile.escape)}`,
    );
    const carrier = instruction.kind === 'ONBUILD' ? instruction.instruction : instruction;
    if ('heredocs' in carrier) {
      for (const heredoc of carrier.heredocs) {
        const bodyLines = heredoc.content === '' ? 0 : heredoc.content.split('\n').length - 1;
        const notes = [
          heredoc.expand ? 'expands variables' : 'literal',
          heredoc.chomp ? 'tabs stripped' : undefined,
        ]
          .filter((note) => note !== undefined)
          .join(', ');
        lines.push(
          `  ${' '.repeat(width)}    <<${heredoc.name}: ${bodyLines} line${bodyLines === 1 ? '' : 's'}, ${notes}`,
        );
      }
    }
  });
  return `${lines.join('\n')}\n`;
}
