/**
 * Loads a user's workflows module and collects every exported workflow definition, so a CLI
 * user points at a file instead of writing a composition root.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AnyWorkflowDefinition } from '../define/workflow.ts';

export async function loadWorkflows(modulePath: string): Promise<AnyWorkflowDefinition[]> {
  const url = pathToFileURL(resolve(modulePath)).href;
  const module = (await import(url)) as Record<string, unknown>;
  const definitions = Object.values(module).filter(
    (value): value is AnyWorkflowDefinition =>
      typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'workflow',
  );
  if (definitions.length === 0) throw new Error(`${modulePath} exports no workflow() definitions`);
  return definitions;
}
