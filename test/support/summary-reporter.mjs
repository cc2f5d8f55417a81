// A node:test reporter that writes one JSON line of counts, so the root runner can
// print a single combined summary for all workspaces (turbo interleaves their output).
export default async function* summaryReporter(source) {
  const counts = { passed: 0, failed: 0, skipped: 0, todo: 0, files: 0 };
  const failures = [];
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const { data } = event;
    if (data.details?.type === 'suite') continue;
    if (data.skip !== undefined) counts.skipped++;
    else if (data.todo !== undefined) counts.todo++;
    else if (event.type === 'test:pass') counts.passed++;
    else {
      counts.failed++;
      failures.push(`${data.file ?? '?'}: ${data.name}`);
    }
  }
  yield `${JSON.stringify({ ...counts, failures })}\n`;
}
