import { KilnError } from '@kiln/errors';

export const START_MARKER = '<!-- bench:start -->';
export const END_MARKER = '<!-- bench:end -->';
/** Around the short headline table at the top of the project README's Performance section. */
export const HEADLINE_MARKERS = {
  start: '<!-- bench:headline:start -->',
  end: '<!-- bench:headline:end -->',
};

/**
 * Replaces what lies between the markers and nothing else, so the rest of a README others edit is
 * left byte for byte; without markers, appends a `## Performance` section holding them.
 */
export function replaceBetweenMarkers(
  readme: string,
  body: string,
  markers: { start: string; end: string } = { start: START_MARKER, end: END_MARKER },
): string {
  const { start: START_MARKER, end: END_MARKER } = markers;
  const start = readme.indexOf(START_MARKER);
  const end = readme.indexOf(END_MARKER);
  const block = `${START_MARKER}\n${body.trim()}\n${END_MARKER}`;
  if (start === -1 && end === -1) {
    return `${readme.trimEnd()}\n\n## Performance\n\n${block}\n`;
  }
  if (start === -1 || end === -1 || end < start) {
    throw new KilnError(
      'BENCH_README_MARKERS',
      'README has one bench marker without the other, or in the wrong order',
      {
        hint: `put ${START_MARKER} and ${END_MARKER} around the performance figures`,
      },
    );
  }
  return readme.slice(0, start) + block + readme.slice(end + END_MARKER.length);
}
