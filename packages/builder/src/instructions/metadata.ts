import { applyMetadataInstruction, type MetadataInstruction } from '../stage/metadataInstructions.ts';
import type { Step, StepScope } from './step.ts';

/** ENV, LABEL, CMD, USER… : config only. */
export function metadataStep(instruction: MetadataInstruction, scope: StepScope): Step {
  const createdBy = applyMetadataInstruction(scope.state, instruction, scope.metadata);
  return { createdBy, cacheKey: scope.keyFor(createdBy), changes: 'none', cache: 'never', needsTree: false };
}
