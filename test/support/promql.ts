const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'offset',
  'and',
  'or',
  'unless',
  'atan2',
  'inf',
  'nan',
]);

/**
 * The metric names a PromQL expression selects: identifiers that are neither functions,
 * aggregations, keywords, label names (inside `{}` or grouping lists) nor durations.
 * Enough for the queries of autoscaler manifests; not a PromQL parser.
 */
export function metricNames(query: string): string[] {
  const stripped = query
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""') // string literals
    .replace(/\{[^}]*\}/g, ' ') // label matchers
    .replace(/\[[^\]]*\]/g, ' ') // range and subquery durations
    .replace(/\boffset\s+-?[\dsmhdwy]+/gi, ' ') // offsets
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ') // label lists
    .replace(/(^|[^\w:])\d+(?:\.\d+)?(?:e[+-]?\d+)?/gi, '$1 '); // numbers
  const names = new Set<string>();
  for (const m of stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*(?!\s*\()/g)) {
    // `(?!\s*\()` alone would accept "su" of "sum(": require the whole word.
    const end = m.index + m[0].length;
    if (/[a-zA-Z0-9_:]/.test(stripped[end] ?? '')) continue;
    if (/^\s*\(/.test(stripped.slice(end))) continue;
    if (!KEYWORDS.has(m[0].toLowerCase())) names.add(m[0]);
  }
  return [...names];
}

/** The outermost function or aggregation of an expression (`sum` for `sum(rate(x[1m]))`). */
export function outermostCall(query: string): string | undefined {
  const m = /^\s*([a-zA-Z_]\w*)\s*(?:(?:by|without)\s*\([^)]*\)\s*)?\(/.exec(query);
  if (m === null) return undefined;
  // The call must span the whole expression: its closing parenthesis is the last character.
  const open = m.index + m[0].length - 1;
  let depth = 0;
  for (let i = open; i < query.length; i++) {
    if (query[i] === '(') depth++;
    else if (query[i] === ')' && --depth === 0) {
      const rest = query.slice(i + 1).trim();
      return rest === '' || /^(?:by|without)\s*\([^)]*\)$/.test(rest) ? m[1] : undefined;
    }
  }
  return undefined;
}

/** Label matchers of every selector in the expression, e.g. `{namespace: '="readykit"'}` per selector. */
export function selectors(query: string): Array<{ metric: string; matchers: Map<string, string> }> {
  const found: Array<{ metric: string; matchers: Map<string, string> }> = [];
  for (const m of query.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{([^}]*)\}/g)) {
    const matchers = new Map<string, string>();
    for (const l of m[2]!.matchAll(/([a-zA-Z_]\w*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"/g)) {
      matchers.set(l[1]!, `${l[2]}${l[3]}`);
    }
    found.push({ metric: m[1]!, matchers });
  }
  return found;
}

/**
 * A prometheus-adapter `metricsQuery` as the adapter runs it for a pods metric: the series
 * name, the label matchers of the object asked for, and the grouping label.
 */
export function expandAdapterQuery(
  template: string,
  values: { series: string; labelMatchers: string; groupBy: string },
): string {
  return template
    .replaceAll('<<.Series>>', values.series)
    .replaceAll('<<.LabelMatchers>>', values.labelMatchers)
    .replaceAll('<<.GroupBy>>', values.groupBy);
}
