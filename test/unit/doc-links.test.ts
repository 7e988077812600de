// Every relative link in the project's docs leads somewhere inside the repository: the file exists
// (not in a generated or ignored folder), and a #fragment names a heading of the Markdown file it
// points at, slugged as GitHub slugs headings.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');
/** Folders that exist on a developer's disk but never in the repository. */
const NOT_IN_REPO = ['node_modules', 'dist', '.data', 'coverage', 'devTools', 'bench/results'];

/** The documents checked: README.md, docs/*.md, deploy/**\/*.md. */
function docFiles(): string[] {
  const walk = (dir: string, deep: boolean): string[] =>
    readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
      const path = `${dir}/${e.name}`;
      if (e.isDirectory()) return deep ? walk(path, deep) : [];
      return e.name.endsWith('.md') ? [path] : [];
    });
  return ['README.md', ...walk('docs', false), ...walk('deploy', true)];
}

/** The text outside fenced code blocks, line numbers kept (fenced lines become empty). */
function prose(markdown: string): string[] {
  let fence: string | undefined;
  return markdown.split('\n').map((line) => {
    const m = /^ {0,3}(`{3,}|~{3,})/.exec(line);
    if (fence) {
      if (m && m[1]![0] === fence[0] && m[1]!.length >= fence.length && line.trim() === m[1]) fence = undefined;
      return '';
    }
    if (m) {
      fence = m[1];
      return '';
    }
    return line;
  });
}

/** A heading's anchor as GitHub makes it: its text without markup, lower case, punctuation dropped, spaces to hyphens. */
export function githubSlug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // links and images: their text
    .replace(/<[^>]+>/g, '') // inline HTML
    .replace(/[`*~]/g, '') // code spans, emphasis, strike-through (GitHub keeps `_`)
    .trim()
    .toLowerCase();
  return text.replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-');
}

/** The anchors a Markdown document offers: its headings (repeats get -1, -2 …) and HTML ids/names. */
export function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of prose(markdown)) {
    const h = /^ {0,3}#{1,6}\s+(.*?)(?:\s+#+\s*)?$/.exec(line);
    if (h) {
      const base = githubSlug(h[1]!);
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      anchors.add(n === 0 ? base : `${base}-${n}`);
    }
    for (const m of line.matchAll(/<a\s[^>]*(?:name|id)="([^"]+)"/g)) anchors.add(m[1]!);
  }
  return anchors;
}

export interface Link {
  line: number;
  target: string;
}

/** The link targets in a Markdown document: inline links and images, and reference definitions, outside code. */
export function linksOf(markdown: string): Link[] {
  const links: Link[] = [];
  prose(markdown).forEach((raw, i) => {
    const line = raw.replace(/(`+)[^`]*?\1/g, (s) => ' '.repeat(s.length)); // code spans are not links
    for (const m of line.matchAll(/\]\(\s*(<[^>]*>|[^\s)]*(?:\([^\s)]*\)[^\s)]*)*)(?:\s+(?:"[^"]*"|'[^']*'))?\s*\)/g)) {
      links.push({ line: i + 1, target: m[1]!.replace(/^<|>$/g, '') });
    }
    const def = /^ {0,3}\[[^\]]+\]:\s*(\S+)/.exec(line);
    if (def) links.push({ line: i + 1, target: def[1]!.replace(/^<|>$/g, '') });
  });
  return links;
}

/** Why a link from `fromFile` (repository-relative) does not resolve inside the repository; undefined when it does. */
export function brokenLink(fromFile: string, target: string, read: (path: string) => string | undefined): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return undefined; // https:, mailto: … — not ours to resolve
  const [pathPart = '', fragment] = target.split('#', 2) as [string, string | undefined];
  const path = decodeURIComponent(pathPart);
  if (path.startsWith('/')) return 'absolute path (GitHub resolves it against the site, not the repository)';
  const file = path ? relative(ROOT, resolve(ROOT, dirname(fromFile), path)) : fromFile;
  if (file.startsWith('..') || resolve(ROOT, file) === resolve(ROOT, '..')) return `${file} is outside the repository`;
  const posix = file.split(sep).join('/');
  if (NOT_IN_REPO.some((d) => posix === d || posix.startsWith(`${d}/`))) return `${posix} is generated, not in the repository`;
  const text = read(posix);
  if (text === undefined) return `${posix} does not exist`;
  if (fragment === undefined || fragment === '') return undefined;
  if (!posix.endsWith('.md')) return undefined; // a line anchor (#L10) in a source file
  if (!anchorsOf(text).has(decodeURIComponent(fragment))) return `${posix} has no heading #${fragment}`;
  return undefined;
}

/**
 * Repository paths a document names in code spans (`src/chat/commands.ts`, `deploy/azure/`), read from
 * the repository root; placeholders and globs (`<name>`, `*`, `…`) are not paths.
 */
export function pathsNamedIn(markdown: string): Link[] {
  const out: Link[] = [];
  prose(markdown).forEach((line, i) => {
    for (const m of line.matchAll(/(`+)([^`]+?)\1/g)) {
      const span = m[2]!.trim();
      if (!/^(?:src|docs|test|scripts|deploy|manifests|policy|cards|bench|playground|\.ci)\/[\w./:-]*$/.test(span)) continue;
      out.push({ line: i + 1, target: span.replace(/:\d+$/, '').replace(/\/$/, '') });
    }
  });
  return out;
}

/** A file's text ('' for a directory), undefined when it is not there. */
function readRepo(path: string): string | undefined {
  const full = join(ROOT, path);
  if (!existsSync(full)) return undefined;
  return statSync(full).isDirectory() ? '' : readFileSync(full, 'utf8');
}

describe('links in the docs', () => {
  const files = docFiles();

  it('checks the README, docs/ and deploy/', () => {
    expect(files).toEqual(expect.arrayContaining(['README.md', 'docs/walkthrough.md', 'docs/operations.md', 'deploy/README.md']));
  });

  it.each(files)('every relative link in %s resolves to a file and heading in the repository', (file) => {
    const broken = linksOf(readFileSync(join(ROOT, file), 'utf8'))
      .map((l) => ({ ...l, why: brokenLink(file, l.target, readRepo) }))
      .filter((l) => l.why)
      .map((l) => `${file}:${l.line} (${l.target}): ${l.why}`);
    expect(broken).toEqual([]);
  });
});

describe('paths the docs name', () => {
  const checked = docFiles();

  it.each(checked)('every repository path in a code span of %s exists', (file) => {
    const missing = pathsNamedIn(readFileSync(join(ROOT, file), 'utf8'))
      .filter((p) => !NOT_IN_REPO.some((d) => p.target === d || p.target.startsWith(`${d}/`)) && readRepo(p.target) === undefined)
      .map((p) => `${file}:${p.line}: ${p.target}`);
    expect(missing).toEqual([]);
  });

  it('finds paths in code spans, not placeholders, globs or fenced code', () => {
    const text = 'See `src/chat/commands.ts:12`, `deploy/azure/`, `src/gone.ts`, `src/targets/*.target.ts`, `bench/results/<x>.json`, `npm test`.\n```\nsrc/also-gone.ts\n```';
    expect(pathsNamedIn(text).map((p) => p.target)).toEqual(['src/chat/commands.ts', 'deploy/azure', 'src/gone.ts']);
    expect(
      pathsNamedIn(text)
        .filter((p) => readRepo(p.target) === undefined)
        .map((p) => p.target),
    ).toEqual(['src/gone.ts']);
  });
});

describe('the link checker', () => {
  const fixture = [
    '# Guide',
    '## 3. Hosting: App Service, or Container Apps',
    '## Set-up `az` — *twice*',
    '## Set-up `az` — *twice*',
    '',
    'Good: [readme](../README.md), [self](#guide), [hosting](#3-hosting-app-service-or-container-apps),',
    '[again](#set-up-az--twice-1), [policy](../policy/sample.policy.yaml), ![shot](screenshots/form.png "title"),',
    '[web](https://example.com/x#y), [folder](../deploy/).',
    'Broken: [gone](missing.md), [no heading](../README.md#no-such-heading), [bad anchor](#hosting),',
    '[built](../dist/main.js), [escape](../../outside.md).',
    '',
    '```md',
    '[inside a fence](nowhere.md)',
    '```',
    'Code `[span](nowhere.md)` is not a link.',
    '',
    '[ref]: ../nothing-here.md',
  ].join('\n');

  const verdicts = linksOf(fixture).map((l) => [l.target, brokenLink('docs/fixture.md', l.target, (p) => (p === 'docs/fixture.md' ? fixture : readRepo(p)))] as const);

  it('slugs headings the way GitHub does', () => {
    expect([...anchorsOf(fixture)]).toEqual(['guide', '3-hosting-app-service-or-container-apps', 'set-up-az--twice', 'set-up-az--twice-1']);
    expect(githubSlug('11. Who may do what: people, places and the policy at the write')).toBe('11-who-may-do-what-people-places-and-the-policy-at-the-write');
    expect(githubSlug('Chaos Studio API versions')).toBe('chaos-studio-api-versions');
  });

  it('accepts links that resolve and ignores code and other sites', () => {
    const ok = verdicts.filter(([, why]) => why === undefined).map(([t]) => t);
    expect(ok).toEqual(['../README.md', '#guide', '#3-hosting-app-service-or-container-apps', '#set-up-az--twice-1', '../policy/sample.policy.yaml', 'screenshots/form.png', 'https://example.com/x#y', '../deploy/']);
  });

  it('fails a missing file, a missing heading, a generated file, a path outside the repository and a bad reference', () => {
    expect(verdicts.filter(([, why]) => why !== undefined)).toEqual([
      ['missing.md', 'docs/missing.md does not exist'],
      ['../README.md#no-such-heading', 'README.md has no heading #no-such-heading'],
      ['#hosting', 'docs/fixture.md has no heading #hosting'],
      ['../dist/main.js', 'dist/main.js is generated, not in the repository'],
      ['../../outside.md', '../outside.md is outside the repository'],
      ['../nothing-here.md', 'nothing-here.md does not exist'],
    ]);
  });
});
