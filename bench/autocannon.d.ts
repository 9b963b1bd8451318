/**
 * The part of autocannon's programmatic API the HTTP benchmark uses (autocannon ships no types;
 * see its README, "autocannon(opts[, cb])"). Per-connection `context` objects carry whatever the
 * request callbacks store in them.
 */
declare module 'autocannon' {
  export type AutocannonContext = Record<string, unknown>;

  export interface AutocannonRequest {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    body?: string;
    setupRequest?: (request: AutocannonRequest, context: AutocannonContext) => AutocannonRequest | undefined;
    onResponse?: (status: number, body: string, context: AutocannonContext) => void;
  }

  export interface AutocannonOptions {
    url: string;
    connections?: number;
    pipelining?: number;
    /** Seconds. */
    duration?: number;
    requests?: AutocannonRequest[];
  }

  export interface Histogram {
    average: number;
    p50: number;
    p99: number;
    total: number;
  }

  export interface AutocannonResult {
    requests: Histogram;
    latency: Histogram;
    /** Seconds the run took. */
    duration: number;
    errors: number;
    timeouts: number;
    non2xx: number;
    '2xx': number;
  }

  export default function autocannon(options: AutocannonOptions): Promise<AutocannonResult>;
}
