import assert from 'node:assert/strict';

/** The text of a README's `## title` section, up to the next `## ` heading; fails the test when absent. */
export function readmeSection(readme: string, title: string): string {
  const start = readme.indexOf(`## ${title}\n`);
  assert.ok(start >= 0, `README has a "${title}" section`);
  const end = readme.indexOf('\n## ', start + 4);
  return readme.slice(start, end < 0 ? undefined : end);
}
