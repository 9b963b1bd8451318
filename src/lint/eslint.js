/**
 * The ESLint plugin `@lostgradient/weft/eslint`: the rule `weft/deterministic-workflows`, which
 * flags time, randomness and raw timers inside workflow bodies, each with the `ctx` call to use.
 *
 * Trap it avoids: a workflow that replays differently from how it ran. Recovery re-runs the body
 * and answers its steps from the journal; a `Date.now()` or `Math.random()` that steers which step
 * comes next gives another answer the second time, and the run fails with `nondeterminism` hours
 * later, in production. `ctx.now()`, `ctx.random()` and `ctx.uuid()` are recorded; `ctx.sleep()`
 * is a durable timer.
 *
 * A workflow body is a generator function passed to a call named `execute` (`workflow(...)
 * .execute(async function* (ctx) { ... })`), everything nested in it included (update handlers,
 * callbacks). Activities are declared outside it (`.activities({...})`, `activity({ execute })`)
 * and may do anything. `{ everywhere: true }` flags every call in the file, for code that only
 * runs inside workflow bodies. Plain JavaScript without dependencies, so ESLint on Node loads it as
 * it is.
 */

/** Calls of `object.method(...)` on a global object, and what to use instead. */
const MEMBER_CALLS = {
  'Date.now': 'ctx.now()',
  'performance.now': 'ctx.now()',
  'Math.random': 'ctx.random()',
  'crypto.randomUUID': 'ctx.uuid()',
  'crypto.getRandomValues': 'ctx.random() or ctx.uuid()',
};

/** Calls of global functions, and what to use instead. */
const GLOBAL_CALLS = {
  setTimeout: 'yield* ctx.sleep(duration)',
  setInterval: 'yield* ctx.sleep(duration) in a loop',
};

/** Functions imported from node:crypto that are `crypto.*` under another name. */
const CRYPTO_IMPORTS = { randomUUID: 'ctx.uuid()', getRandomValues: 'ctx.random() or ctx.uuid()' };

const GLOBAL_OBJECTS = new Set(['globalThis', 'window', 'self', 'global']);

/** The variable `name` resolves to from `node`, or undefined for an undeclared global. */
function resolve(sourceCode, node, name) {
  for (let scope = sourceCode.getScope(node); scope; scope = scope.upper) {
    const variable = scope.set.get(name);
    if (variable !== undefined) return variable.defs.length > 0 ? variable : undefined;
  }
  return undefined;
}

/** `Date.now` for `Date.now`, `globalThis.Date.now` or `crypto['randomUUID']`; undefined for anything else. */
function memberPath(node) {
  const parts = [];
  let current = node;
  while (current.type === 'MemberExpression') {
    const property = current.property;
    if (!current.computed && property.type === 'Identifier') parts.unshift(property.name);
    else if (property.type === 'Literal' && typeof property.value === 'string') parts.unshift(property.value);
    else return undefined;
    current = current.object;
  }
  if (current.type !== 'Identifier') return undefined;
  parts.unshift(current.name);
  return parts;
}

/** A generator passed to `.execute(...)`: a workflow body. */
function isWorkflowBody(node) {
  if (node.type !== 'FunctionExpression' || !node.generator) return false;
  const call = node.parent;
  if (call?.type !== 'CallExpression' || !call.arguments.includes(node)) return false;
  const callee = call.callee;
  if (callee.type === 'MemberExpression') {
    return !callee.computed && callee.property.type === 'Identifier' && callee.property.name === 'execute';
  }
  return callee.type === 'Identifier' && callee.name === 'execute';
}

function insideWorkflowBody(node) {
  for (let current = node.parent; current; current = current.parent) if (isWorkflowBody(current)) return true;
  return false;
}

/** @type {import('eslint').Rule.RuleModule} */
const deterministicWorkflows = {
  meta: {
    type: 'problem',
    docs: {
      description: 'Disallow time, randomness and raw timers in workflow bodies: replay must take the same steps.',
    },
    schema: [{ type: 'object', properties: { everywhere: { type: 'boolean' } }, additionalProperties: false }],
    messages: {
      banned:
        '{{call}} in a workflow body gives another value when the run is replayed after a restart; use {{instead}}, which is recorded.',
      timer:
        '{{call}} in a workflow body is neither durable nor replayed; use {{instead}}, a durable timer that survives restarts.',
    },
  },
  create(context) {
    const everywhere = context.options[0]?.everywhere === true;
    const sourceCode = context.sourceCode;
    const applies = (node) => everywhere || insideWorkflowBody(node);

    function checkCallee(node, callee) {
      const path = memberPath(callee);
      if (path === undefined) return;
      while (path.length > 1 && GLOBAL_OBJECTS.has(path[0]) && resolve(sourceCode, node, path[0]) === undefined) {
        path.shift();
      }
      const [head] = path;
      if (head === undefined) return;
      const variable = resolve(sourceCode, node, head);
      if (variable !== undefined) return checkImported(node, variable, path);
      const dotted = path.join('.');
      if (path.length === 2 && Object.hasOwn(MEMBER_CALLS, dotted)) {
        if (applies(node)) report(node, 'banned', `${dotted}()`, MEMBER_CALLS[dotted]);
      } else if (path.length === 1 && Object.hasOwn(GLOBAL_CALLS, head)) {
        if (applies(node)) report(node, 'timer', `${head}()`, GLOBAL_CALLS[head]);
      }
    }

    /** `randomUUID()` imported from node:crypto, or `crypto.randomUUID()` on its default or namespace import. */
    function checkImported(node, variable, path) {
      const def = variable.defs[0];
      if (def?.type !== 'ImportBinding') return;
      const source = def.parent.source.value;
      if (source !== 'crypto' && source !== 'node:crypto') return;
      let name;
      if (def.node.type === 'ImportSpecifier' && path.length === 1) {
        name = def.node.imported.type === 'Identifier' ? def.node.imported.name : def.node.imported.value;
      } else if (def.node.type !== 'ImportSpecifier' && path.length === 2) {
        name = path[1];
      }
      if (name !== undefined && Object.hasOwn(CRYPTO_IMPORTS, name) && applies(node)) {
        report(node, 'banned', `${path.join('.')}()`, CRYPTO_IMPORTS[name]);
      }
    }

    function report(node, messageId, call, instead) {
      context.report({ node, messageId, data: { call, instead } });
    }

    return {
      CallExpression(node) {
        checkCallee(node, node.callee);
      },
      NewExpression(node) {
        if (node.arguments.length > 0 || node.callee.type !== 'Identifier' || node.callee.name !== 'Date') return;
        if (resolve(sourceCode, node, 'Date') !== undefined || !applies(node)) return;
        report(node, 'banned', 'new Date()', 'new Date(ctx.now())');
      },
    };
  },
};

/**
 * The plugin. `configs.recommended` turns the rule on as an error for every file it is given.
 *
 * @example
 * // eslint.config.js
 * import weft from '@lostgradient/weft/eslint';
 * export default [weft.configs.recommended];
 */
const plugin = {
  meta: { name: '@lostgradient/weft/eslint' },
  rules: { 'deterministic-workflows': deterministicWorkflows },
  configs: {},
};
plugin.configs.recommended = {
  name: 'weft/recommended',
  plugins: { weft: plugin },
  rules: { 'weft/deterministic-workflows': 'error' },
};

export default plugin;
