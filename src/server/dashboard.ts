/**
 * `serve({ dashboard })`: an externally supplied dashboard shell mounted at the page routes `/`,
 * `/workflows`, `/workflows/*`, `/reviews` and `/workers` through `Bun.serve`'s `routes`. Every other
 * path — `/api/...`, `/v1/...`, the discovery documents — stays with the API's fetch handler.
 *
 * The shell is served by Bun before the API's handler runs, so `auth` does not cover it (it covers
 * the API calls the shell makes); docs/security.md says how to protect the shell itself.
 */
import { InvalidArgumentError } from '../core/errors.ts';
import { toWireError } from '../protocol/wire-errors.ts';

/**
 * A dashboard shell: a `Response` (served for every GET of a page route), a Bun HTML import, or a
 * function answering each page request.
 *
 * @example
 * serve({ engine, dashboard: new Response(html, { headers: { 'content-type': 'text/html' } }) });
 * serve({ engine, dashboard: (request) => new Response(renderShell(new URL(request.url).pathname)) });
 */
export type DashboardRouteTarget = Response | Bun.HTMLBundle | ((request: Request) => Response | Promise<Response>);

/** The page routes a dashboard shell is mounted at. */
export const DASHBOARD_ROUTES = ['/', '/workflows', '/workflows/*', '/reviews', '/workers'] as const;

type PageRoute =
  | Bun.HTMLBundle
  | {
      GET: Response | ((request: Request) => Response | Promise<Response>);
      HEAD: Response | ((request: Request) => Response | Promise<Response>);
    };

/**
 * The `routes` of `Bun.serve` for a dashboard shell (GET and HEAD; other methods fall through to
 * the API, which answers 404).
 *
 * @example
 * Bun.serve({ routes: dashboardRoutes(shell), fetch });
 */
export function dashboardRoutes(target: DashboardRouteTarget): Record<string, PageRoute> {
  const route = pageRoute(target);
  return Object.fromEntries(DASHBOARD_ROUTES.map((path) => [path, route]));
}

function pageRoute(target: DashboardRouteTarget): PageRoute {
  if (target instanceof Response) return { GET: target, HEAD: target };
  if (typeof target === 'function') {
    const answer = async (request: Request): Promise<Response> => {
      try {
        return await target(request);
      } catch (error) {
        console.error('weft: the dashboard handler failed:', error);
        return Response.json({ error: toWireError(error) }, { status: 500 });
      }
    };
    return { GET: answer, HEAD: answer };
  }
  if (isHtmlBundle(target)) return target;
  throw new InvalidArgumentError('dashboard must be a Response, a Bun HTML import or a function (request) => Response');
}

function isHtmlBundle(value: unknown): value is Bun.HTMLBundle {
  return typeof value === 'object' && value !== null && 'index' in value;
}
