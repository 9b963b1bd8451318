/**
 * Where authentication decisions are reported: `auth.auditSink` when given, else one JSON line on
 * the console (`console.info` for a success, `console.warn` for a failure).
 *
 * Trap it avoids: a broken sink taking requests down. A sink that throws is reported once per
 * failure on `console.error` (its message only) and the request goes on with its decision.
 */
import type { AuthAuditEvent } from './auth-config.ts';

/** Emits audit events. */
export type AuditEmitter = (event: AuthAuditEvent) => void;

/**
 * The emitter of an `auth` config.
 *
 * @example
 * const emit = auditEmitter(config.auditSink);
 * emit({ type: 'weft.auth-audit', outcome: 'success', ... });
 */
export function auditEmitter(sink: ((event: AuthAuditEvent) => void) | undefined): AuditEmitter {
  if (sink === undefined) return writeToConsole;
  return (event) => {
    try {
      sink(event);
    } catch (error) {
      console.error(`weft: auth.auditSink threw: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
}

function writeToConsole(event: AuthAuditEvent): void {
  const line = JSON.stringify(event);
  if (event.outcome === 'success') console.info(line);
  else console.warn(line);
}
