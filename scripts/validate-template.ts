// `npm run template:check`: validates deploy/azure/main.json offline, as far as a machine without
// Azure can: the JSON parses; every template expression parses (brackets, parentheses, quotes);
// every function is one ARM defines; every parameters('x') / variables('x') names a declared one
// and every declared one is used; every resource type and api-version (and those of reference()
// and listKeys()) is in deploy/azure/api-versions.json, which cites the REST spec of each;
// nested deployments evaluate in their own scope and get exactly the parameters they declare;
// every dependsOn names a resource of the same template; and every expression evaluates against
// the example parameters (deploy/azure/main.parameters.example.json plus the role file), with
// what only Azure knows (reference(), listKeys()) left as placeholders.
// The evaluator is also what test/unit/deploy-template.test.ts uses to read the container's
// environment and the role definition out of the template.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

export const TEMPLATE_FILE = 'deploy/azure/main.json';
export const EXAMPLE_PARAMETERS_FILE = 'deploy/azure/main.parameters.example.json';
export const API_VERSIONS_FILE = 'deploy/azure/api-versions.json';
/** Parameters the documented command passes from a file (`name=@file`), not the parameters file. */
export const FILE_PARAMETERS: Record<string, string> = { roleDefinition: 'deploy/cmk-chatops-role.json' };
/** Stand-ins for the secure parameters an operator passes on the command line. */
const SAMPLE_SECURE_VALUES: Record<string, string> = { slackSigningSecret: 'sample-signing-secret', slackBotToken: 'xoxb-sample-token', microsoftAppPassword: '' };

const SCHEMAS: Record<string, 'subscription' | 'resourceGroup'> = {
  'https://schema.management.azure.com/schemas/2018-05-01/subscriptionDeploymentTemplate.json#': 'subscription',
  'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#': 'resourceGroup',
};

export type JsonObject = { [k: string]: unknown };
export const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

// ---- the expression language ------------------------------------------------------------------

export type Expr = { kind: 'string'; value: string } | { kind: 'number'; value: number } | { kind: 'call'; name: string; args: Expr[] } | { kind: 'member'; target: Expr; property: string } | { kind: 'index'; target: Expr; index: Expr };

/** A JSON string is an expression when it is wrapped in [ ] (and does not start with the `[[` escape). */
const isExpression = (s: string) => s.startsWith('[') && s.endsWith(']') && !s.startsWith('[[');

class ExpressionError extends Error {}

/** Parses the text between the outer brackets; throws ExpressionError naming the position. */
export function parseExpression(text: string): Expr {
  let i = 0;
  const fail = (what: string): never => {
    throw new ExpressionError(`${what} at position ${i} of "${text}"`);
  };
  const ws = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const expect = (c: string) => {
    ws();
    if (text[i] !== c) fail(`expected "${c}"`);
    i++;
  };
  const primary = (): Expr => {
    ws();
    const c = text[i];
    if (c === undefined) return fail('unexpected end');
    if (c === "'") {
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) fail('unterminated string');
        if (text[i] === "'") {
          if (text[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += text[i++];
      }
      return { kind: 'string', value };
    }
    const num = /^-?\d+(\.\d+)?/.exec(text.slice(i));
    if (num) {
      i += num[0].length;
      return { kind: 'number', value: Number(num[0]) };
    }
    const ident = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i));
    if (!ident) return fail(`unexpected "${c}"`);
    i += ident[0].length;
    ws();
    if (text[i] !== '(') return fail(`"${ident[0]}" is not a function call`);
    i++;
    const args: Expr[] = [];
    ws();
    if (text[i] === ')') i++;
    else {
      for (;;) {
        args.push(postfix());
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        expect(')');
        break;
      }
    }
    return { kind: 'call', name: ident[0], args };
  };
  const postfix = (): Expr => {
    let e = primary();
    for (;;) {
      ws();
      if (text[i] === '.') {
        i++;
        ws();
        const prop = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i));
        if (!prop) fail('expected a property name');
        i += prop![0].length;
        e = { kind: 'member', target: e, property: prop![0] };
      } else if (text[i] === '[') {
        i++;
        const index = postfix();
        expect(']');
        e = { kind: 'index', target: e, index };
      } else return e;
    }
  };
  const e = postfix();
  ws();
  if (i !== text.length) fail('unexpected text after the expression');
  return e;
}

/** Every call in an expression, depth first. */
function calls(e: Expr): Array<Extract<Expr, { kind: 'call' }>> {
  switch (e.kind) {
    case 'string':
    case 'number':
      return [];
    case 'call':
      return [e, ...e.args.flatMap(calls)];
    case 'member':
      return calls(e.target);
    case 'index':
      return [...calls(e.target), ...calls(e.index)];
  }
}

/** What only Azure knows at deployment time (a reference() or listKeys() result), carried as text. */
export class Unresolved {
  constructor(readonly text: string) {}
  toString() {
    return `{${this.text}}`;
  }
}

/** The ARM template functions this template may use (learn.microsoft.com/azure/azure-resource-manager/templates/template-functions). */
const FUNCTIONS = [
  'and',
  'concat',
  'copyIndex',
  'createArray',
  'createObject',
  'deployment',
  'empty',
  'equals',
  'format',
  'guid',
  'if',
  'json',
  'length',
  'listKeys',
  'not',
  'or',
  'parameters',
  'reference',
  'resourceGroup',
  'resourceId',
  'split',
  'string',
  'subscription',
  'subscriptionResourceId',
  'tenant',
  'toLower',
  'union',
  'uniqueString',
  'uriComponent',
  'variables',
] as const;
const KNOWN_FUNCTIONS: ReadonlySet<string> = new Set(FUNCTIONS);

interface DeploymentScope {
  subscriptionId: string;
  tenantId: string;
  location: string;
  resourceGroup?: string;
}

/** One template being evaluated: its parameter values, its variables (evaluated on demand) and scope. */
export class TemplateScope {
  private readonly varCache = new Map<string, unknown>();
  private copyIndexes: Record<string, number> = {};
  constructor(
    readonly template: JsonObject,
    readonly parameterValues: Record<string, unknown>,
    readonly scope: DeploymentScope,
  ) {}

  withCopyIndex(name: string, index: number): TemplateScope {
    const s = new TemplateScope(this.template, this.parameterValues, this.scope);
    s.copyIndexes = { ...this.copyIndexes, [name]: index, '': index };
    return s;
  }

  parameter(name: string): unknown {
    if (name in this.parameterValues) return this.parameterValues[name];
    const decl = (this.template.parameters as JsonObject | undefined)?.[name];
    if (!isObject(decl)) throw new ExpressionError(`parameters('${name}'): no such parameter`);
    if (!('defaultValue' in decl)) throw new ExpressionError(`parameters('${name}'): no value given and no default`);
    return this.evaluate(decl.defaultValue);
  }

  variable(name: string): unknown {
    if (this.varCache.has(name)) return this.varCache.get(name);
    const vars = isObject(this.template.variables) ? this.template.variables : {};
    let value: unknown;
    const copy = Array.isArray(vars.copy) ? vars.copy.filter(isObject).find((c) => c.name === name) : undefined;
    if (copy) {
      const count = Number(this.evaluate(copy.count));
      value = Array.from({ length: count }, (_, k) => this.withCopyIndex(name, k).evaluate(copy.input));
    } else if (name in vars && name !== 'copy') value = this.evaluate(vars[name]);
    else throw new ExpressionError(`variables('${name}'): no such variable`);
    this.varCache.set(name, value);
    return value;
  }

  hasCopyIndex(name: string): boolean {
    return name in this.copyIndexes;
  }

  copyIndex(name?: string): number {
    const k = this.copyIndexes[name ?? ''];
    if (k === undefined) throw new ExpressionError(`copyIndex(${name ?? ''}) outside a copy loop`);
    return k;
  }

  /** Evaluates a JSON value: expressions in strings (and object keys) are evaluated, the rest is kept. */
  evaluate(v: unknown): unknown {
    if (typeof v === 'string') {
      if (isExpression(v)) return this.evalExpr(parseExpression(v.slice(1, -1)));
      return v.startsWith('[[') ? v.slice(1) : v;
    }
    if (Array.isArray(v)) return v.map((x) => this.evaluate(x));
    if (isObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [String(this.evaluate(k)), this.evaluate(x)]));
    return v;
  }

  evalExpr(e: Expr): unknown {
    switch (e.kind) {
      case 'string':
      case 'number':
        return e.value;
      case 'member': {
        const t = this.evalExpr(e.target);
        if (t instanceof Unresolved) return new Unresolved(`${t.text}.${e.property}`);
        if (!isObject(t) || !(e.property in t)) throw new ExpressionError(`no property "${e.property}" in ${JSON.stringify(t)}`);
        return t[e.property];
      }
      case 'index': {
        const t = this.evalExpr(e.target);
        const k = this.evalExpr(e.index);
        if (t instanceof Unresolved) return new Unresolved(`${t.text}[${String(k)}]`);
        if (Array.isArray(t) && typeof k === 'number') {
          if (k < 0 || k >= t.length) throw new ExpressionError(`index ${k} out of range (${t.length} items)`);
          return t[k];
        }
        if (isObject(t) && typeof k === 'string' && k in t) return t[k];
        throw new ExpressionError(`cannot index ${JSON.stringify(t)} with ${JSON.stringify(k)}`);
      }
      case 'call':
        return this.call(e.name, e.args);
    }
  }

  private call(name: string, argExprs: Expr[]): unknown {
    if (!KNOWN_FUNCTIONS.has(name)) throw new ExpressionError(`unknown function ${name}()`);
    if (name === 'if') {
      const [c, a, b] = argExprs;
      if (!c || !a || !b) throw new ExpressionError('if() takes three arguments');
      const cond = this.evalExpr(c);
      if (typeof cond !== 'boolean') throw new ExpressionError(`if(): condition is ${String(cond)}, not a boolean`);
      return this.evalExpr(cond ? a : b);
    }
    const args = argExprs.map((a) => this.evalExpr(a));
    const str = (k: number) => {
      const v = args[k];
      if (typeof v === 'string') return v;
      if (v instanceof Unresolved || typeof v === 'number') return String(v);
      throw new ExpressionError(`${name}(): argument ${k + 1} is ${JSON.stringify(v)}, not a string`);
    };
    const known = (v: unknown) => {
      if (v instanceof Unresolved) throw new ExpressionError(`${name}(): ${v.text} is only known in Azure`);
      return v;
    };
    const s = this.scope;
    switch (name) {
      case 'parameters':
        return this.parameter(str(0));
      case 'variables':
        return this.variable(str(0));
      case 'copyIndex':
        return this.copyIndex(typeof args[0] === 'string' ? args[0] : undefined) + (typeof args[0] === 'number' ? args[0] : typeof args[1] === 'number' ? args[1] : 0);
      case 'reference':
        return new Unresolved(`reference(${str(0)})`);
      case 'listKeys':
        return new Unresolved(`listKeys(${str(0)})`);
      case 'subscription':
        return { id: `/subscriptions/${s.subscriptionId}`, subscriptionId: s.subscriptionId, tenantId: s.tenantId };
      case 'tenant':
        return { tenantId: s.tenantId };
      case 'resourceGroup':
        if (!s.resourceGroup) throw new ExpressionError('resourceGroup() in a subscription deployment');
        return { id: `/subscriptions/${s.subscriptionId}/resourceGroups/${s.resourceGroup}`, name: s.resourceGroup, location: s.location };
      case 'deployment':
        return { name: 'sample-deployment', location: s.location };
      case 'resourceId':
      case 'subscriptionResourceId': {
        const at = args.findIndex((a) => typeof a === 'string' && a.includes('/'));
        if (at < 0) throw new ExpressionError(`${name}(): no resource type`);
        const before = args.slice(0, at).map((_, k) => str(k));
        const sub = before.length === 2 ? before[0]! : s.subscriptionId;
        const rg = name === 'resourceId' ? (before.length === 2 ? before[1] : before.length === 1 ? before[0] : s.resourceGroup) : undefined;
        if (name === 'subscriptionResourceId' && before.length > 1) throw new ExpressionError('subscriptionResourceId(): too many scope arguments');
        const subscription = name === 'subscriptionResourceId' && before.length === 1 ? before[0]! : sub;
        return resourceIdOf(
          subscription,
          rg,
          str(at),
          args.slice(at + 1).map((_, k) => str(at + 1 + k)),
        );
      }
      case 'concat':
        if (args.every(Array.isArray)) return args.flat();
        return args.map((_, k) => str(k)).join('');
      case 'format':
        return str(0).replace(/\{(\d+)\}/g, (_, n: string) => str(Number(n) + 1));
      case 'union':
        if (args.every(Array.isArray)) {
          const out: unknown[] = [];
          for (const v of args.flat()) if (!out.some((o) => JSON.stringify(o) === JSON.stringify(v))) out.push(v);
          return out;
        }
        if (args.every(isObject)) return Object.assign({}, ...args);
        throw new ExpressionError('union(): arguments must all be arrays or all objects');
      case 'createArray':
        return args;
      case 'createObject': {
        const o: JsonObject = {};
        for (let k = 0; k + 1 < args.length; k += 2) o[str(k)] = args[k + 1];
        return o;
      }
      case 'json':
        return JSON.parse(str(0));
      case 'string':
        return typeof args[0] === 'string' ? args[0] : args[0] instanceof Unresolved ? args[0] : JSON.stringify(args[0]);
      case 'equals':
        return JSON.stringify(known(args[0])) === JSON.stringify(known(args[1]));
      case 'not':
        return !bool(known(args[0]));
      case 'and':
        return args.every((a) => bool(known(a)));
      case 'or':
        return args.some((a) => bool(known(a)));
      case 'empty': {
        const v = known(args[0]);
        return v === null || v === '' || (Array.isArray(v) && v.length === 0) || (isObject(v) && Object.keys(v).length === 0);
      }
      case 'length': {
        const v = known(args[0]);
        if (typeof v === 'string' || Array.isArray(v)) return v.length;
        if (isObject(v)) return Object.keys(v).length;
        throw new ExpressionError(`length() of ${JSON.stringify(v)}`);
      }
      case 'split':
        return str(0).split(str(1));
      case 'toLower':
        return str(0).toLowerCase();
      case 'uriComponent':
        return encodeURIComponent(str(0));
      case 'guid':
        return fakeGuid(args.map((_, k) => str(k)).join('|'));
      case 'uniqueString':
        return createHash('sha256')
          .update(args.map((_, k) => str(k)).join('|'))
          .digest('hex')
          .replace(/[^a-z]/g, '')
          .padEnd(13, 'a')
          .slice(0, 13);
      default:
        throw new ExpressionError(`${name}() is known but not evaluated here`);
    }
  }
}

function bool(v: unknown): boolean {
  if (typeof v !== 'boolean') throw new ExpressionError(`${JSON.stringify(v)} is not a boolean`);
  return v;
}

function fakeGuid(seed: string): string {
  const h = createHash('sha1').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** /subscriptions/{s}[/resourceGroups/{rg}]/providers/{ns}/{type1}/{name1}/{type2}/{name2}… */
function resourceIdOf(sub: string, rg: string | undefined, type: string, names: string[]): string {
  const [ns, ...types] = type.split('/');
  if (types.length !== names.length) throw new ExpressionError(`resource type ${type} takes ${types.length} name(s), got ${names.length}`);
  return `/subscriptions/${sub}${rg ? `/resourceGroups/${rg}` : ''}/providers/${ns}/${types.map((t, k) => `${t}/${names[k]}`).join('/')}`;
}

/** "type|name1/name2" of a resource id, from its last /providers/ segment: how dependsOn matches resources. */
function resourceKey(id: string): string {
  const at = id.toLowerCase().lastIndexOf('/providers/');
  const segs = (at >= 0 ? id.slice(at + '/providers/'.length) : id).split('/');
  const type = [segs[0], ...segs.slice(1).filter((_, k) => k % 2 === 0)].join('/');
  return `${type.toLowerCase()}|${segs
    .slice(1)
    .filter((_, k) => k % 2 === 1)
    .join('/')}`;
}

// ---- walking a template -----------------------------------------------------------------------

/** Every string (and object key) of a JSON value with its path, not descending into `skip`ped nodes. */
function strings(v: unknown, path: string, skip: (v: unknown) => boolean, out: Array<{ path: string; text: string }> = []) {
  if (skip(v)) return out;
  if (typeof v === 'string') out.push({ path, text: v });
  else if (Array.isArray(v)) v.forEach((x, k) => strings(x, `${path}[${k}]`, skip, out));
  else if (isObject(v))
    for (const [k, x] of Object.entries(v)) {
      out.push({ path: `${path} (key)`, text: k });
      strings(x, `${path}.${k}`, skip, out);
    }
  return out;
}

const nestedTemplates = (tpl: JsonObject): JsonObject[] => (Array.isArray(tpl.resources) ? tpl.resources.filter(isObject) : []).filter((r) => r.type === 'Microsoft.Resources/deployments');

export interface ApiVersionList {
  types: Record<string, { apiVersion: string; spec: string }>;
}

export function loadJson(file: string): unknown {
  return JSON.parse(readFileSync(file, 'utf8'));
}

/** The values main.json gets from the example parameters file, the role file and the sample secure values. */
function exampleParameterValues(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const file = loadJson(EXAMPLE_PARAMETERS_FILE);
  const params = isObject(file) && isObject(file.parameters) ? file.parameters : {};
  const values: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(params)) if (isObject(v)) values[k] = v.value;
  for (const [k, f] of Object.entries(FILE_PARAMETERS)) values[k] = loadJson(f);
  return { ...SAMPLE_SECURE_VALUES, ...values, ...overrides };
}

const SAMPLE_SCOPE: DeploymentScope = { subscriptionId: '11111111-1111-1111-1111-111111111111', tenantId: '22222222-2222-2222-2222-222222222222', location: 'westeurope' };

/** The scope and parameter values a nested deployment's inner template gets, evaluated in the outer scope (in a copy loop: the outer scope's index, else 0). */
export function nestedScope(outer: TemplateScope, deployment: JsonObject): TemplateScope {
  const o = isObject(deployment.copy) && !outer.hasCopyIndex(String(deployment.copy.name)) ? outer.withCopyIndex(String(deployment.copy.name), 0) : outer;
  const props = isObject(deployment.properties) ? deployment.properties : {};
  const passed = isObject(props.parameters) ? props.parameters : {};
  const values: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(passed)) if (isObject(v)) values[k] = o.evaluate(v.value);
  const sub = deployment.subscriptionId !== undefined ? String(o.evaluate(deployment.subscriptionId)) : outer.scope.subscriptionId;
  const rg = deployment.resourceGroup !== undefined ? String(o.evaluate(deployment.resourceGroup)) : deployment.subscriptionId !== undefined ? undefined : outer.scope.resourceGroup;
  const template = isObject(props.template) ? props.template : {};
  return new TemplateScope(template, values, { ...outer.scope, subscriptionId: sub, resourceGroup: rg });
}

/** The main template's scope with the example parameters (and any overrides). */
export function mainScope(template: JsonObject, overrides: Record<string, unknown> = {}): TemplateScope {
  return new TemplateScope(template, exampleParameterValues(overrides), SAMPLE_SCOPE);
}

/** The nested deployment of main.json with this (literal) name, and the scope its template evaluates in. */
export function nested(main: TemplateScope, name: string): { deployment: JsonObject; scope: TemplateScope } {
  const deployment = nestedTemplates(main.template).find((d) => d.name === name || (typeof d.name === 'string' && d.name.includes(`'${name}`)));
  if (!deployment) throw new Error(`no nested deployment ${name}`);
  return { deployment, scope: nestedScope(main, deployment) };
}

/**
 * Every problem found in a template and the templates nested in it (empty: valid). `scope` gives
 * the parameter values to evaluate with; `where` names the template in messages.
 */
export function validateTemplate(scope: TemplateScope, apiVersions: ApiVersionList, where = 'main.json'): string[] {
  const tpl = scope.template;
  const problems: string[] = [];
  const say = (m: string) => problems.push(`${where}: ${m}`);
  const schema = typeof tpl.$schema === 'string' ? SCHEMAS[tpl.$schema] : undefined;
  if (!schema) say(`$schema ${String(tpl.$schema)} is not a deployment template schema`);
  if (schema === 'resourceGroup' && !scope.scope.resourceGroup) say('a resource-group template deployed at subscription scope');
  if (schema === 'subscription' && scope.scope.resourceGroup) say('a subscription template deployed into a resource group');
  if (tpl.contentVersion !== '1.0.0.0') say('contentVersion must be "1.0.0.0"');
  const params = isObject(tpl.parameters) ? tpl.parameters : {};
  const vars = isObject(tpl.variables) ? tpl.variables : {};
  const varNames = new Set([...Object.keys(vars).filter((k) => k !== 'copy'), ...(Array.isArray(vars.copy) ? vars.copy.filter(isObject).map((c) => String(c.name)) : [])]);
  const resources = Array.isArray(tpl.resources) ? tpl.resources.filter(isObject) : [];
  const inner = new Set<unknown>(nestedTemplates(tpl).map((d) => (isObject(d.properties) ? d.properties.template : undefined)));

  // Expressions: syntax, functions, parameter and variable references, api-versions of reference()/listKeys().
  const usedParams = new Set<string>();
  const usedVars = new Set<string>();
  const typeOfId = (e: Expr | undefined): string | undefined => {
    if (e?.kind !== 'call') return undefined;
    if (e.name === 'variables' && e.args[0]?.kind === 'string') {
      const v = vars[e.args[0].value];
      return typeof v === 'string' && isExpression(v) ? safeTypeOf(v) : undefined;
    }
    if (e.name !== 'resourceId' && e.name !== 'subscriptionResourceId') return undefined;
    const t = e.args.find((a) => a.kind === 'string' && a.value.includes('/'));
    return t?.kind === 'string' ? t.value : undefined;
  };
  const safeTypeOf = (text: string): string | undefined => {
    try {
      return typeOfId(parseExpression(text.slice(1, -1)));
    } catch (err) {
      say(`a variable named in reference() or listKeys(): ${(err as Error).message}`);
      return undefined;
    }
  };
  for (const { path, text } of strings(tpl, '', (v) => inner.has(v))) {
    if (!isExpression(text)) continue;
    let e: Expr;
    try {
      e = parseExpression(text.slice(1, -1));
    } catch (err) {
      say(`${path}: ${(err as Error).message}`);
      continue;
    }
    for (const c of calls(e)) {
      if (!KNOWN_FUNCTIONS.has(c.name)) say(`${path}: unknown function ${c.name}()`);
      const lit = c.args[0]?.kind === 'string' ? c.args[0].value : undefined;
      if (c.name === 'parameters') {
        if (lit === undefined) say(`${path}: parameters() with a computed name`);
        else if (!(lit in params)) say(`${path}: parameters('${lit}') is not declared`);
        else usedParams.add(lit);
      }
      if (c.name === 'variables') {
        if (lit === undefined) say(`${path}: variables() with a computed name`);
        else if (!varNames.has(lit)) say(`${path}: variables('${lit}') is not declared`);
        else usedVars.add(lit);
      }
      if (c.name === 'reference' || c.name === 'listKeys') {
        const version = c.args[1]?.kind === 'string' ? c.args[1].value : undefined;
        const type = typeOfId(c.args[0]);
        if (!version) say(`${path}: ${c.name}() without a literal api-version`);
        else if (!type) say(`${path}: ${c.name}() of a resource whose type is not a literal resourceId()`);
        else if (apiVersions.types[type]?.apiVersion !== version) say(`${path}: ${c.name}() of ${type} at api-version ${version}, not the one in api-versions.json`);
      }
    }
  }
  for (const p of Object.keys(params)) if (!usedParams.has(p)) say(`parameter ${p} is declared but never used`);
  for (const v of varNames) if (!usedVars.has(v)) say(`variable ${v} is declared but never used`);

  // Resources: types and api-versions, dependsOn, nested deployments.
  const keys = new Set<string>();
  const loops = new Set<string>();
  const evalResource = (r: JsonObject, field: string) => {
    const s = isObject(r.copy) ? scope.withCopyIndex(String(r.copy.name), 0) : scope;
    return s.evaluate(r[field]);
  };
  for (const r of resources) {
    const type = String(r.type);
    const listed = apiVersions.types[type];
    if (!listed) say(`resource type ${type} is not in api-versions.json`);
    else if (listed.apiVersion !== r.apiVersion) say(`${type}@${String(r.apiVersion)}: api-versions.json lists ${listed.apiVersion}`);
    if (isObject(r.copy)) loops.add(String(r.copy.name));
    try {
      const name = String(evalResource(r, 'name'));
      keys.add(`${type.toLowerCase()}|${name}`);
    } catch (err) {
      say(`${type} name: ${(err as Error).message}`);
    }
  }
  for (const r of resources) {
    const deps = Array.isArray(r.dependsOn) ? r.dependsOn : [];
    for (const d of deps) {
      if (typeof d !== 'string') {
        say(`${String(r.type)}: dependsOn entry ${JSON.stringify(d)} is not a string`);
        continue;
      }
      if (!isExpression(d)) {
        if (!loops.has(d) && ![...keys].some((k) => k.endsWith(`|${d}`))) say(`${String(r.type)}: dependsOn "${d}" names no resource or copy loop of this template`);
        continue;
      }
      try {
        const key = resourceKey(String(scope.evaluate(d)));
        if (!keys.has(key)) say(`${String(r.type)}: dependsOn ${d} (${key}) is no resource of this template`);
      } catch (err) {
        say(`${String(r.type)}: dependsOn ${d}: ${(err as Error).message}`);
      }
    }
  }

  // Everything evaluates with the sample values.
  for (const r of resources) {
    for (const field of Object.keys(r).filter((k) => !(k === 'properties' && r.type === 'Microsoft.Resources/deployments'))) {
      try {
        evalResource(r, field);
      } catch (err) {
        say(`${String(r.type)} ${field}: ${(err as Error).message}`);
      }
    }
  }
  for (const v of varNames) {
    try {
      scope.variable(v);
    } catch (err) {
      say(`variable ${v}: ${(err as Error).message}`);
    }
  }
  try {
    scope.evaluate(tpl.outputs);
  } catch (err) {
    say(`outputs: ${(err as Error).message}`);
  }

  for (const d of nestedTemplates(tpl)) {
    const label = `${where} > ${String(d.name)}`;
    const props = isObject(d.properties) ? d.properties : {};
    if (!isObject(props.expressionEvaluationOptions) || props.expressionEvaluationOptions.scope !== 'inner') {
      problems.push(`${label}: nested templates must evaluate in their own scope (expressionEvaluationOptions.scope "inner")`);
      continue;
    }
    if (!isObject(props.template)) {
      problems.push(`${label}: the template must be inline (no templateLink)`);
      continue;
    }
    const declared = isObject(props.template.parameters) ? props.template.parameters : {};
    const passed = isObject(props.parameters) ? props.parameters : {};
    for (const k of Object.keys(passed)) if (!(k in declared)) problems.push(`${label}: passes parameter ${k}, which its template does not declare`);
    for (const [k, decl] of Object.entries(declared)) if (!(k in passed) && !(isObject(decl) && 'defaultValue' in decl)) problems.push(`${label}: parameter ${k} is not passed and has no default`);
    let innerScope: TemplateScope;
    try {
      innerScope = nestedScope(scope, d);
    } catch (err) {
      problems.push(`${label}: ${(err as Error).message}`);
      continue;
    }
    problems.push(...validateTemplate(innerScope, apiVersions, label));
  }
  return problems;
}

/** The parameters file: its shape, names the template declares, allowed values, and every required parameter given. */
export function validateParametersFile(template: JsonObject, file: unknown): string[] {
  const problems: string[] = [];
  const declared = isObject(template.parameters) ? template.parameters : {};
  if (!isObject(file) || file.$schema !== 'https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#' || !isObject(file.parameters)) {
    return ['the parameters file must have the deploymentParameters $schema and a parameters object'];
  }
  const given = file.parameters;
  for (const [k, v] of Object.entries(given)) {
    const decl = declared[k];
    if (!isObject(decl)) problems.push(`parameter ${k} is not declared by the template`);
    else if (!isObject(v) || !('value' in v)) problems.push(`parameter ${k} has no value`);
    else {
      if (Array.isArray(decl.allowedValues) && !decl.allowedValues.includes(v.value)) problems.push(`parameter ${k}: ${JSON.stringify(v.value)} is not one of ${JSON.stringify(decl.allowedValues)}`);
      const t = String(decl.type).toLowerCase();
      const ok = { string: typeof v.value === 'string', securestring: false, int: Number.isInteger(v.value), bool: typeof v.value === 'boolean', array: Array.isArray(v.value), object: isObject(v.value), secureobject: false }[t];
      if (!ok) problems.push(`parameter ${k}: a ${t} cannot be ${JSON.stringify(v.value)} here${t.startsWith('secure') ? ' (pass secure values on the command line, not in a file in the repository)' : ''}`);
    }
  }
  for (const [k, decl] of Object.entries(declared)) {
    if (isObject(decl) && !('defaultValue' in decl) && !(k in given) && !(k in FILE_PARAMETERS)) problems.push(`required parameter ${k} is missing`);
  }
  return problems;
}

/** The whole check, as `npm run template:check` runs it. */
export function checkAll(): string[] {
  const template = loadJson(TEMPLATE_FILE);
  if (!isObject(template)) return [`${TEMPLATE_FILE} is not a JSON object`];
  const apiVersions = loadJson(API_VERSIONS_FILE);
  if (!isObject(apiVersions) || !isObject(apiVersions.types)) return [`${API_VERSIONS_FILE} has no types`];
  const list: ApiVersionList = { types: {} };
  for (const [k, v] of Object.entries(apiVersions.types)) {
    if (!isObject(v) || typeof v.apiVersion !== 'string' || typeof v.spec !== 'string' || !v.spec.includes(`/${v.apiVersion}/`)) return [`${API_VERSIONS_FILE}: ${k} needs an apiVersion and the spec file of that version`];
    list.types[k] = { apiVersion: v.apiVersion, spec: v.spec };
  }
  return [...validateParametersFile(template, loadJson(EXAMPLE_PARAMETERS_FILE)).map((p) => `${EXAMPLE_PARAMETERS_FILE}: ${p}`), ...validateTemplate(mainScope(template), list)];
}

if (require.main === module) {
  let problems: string[];
  try {
    problems = checkAll();
  } catch (e) {
    problems = [(e as Error).message];
  }
  if (problems.length) {
    process.stderr.write(`${TEMPLATE_FILE}: ${problems.length} problem(s)\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
    process.exit(1);
  }
  process.stdout.write(`${TEMPLATE_FILE}: valid (expressions, parameters, variables, api-versions, dependsOn, nested deployments; evaluated with ${EXAMPLE_PARAMETERS_FILE})\n`);
}
