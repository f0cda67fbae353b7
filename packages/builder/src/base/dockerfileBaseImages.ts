import { parseDockerfile } from '@kiln/dockerfile';
import { hostPlatform, type Platform } from '@kiln/image';
import { planStages } from '../plan/planStages.ts';
import { platformArgs } from '../plan/platformArgs.ts';

export interface BaseImage {
  reference: string;
  /** `FROM --platform=…` when the line sets one. */
  platform?: Platform;
}

/**
 * The images a Dockerfile's FROM lines pull, as a build would resolve them (global ARGs, then
 * `--build-arg`, then the automatic platform args), for Kaniko's warmer: every stage, not only the
 * target's, without stage names and `scratch`, each once.
 */
export function dockerfileBaseImages(
  text: string,
  options: { fileName: string; buildArgs: Map<string, string>; platform?: Platform },
): BaseImage[] {
  const dockerfile = parseDockerfile(text, { fileName: options.fileName });
  const platform = options.platform ?? hostPlatform();
  const plan = planStages(dockerfile, {
    buildArgs: options.buildArgs,
    automaticArgs: platformArgs(platform, hostPlatform()),
  });
  const seen = new Set<string>();
  const images: BaseImage[] = [];
  for (const stage of plan.stages) {
    if (stage.baseStage !== undefined || stage.base.toLowerCase() === 'scratch') continue;
    const key = `${stage.base} ${JSON.stringify(stage.platform ?? null)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    images.push({ reference: stage.base, ...(stage.platform ? { platform: stage.platform } : {}) });
  }
  return images;
}
