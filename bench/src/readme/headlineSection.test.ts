import { describe, expect, it } from 'vitest';
import { resultRow, resultsFile } from '../testing/resultsFile.ts';
import { headlineCommand, headlineSection } from './headlineSection.ts';

const kanikoBaseline = (row: ReturnType<typeof resultRow>, rss: number) => ({
  ...row,
  baseline: { ...row.baseline, name: 'kaniko in pod, cold', peakRssMiB: rss },
});

describe('headlineSection', () => {
  it('shows Kiln against Kaniko in pods (cold, fleet-warm, peak RSS) and against Buildah on a host', () => {
    const cold = kanikoBaseline(
      {
        ...resultRow(
          { suite: 'build', case: 'build-in-pod/small', contender: 'kiln executor in pod, cold' },
          [600, 620],
          [800, 800],
        ),
        peakRssMiB: 60,
      },
      14,
    );
    const kanikoFleet = {
      ...resultRow(
        { suite: 'build', case: 'build-in-pod/small', contender: 'kaniko in pod, fleet-warm' },
        [1300, 1300],
        [800, 800],
      ),
      peakRssMiB: 12,
    };
    const fleet = {
      ...resultRow(
        { suite: 'build', case: 'build-in-pod/small', contender: 'kiln executor in pod, fleet-warm' },
        [260, 260],
        [800, 800],
      ),
      peakRssMiB: 45,
      relativeTarget: { against: 'kaniko in pod, fleet-warm', ratio: 0.2, ratioLow: 0.19, ratioHigh: 0.21 },
    };
    const host = resultRow(
      { suite: 'build', case: 'build-cold/small', contender: 'kiln cold' },
      [850, 850],
      [4700, 4700],
    );
    host.baseline.name = 'buildah vfs cold';
    const text = headlineSection(
      [{ link: 'x.json', results: resultsFile([cold, fleet, kanikoFleet, host]) }],
      'bench/README.md',
    );
    const lines = text.split('\n');
    expect(text).toContain(headlineCommand);
    expect(lines.find((line) => line.startsWith('| small, cold ') && line.includes('Kaniko'))).toMatch(
      /610 ms \| +800 ms \| +0\.762× .*\| 60 MiB \/ 14 MiB/,
    );
    expect(lines.find((line) => line.startsWith('| small, fleet-warm ') && line.includes('Kaniko'))).toMatch(
      /260 ms \| +1\.30 s \| +0\.200× .*\| 45 MiB \/ 12 MiB/,
    );
    expect(lines.find((line) => line.includes('buildah vfs cold on a host'))).toMatch(/850 ms \| +4\.70 s/);
    expect(text).toContain('[bench/README.md](bench/README.md)');
  });

  it('leaves out in-pod rows whose baseline is not Kaniko (the variable was unset)', () => {
    const cold = resultRow(
      { suite: 'build', case: 'build-in-pod/small', contender: 'kiln executor in pod, cold' },
      [600],
      [500],
    );
    cold.baseline.name = 'kiln cold (host)';
    const text = headlineSection([{ link: 'x.json', results: resultsFile([cold]) }], 'bench/README.md');
    expect(text).not.toContain('Kaniko in a pod');
  });
});
