/**
 * A route table as data: `(method, pattern, target)` rows with `:name` parameters, compiled to
 * anchored regular expressions with named groups. `match` answers a request path with the route and
 * its decoded parameters, the methods the path does allow (for a 405 with `Allow`), or nothing.
 *
 * Traps it avoids:
 * - A literal route captured by a parameter route: `/workflows/aggregate` also matches
 *   `/workflows/:id`. A path belongs to the matching routes with the fewest parameters, so the
 *   literal one wins for every method — `DELETE /workflows/aggregate` is a 405, never the deletion
 *   of a run named "aggregate".
 * - Decoding before matching: parameters are matched on the raw path and decoded afterwards, so an
 *   id holding `%2F` stays one segment; bad percent-encoding is a 400, not a thrown `URIError`.
 */
import { BadRequestError } from './server-errors.ts';

/** One row of the table. `pattern` is a path with `:name` segments, e.g. `/api/v1/workflows/:id`. */
export interface RouteDefinition<T> {
  method: string;
  pattern: string;
  target: T;
}

/** A matched route with its URL-decoded path parameters. */
export interface RouteMatch<T> {
  kind: 'found';
  route: RouteDefinition<T>;
  params: Record<string, string>;
}

/** What `RouteTable.match` answers. */
export type RouteLookup<T> =
  RouteMatch<T> | { kind: 'method_not_allowed'; pattern: string; allow: string[] } | { kind: 'not_found' };

interface CompiledRoute<T> {
  definition: RouteDefinition<T>;
  regex: RegExp;
  paramCount: number;
}

const PARAM = /^:([A-Za-z_][A-Za-z0-9_]*)$/;

/** Regex-matching route table; build once, match per request. */
export class RouteTable<T> {
  readonly #routes: CompiledRoute<T>[];

  constructor(definitions: readonly RouteDefinition<T>[]) {
    this.#routes = definitions.map((definition) => compile(definition));
  }

  /** Every route, in the order given. */
  get routes(): readonly RouteDefinition<T>[] {
    return this.#routes.map((route) => route.definition);
  }

  /**
   * Looks a request up. Throws `BadRequestError` when a path parameter is not valid
   * percent-encoding (the path matched, so the caller meant this route).
   */
  match(method: string, path: string): RouteLookup<T> {
    let best: { route: CompiledRoute<T>; groups: Record<string, string> }[] = [];
    for (const route of this.#routes) {
      const found = route.regex.exec(path);
      if (found === null) continue;
      const candidate = { route, groups: found.groups ?? {} };
      const fewest = best[0]?.route.paramCount;
      if (fewest === undefined || route.paramCount < fewest) best = [candidate];
      else if (route.paramCount === fewest) best.push(candidate);
    }
    if (best.length === 0) return { kind: 'not_found' };
    const hit = best.find((candidate) => candidate.route.definition.method === method);
    if (hit === undefined) {
      const allow = [...new Set(best.map((candidate) => candidate.route.definition.method))].sort();
      return { kind: 'method_not_allowed', pattern: best[0]!.route.definition.pattern, allow };
    }
    return { kind: 'found', route: hit.route.definition, params: decodeParams(hit.groups) };
  }
}

function compile<T>(definition: RouteDefinition<T>): CompiledRoute<T> {
  if (!definition.pattern.startsWith('/')) throw new Error(`Route pattern must start with '/': ${definition.pattern}`);
  let paramCount = 0;
  const source = definition.pattern
    .split('/')
    .map((segment) => {
      const param = PARAM.exec(segment);
      if (param === null) return escapeRegex(segment);
      paramCount++;
      return `(?<${param[1]!}>[^/]+)`;
    })
    .join('/');
  return { definition, regex: new RegExp(`^${source}$`), paramCount };
}

function decodeParams(groups: Record<string, string>): Record<string, string> {
  const params: Record<string, string> = {};
  for (const [name, raw] of Object.entries(groups)) {
    try {
      params[name] = decodeURIComponent(raw);
    } catch {
      throw new BadRequestError(`Path parameter '${name}' is not valid percent-encoding`, { parameter: name });
    }
  }
  return params;
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
