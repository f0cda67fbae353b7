// The one root resolver lives in @kiln/layer (the lowest package that needs it); this module only
// keeps the builder's import path for callers that use it.
export { imagePathOf, resolveInRoot, resolveInRootSync } from '@kiln/layer';
