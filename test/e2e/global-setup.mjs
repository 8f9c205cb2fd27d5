/**
 * The example imports the package by name from dist/: build it once before the browser tests
 * (skipped when dist/ is newer than lib/, as after `npm test`).
 */
import { ensureBuild } from '../../example/ensure-build.mjs';

export default function setup() {
  ensureBuild();
}
