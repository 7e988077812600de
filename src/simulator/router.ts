// Case-insensitive route matching over path segments, as ARM matches them.
import { ArmError } from './errors';
import type { SimProvider, SimRoute } from './provider';

type Part = { kind: 'literal'; value: string } | { kind: 'param'; name: string } | { kind: 'rest'; name: string };

interface CompiledRoute {
  route: SimRoute;
  provider: SimProvider;
  head: Part[];
  rest?: { name: string; tail: Part[] };
}

export interface RouteMatch {
  route: SimRoute;
  provider: SimProvider;
  params: Record<string, string>;
}

function parse(pattern: string): Part[] {
  return pattern
    .split('/')
    .filter(Boolean)
    .map((seg): Part => {
      const m = /^\{(\*?)([A-Za-z0-9_]+)\}$/.exec(seg);
      if (!m) return { kind: 'literal', value: seg.toLowerCase() };
      return m[1] ? { kind: 'rest', name: m[2]! } : { kind: 'param', name: m[2]! };
    });
}

function compile(provider: SimProvider, route: SimRoute): CompiledRoute {
  const parts = parse(route.pattern);
  const restAt = parts.findIndex((p) => p.kind === 'rest');
  if (restAt < 0) return { route, provider, head: parts };
  const rest = parts[restAt] as { kind: 'rest'; name: string };
  return { route, provider, head: parts.slice(0, restAt), rest: { name: rest.name, tail: parts.slice(restAt + 1) } };
}

function matchParts(parts: Part[], segs: string[], params: Record<string, string>): boolean {
  if (parts.length !== segs.length) return false;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    const s = segs[i]!;
    if (p.kind === 'literal') {
      if (p.value !== s.toLowerCase()) return false;
    } else {
      params[p.name] = s;
    }
  }
  return true;
}

function matchCompiled(c: CompiledRoute, segs: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  if (!c.rest) return matchParts(c.head, segs, params) ? params : undefined;
  const { head, rest } = c;
  if (segs.length < head.length + rest.tail.length) return undefined;
  if (!matchParts(head, segs.slice(0, head.length), params)) return undefined;
  if (!matchParts(rest.tail, segs.slice(segs.length - rest.tail.length), params)) return undefined;
  const middle = segs.slice(head.length, segs.length - rest.tail.length);
  params[rest.name] = middle.length ? `/${middle.join('/')}` : '';
  return params;
}

export class Router {
  private readonly fixed: CompiledRoute[] = [];
  private readonly wildcard: CompiledRoute[] = [];
  private readonly namespaces = new Set<string>();

  constructor(providers: readonly SimProvider[]) {
    for (const provider of providers) {
      this.namespaces.add(provider.namespace.toLowerCase());
      for (const route of provider.routes) {
        const c = compile(provider, route);
        (c.rest ? this.wildcard : this.fixed).push(c);
      }
    }
  }

  /**
   * Finds the route for a request. Fixed patterns win over `{*scope}` ones. Throws ArmError
   * for unknown namespaces (400), unknown types (404) and unsupported methods (405).
   */
  resolve(method: string, segs: string[], apiVersion: string): RouteMatch {
    let pathMatched = false;
    for (const list of [this.fixed, this.wildcard]) {
      for (const c of list) {
        const params = matchCompiled(c, segs);
        if (!params) continue;
        pathMatched = true;
        if (c.route.method === method) return { route: c.route, provider: c.provider, params };
      }
    }
    if (pathMatched) {
      throw new ArmError(405, 'MethodNotAllowed', `The requested resource does not support http method '${method}'.`);
    }
    throw this.unknownPath(segs, apiVersion);
  }

  private unknownPath(segs: string[], apiVersion: string): ArmError {
    let at = -1;
    segs.forEach((s, i) => {
      if (s.toLowerCase() === 'providers' && i + 1 < segs.length) at = i;
    });
    if (at >= 0) {
      const ns = segs[at + 1]!;
      if (!this.namespaces.has(ns.toLowerCase())) {
        return new ArmError(400, 'InvalidResourceNamespace', `The resource namespace '${ns}' is invalid.`);
      }
      const type = segs
        .slice(at + 2)
        .filter((_, i) => i % 2 === 0)
        .join('/');
      return new ArmError(404, 'InvalidResourceType', `The resource type '${type}' could not be found in the namespace '${ns}' for api version '${apiVersion}'.`);
    }
    const type = segs.filter((_, i) => i % 2 === 0).join('/') || '/';
    return new ArmError(404, 'InvalidResourceType', `The resource type '${type}' could not be found for api version '${apiVersion}'.`);
  }
}
