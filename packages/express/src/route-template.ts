import type { IncomingMessage } from 'node:http';

// Structural views of the Express 4 / Express 5 (router 2.x) internals read here; nothing is imported, so
// one resolver serves whichever Express the application brought.
type Route = { path: unknown };
type Handle = { name: string; stack?: Layer[] };
interface Layer {
  handle: Handle;
  route?: Route;
  rawPath?: unknown; // Express 5: the pattern exactly as written in code
  matchers?: unknown[]; // Express 5 only; tells the two Layer kinds apart
  match(path: string): { path: string } | false | boolean;
  regexp?: RegExp & { fast_slash?: boolean; fast_star?: boolean }; // Express 4
  keys?: Array<{ name: string | number }>; // Express 4
}
type App = { parent?: App; mountpath?: unknown; lazyrouter?: unknown; _router?: Router; router?: Router };
type ExpressRequest = { route?: Route; app?: App; baseUrl?: string; originalUrl?: string; [ROOT]?: App };
type Router = { stack: Layer[] };
type Candidate = { template: string; chain: Layer[] }; // chain: mount layers from the root, then the route's
/** A template; the candidates when mount chains disagree; or the generation at which it was unplaceable. */
type Entry = string | Candidate[] | number;

const ROOT = Symbol('readykit.routeRoot');
const MAX_DEPTH = 64; // guards against a router mounted inside itself
const caches = new WeakMap<App, WeakMap<Route, Entry>>(); // root app → Route → entry: bounded by code
const children = new WeakMap<App, Set<App>>(); // sub-apps seen so far, under their parent
const e4Labels = new WeakMap<Layer, string>();
let generation = 0; // bumped whenever a new sub-app is learned, so unplaceable routes are retried
let walks = 0;

/**
 * Remembers the app the request entered through. Call it at the start of the request, from a middleware
 * on the outermost app: Express switches `req.app` to sub-apps and never records where an app was handed
 * to `router.use()`, so without this a route inside such an app loses the mount path above it.
 */
export function captureRouteRoot(req: IncomingMessage): void {
  const r = req as IncomingMessage & ExpressRequest;
  r[ROOT] = r.app;
}

/**
 * The matched route's template with the mount paths of every router and sub-app above it, e.g.
 * `/api/users/:id/orders`; `undefined` when no route matched (label it "unmatched"). Call it once the
 * response is done (`res.on('finish')`). Values come only from route definitions: one per Route object
 * (per mount chain when a router is mounted at several paths), cached in a WeakMap, so a lookup after the
 * first is two WeakMap reads. A route matched whose handler called `next()` keeps its template even when
 * the final answer is Express's 404. Array paths read `(/a|/b)`, RegExp paths their `String()`. A route
 * whose mount chain Express hides (dispatched by hand from a middleware, or inside an `app.use()` sub-app
 * whose error reached the parent before any response from that sub-app was seen) reads `*` + its path.
 *
 * Express 4 (its layers keep only a compiled RegExp): mount paths made of literal segments (dots and
 * dashes included), `:name` and `:name?` parameters, arrays of those, `/`, and every `app.use()` sub-app
 * mount are exact, as are all route paths; a RegExp mount reads `String(regexp)` as in Express 5; any other
 * mount (custom parameter patterns, `*`, `:file.:ext`) reads as the `String()` of its compiled RegExp.
 */
export function routeTemplate(req: IncomingMessage): string | undefined {
  const r = req as IncomingMessage & ExpressRequest;
  const route = r.route;
  if (route == null) return undefined;
  let root = r[ROOT] ?? r.app;
  if (root === undefined) return unplaced(route);
  while (root.parent !== undefined) root = root.parent;
  const cache = getOr(caches, root, () => new WeakMap<Route, Entry>());
  let entry = cache.get(route);
  if (entry === undefined || typeof entry === 'number') {
    const gen = learn(r.app);
    if (entry !== gen) {
      index(root, cache);
      entry = cache.get(route);
    }
    if (entry === undefined || typeof entry === 'number') {
      cache.set(route, gen);
      return unplaced(route);
    }
  }
  return typeof entry === 'string' ? entry : pick(entry, r);
}

/** @internal For tests: how many times the router tree has been walked. */
export function routeTemplateWalks(): number {
  return walks;
}

function getOr<K extends object, V>(map: WeakMap<K, V>, key: K, make: (key: K) => V): V {
  const found = map.get(key);
  if (found !== undefined) return found;
  const value = make(key);
  map.set(key, value);
  return value;
}

/** Records `app` and its ancestors under their parents: the only way to see inside an `app.use()` mount. */
function learn(app: App | undefined): number {
  for (let a = app; a?.parent !== undefined; a = a.parent) {
    const set = getOr(children, a.parent, () => new Set<App>());
    if (!set.has(a)) {
      set.add(a);
      generation++;
    }
  }
  return generation;
}

/** One walk fills the cache for every route reachable from `root`, not just the one asked for. */
function index(root: App, cache: WeakMap<Route, Entry>): void {
  walks++;
  const found = new Map<Route, Candidate[]>();
  walk(root, routerOf(root)?.stack, '', [], found, 0);
  for (const [route, candidates] of found) {
    const first = candidates[0]!.template;
    cache.set(route, candidates.every((c) => c.template === first) ? first : candidates);
  }
}

// Express 4 apps have `lazyrouter()`; their router is `_router`, and reading `app.router` throws there.
function routerOf(app: App): Router | undefined {
  return typeof app.lazyrouter === 'function' ? app._router : app.router;
}

function walk(
  app: App | undefined, // set for an app's own router, the only place `app.use()` puts sub-app mounts
  stack: Layer[] | undefined,
  prefix: string,
  chain: Layer[],
  found: Map<Route, Candidate[]>,
  depth: number,
): void {
  if (stack === undefined || depth > MAX_DEPTH) return;
  // `app.use(path, subApp)` hides the sub-app in a closure (`mounted_app`); pair learned sub-apps with
  // those layers by mount path, or with all of them when the path cannot be compared (Express 4).
  const portals = app === undefined ? [] : stack.filter((l) => !l.route && l.handle.name === 'mounted_app');
  const kids = portals.length === 0 ? [] : [...(children.get(app!) ?? [])];
  for (const layer of stack) {
    if (layer.route) {
      const own = pathLabel(layer.route.path, false);
      const template = own === '/' && prefix !== '' ? prefix : prefix + own || '/';
      const list = found.get(layer.route) ?? [];
      list.push({ template, chain: [...chain, layer] });
      found.set(layer.route, list);
      continue;
    }
    const h = layer.handle as Handle & App & { handle?: unknown; set?: unknown };
    if (Array.isArray(h.stack)) {
      walk(undefined, h.stack, prefix + mountLabel(layer), [...chain, layer], found, depth + 1);
    } else if (typeof h.handle === 'function' && typeof h.set === 'function') {
      walk(h, routerOf(h)?.stack, prefix + mountLabel(layer), [...chain, layer], found, depth + 1); // router.use(app)
    } else if (portals.includes(layer)) {
      for (const kid of kids) {
        const label = pathLabel(kid.mountpath, true);
        if (label === mountLabel(layer) || !portals.some((p) => mountLabel(p) === label)) {
          walk(kid, routerOf(kid)?.stack, prefix + label, [...chain, layer], found, depth + 1);
        }
      }
    }
  }
}

/**
 * Among mount chains with different templates, the first (in Express's own order) that routes the
 * request's original path to the route; else the first whose mount layers consume `req.baseUrl`, which
 * survives when the response was sent from the route's router; else the first, deterministically.
 */
function pick(candidates: Candidate[], req: ExpressRequest): string {
  const url = req.originalUrl ?? '';
  const q = url.search(/[?#]/);
  const path = q === -1 ? url : url.slice(0, q);
  for (const c of candidates) if (consume(c.chain, path, true)) return c.template;
  if (req.baseUrl) for (const c of candidates) if (consume(c.chain, req.baseUrl, false)) return c.template;
  return candidates[0]!.template;
}

/** Replays Express's prefix trimming along `chain`: mounts, then the route itself when `withRoute`. */
function consume(chain: Layer[], path: string, withRoute: boolean): boolean {
  let p = path;
  for (let i = 0; i < chain.length - 1; i++) {
    const n = matchLength(chain[i]!, p);
    if (n < 0 || (p[n] !== undefined && p[n] !== '/' && p[n] !== '.')) return false;
    p = p.slice(n);
    if (p[0] !== '/') p = `/${p}`;
  }
  return withRoute ? matchLength(chain[chain.length - 1]!, p) >= 0 : p === '/';
}

function matchLength(layer: Layer, path: string): number {
  try {
    if (layer.matchers !== undefined) {
      const m = layer.match(path);
      return typeof m === 'object' ? m.path.length : -1;
    }
    // Express 4's Layer#match stores its result on the shared layer; use the RegExp directly instead.
    const re = layer.regexp;
    if (re === undefined) return -1;
    if (re.fast_slash) return 0;
    if (re.fast_star) return path.length;
    return re.exec(path)?.[0].length ?? -1;
  } catch {
    return -1; // a malformed %-escape: this chain cannot be the one Express took
  }
}

/** Code-defined paths only: strings as written, arrays as `(a|b)`, RegExps as `String(re)`. */
function pathLabel(path: unknown, mount: boolean): string {
  if (typeof path === 'string') return mount ? path.replace(/\/+$/, '') : path; // baseUrl drops it too
  if (path instanceof RegExp) return String(path);
  if (!Array.isArray(path)) return '';
  const parts = path.flat(Number.POSITIVE_INFINITY).map((p) => pathLabel(p, mount));
  return parts.length === 1 ? parts[0]! : `(${parts.join('|')})`;
}

function mountLabel(layer: Layer): string {
  if (layer.matchers !== undefined) return pathLabel(layer.rawPath, true);
  return getOr(e4Labels, layer, express4MountLabel);
}

// path-to-regexp 0.1.x (Express 4) compiles `use()` paths to `^<path>\/?(?=\/|$)`, a parameter `/:name`
// to `(?:\/([^\/]+?))` and `.` to `\.`; arrays join their sources with `|`.
const E4_TAIL = '/?(?=/|$)';
const E4_PARAM = /\(\?:\/\(\[\^\/\]\+\?\)\)(\??)/g;

/**
 * Reads an Express 4 mount path back out of its RegExp, then proves it by compiling the result the way
 * path-to-regexp 0.1.x does and comparing sources; anything that does not round-trip exactly keeps the
 * RegExp itself as its label, which is still fixed by code, never by a request.
 */
function express4MountLabel(layer: Layer): string {
  const re = layer.regexp;
  if (re === undefined || re.fast_slash) return '';
  const keys = layer.keys ?? [];
  let k = 0;
  const parts: string[] = [];
  for (const piece of re.source.replaceAll('\\/', '/').split('|^')) {
    const body = piece.startsWith('^') ? piece.slice(1) : piece;
    if (!body.endsWith(E4_TAIL)) return String(re);
    const path = body
      .slice(0, -E4_TAIL.length)
      .replace(E4_PARAM, (_m, opt: string) => `/:${String(keys[k++]?.name)}${opt}`)
      .replaceAll('\\.', '.');
    if (/[\\^$*+?()[\]{}|]/.test(path.replace(/\/:\w+\??/g, ''))) return String(re);
    parts.push(path);
  }
  const compiled = parts.map(
    (p) =>
      `^${p.replace(/\/:\w+(\?)?|\./g, (m, opt) => (m === '.' ? '\\.' : `(?:/([^/]+?))${opt ?? ''}`))}/?(?=/|$)`,
  );
  if (k !== keys.length || new RegExp(compiled.join('|'), re.flags).source !== re.source) return String(re);
  return pathLabel(parts, true);
}

function unplaced(route: Route): string {
  return `*${pathLabel(route.path, false)}`;
}
