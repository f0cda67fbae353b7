import type { RegistryEvent } from '@kiln/registry';
import type { Output } from '../../output.ts';

/** Plain progress lines on stderr for pull and push: one per finished, skipped or mounted blob, and per retry. */
export function registryProgress(output: Output): (event: RegistryEvent) => void {
  return (event) => {
    const short = 'digest' in event ? event.digest.slice(7, 19) : '';
    switch (event.type) {
      case 'blob-done':
        output.error(
          `${event.direction === 'push' ? 'pushed' : 'pulled'} ${short} (${formatBytes(event.size)})`,
        );
        break;
      case 'blob-skipped':
        output.error(
          `${short}: ${event.reason === 'exists' ? 'already in the registry' : 'already in the store'}`,
        );
        break;
      case 'blob-mounted':
        output.error(`${short}: mounted from ${event.from}`);
        break;
      case 'retry':
        output.error(
          `retry ${event.attempt} of ${event.operation} on ${event.registry} in ${event.delayMs} ms: ${event.reason}`,
        );
        break;
      case 'upload-resumed':
        output.error(`${short}: upload resumed at ${formatBytes(event.offset)}`);
        break;
      case 'mirror-failed':
        output.error(`mirror ${event.mirror} failed (${event.reason}); trying the next`);
        break;
      default:
        break;
    }
  };
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
