import { readdirSync, readFileSync } from 'node:fs';
import { AstBuilder, GherkinClassicTokenMatcher, Parser } from '@cucumber/gherkin';
import { IdGenerator } from '@cucumber/messages';
import { CAMARA_DIR } from './camara-openapi.js';

export interface FeatureScenario {
  /** The scenario's tag (CAMARA names every scenario by one), without `@`. */
  tag: string;
  name: string;
  /** Background steps first, then the scenario's. */
  steps: string[];
}

export interface CamaraFeature {
  file: string;
  name: string;
  scenarios: FeatureScenario[];
}

/** Parses every `.feature` file in test/fixtures/camara with the official Gherkin parser. */
export function loadCamaraFeatures(): CamaraFeature[] {
  const files = readdirSync(CAMARA_DIR)
    .filter((f) => f.endsWith('.feature'))
    .sort();
  return files.map((file) => {
    const parser = new Parser(
      new AstBuilder(IdGenerator.incrementing()),
      new GherkinClassicTokenMatcher(),
    );
    const document = parser.parse(readFileSync(new URL(file, CAMARA_DIR), 'utf8'));
    const feature = document.feature;
    if (feature === undefined) throw new Error(`${file}: no Feature`);
    const background: string[] = [];
    const scenarios: FeatureScenario[] = [];
    for (const child of feature.children) {
      if (child.background !== undefined)
        background.push(...child.background.steps.map((s) => s.text));
      if (child.scenario !== undefined) {
        const tags = child.scenario.tags.map((t) => t.name.replace(/^@/, ''));
        if (tags.length !== 1 || tags[0] === undefined) {
          throw new Error(`${file}: scenario "${child.scenario.name}" must carry exactly one tag`);
        }
        scenarios.push({
          tag: tags[0],
          name: child.scenario.name,
          steps: [...background, ...child.scenario.steps.map((s) => s.text)],
        });
      }
    }
    return { file, name: feature.name, scenarios };
  });
}
