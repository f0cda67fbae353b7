import { KilnError } from '@kiln/errors';
import { formatPlatform, type Platform, parsePlatform } from '@kiln/image';

/**
 * The platforms `--platform` (a comma list, repeatable, as `docker buildx build --platform`) and
 * Kaniko's `--custom-platform` (one) ask for; none means the host's. Repeats are dropped.
 */
export function platformsFromFlags(platform: string[] | undefined, customPlatform?: string): Platform[] {
  const words = (platform ?? []).flatMap((value) => value.split(',')).map((word) => word.trim());
  if (customPlatform !== undefined && words.length > 0) {
    throw new KilnError('INVALID_FLAG', '--platform and --custom-platform cannot be combined', {
      hint: 'list every platform in --platform, e.g. --platform linux/amd64,linux/arm64',
      exitCode: 2,
    });
  }
  if (customPlatform !== undefined) return [parsePlatform(customPlatform)];
  const platforms = new Map<string, Platform>();
  for (const word of words) {
    if (word === '') {
      throw new KilnError(
        'INVALID_PLATFORM',
        `--platform "${(platform ?? []).join(',')}" has an empty entry`,
        {
          hint: 'e.g. --platform linux/amd64,linux/arm64',
          exitCode: 2,
        },
      );
    }
    const parsed = parsePlatform(word, '--platform');
    platforms.set(formatPlatform(parsed), parsed);
  }
  return [...platforms.values()];
}
