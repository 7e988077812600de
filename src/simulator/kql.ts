// The subset of Kusto Query Language (KQL) the simulator's Resource Graph answers: one table,
// `where` over type lists, emptiness and case-insensitive equality, and `project`. Anything else
// is a KqlError, which the provider turns into Resource Graph's InvalidQuery refusal.
//
//   query     := table ('|' stage)*
//   table     := 'resources'                                (case-insensitive, as Resource Graph takes it)
//   stage     := 'where' or | 'project' column (',' column)*
//   or        := and ('or' and)*
//   and       := term ('and' term)*
//   term      := path 'in~' '(' string (',' string)* ')' | path '=~' string | 'isnotempty' '(' path ')' | 'isempty' '(' path ')'
//   path      := column ('.' name)*                         (dynamic member access into properties, identity…)

export class KqlError extends Error {
  constructor(
    message: string,
    /** 0-based character offset of the offending token in the query text. */
    readonly at: number,
  ) {
    super(message);
    this.name = 'KqlError';
  }
}

type Token = { kind: 'name' | 'string' | 'punct'; text: string; at: number };

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      if (end < 0) throw new KqlError('unterminated string literal', i);
      out.push({ kind: 'string', text: text.slice(i + 1, end), at: i });
      i = end + 1;
      continue;
    }
    const op = /^(in~|=~)/.exec(text.slice(i));
    if (op) {
      out.push({ kind: 'punct', text: op[1]!, at: i });
      i += op[1]!.length;
      continue;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i));
    if (name) {
      out.push({ kind: 'name', text: name[0], at: i });
      i += name[0].length;
      continue;
    }
    if ('|(),.'.includes(c)) {
      out.push({ kind: 'punct', text: c, at: i });
      i++;
      continue;
    }
    throw new KqlError(`token '${c}' is not in the subset the simulator answers`, i);
  }
  return out;
}

export type Row = Record<string, unknown>;
type Predicate = (row: Row) => boolean;

export interface KqlQuery {
  table: 'resources';
  filters: Predicate[];
  /** Columns kept, in order; undefined: every column. */
  project?: string[];
  /** Every column the query names, with where it was named: each must exist in the table. */
  columns: Array<{ name: string; at: number }>;
}

class Parser {
  private i = 0;
  private readonly columns: Array<{ name: string; at: number }> = [];
  constructor(
    private readonly tokens: Token[],
    private readonly length: number,
  ) {}

  private peek(): Token | undefined {
    return this.tokens[this.i];
  }
  private fail(what: string): never {
    const t = this.peek();
    throw new KqlError(t ? `${what}, found '${t.text}'` : `${what}, found the end of the query`, t?.at ?? this.length);
  }
  private word(w: string): boolean {
    const t = this.peek();
    if (t?.kind === 'name' && t.text.toLowerCase() === w) {
      this.i++;
      return true;
    }
    return false;
  }
  private punct(p: string): boolean {
    const t = this.peek();
    if (t?.kind === 'punct' && t.text === p) {
      this.i++;
      return true;
    }
    return false;
  }
  private expectPunct(p: string): void {
    if (!this.punct(p)) this.fail(`expected '${p}'`);
  }
  private name(): string {
    const t = this.peek();
    if (t?.kind !== 'name') this.fail('expected a column name');
    this.i++;
    return t.text;
  }
  private string(): string {
    const t = this.peek();
    if (t?.kind !== 'string') this.fail('expected a string literal');
    this.i++;
    return t.text;
  }

  query(): KqlQuery {
    if (!this.word('resources')) this.fail("expected the table 'resources'");
    const q: KqlQuery = { table: 'resources', filters: [], columns: this.columns };
    while (this.punct('|')) {
      if (this.word('where')) q.filters.push(this.or());
      else if (this.word('project')) {
        if (q.project) this.fail('a second project');
        const column = () => {
          const at = this.peek()?.at ?? this.length;
          const name = this.name();
          this.columns.push({ name, at });
          return name;
        };
        const cols = [column()];
        while (this.punct(',')) cols.push(column());
        q.project = cols;
      } else this.fail("expected 'where' or 'project'");
    }
    if (this.peek()) this.fail("expected '|'");
    return q;
  }

  private or(): Predicate {
    const parts = [this.and()];
    while (this.word('or')) parts.push(this.and());
    return parts.length === 1 ? parts[0]! : (row) => parts.some((p) => p(row));
  }

  private and(): Predicate {
    const parts = [this.term()];
    while (this.word('and')) parts.push(this.term());
    return parts.length === 1 ? parts[0]! : (row) => parts.every((p) => p(row));
  }

  private path(): string[] {
    const at = this.peek()?.at ?? this.length;
    const path = [this.name()];
    this.columns.push({ name: path[0]!, at });
    while (this.punct('.')) path.push(this.name());
    return path;
  }

  private term(): Predicate {
    for (const fn of ['isnotempty', 'isempty'] as const) {
      if (this.word(fn)) {
        this.expectPunct('(');
        const p = this.path();
        this.expectPunct(')');
        return fn === 'isnotempty' ? (row) => !isEmpty(valueAt(row, p)) : (row) => isEmpty(valueAt(row, p));
      }
    }
    const p = this.path();
    if (this.punct('in~')) {
      this.expectPunct('(');
      const values = [this.string().toLowerCase()];
      while (this.punct(',')) values.push(this.string().toLowerCase());
      this.expectPunct(')');
      return (row) => {
        const v = valueAt(row, p);
        return typeof v === 'string' && values.includes(v.toLowerCase());
      };
    }
    if (this.punct('=~')) {
      const s = this.string().toLowerCase();
      return (row) => {
        const v = valueAt(row, p);
        return typeof v === 'string' && v.toLowerCase() === s;
      };
    }
    return this.fail("expected 'in~', '=~', isnotempty() or isempty()");
  }
}

/** Kusto's isempty(): null, missing or the empty string. */
function isEmpty(v: unknown): boolean {
  return v === undefined || v === null || v === '';
}

/** Member access into a dynamic column; KQL member names are case-sensitive. */
function valueAt(row: Row, path: string[]): unknown {
  let v: unknown = row;
  for (const k of path) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

export function parseKql(text: string): KqlQuery {
  return new Parser(tokenize(text), text.length).query();
}

/** Runs a parsed query over the table's rows; a projected column the rows do not have is a KqlError, as Kusto refuses it. */
export function runKql(q: KqlQuery, rows: Row[], columns: readonly string[]): Row[] {
  for (const c of q.columns) {
    if (!columns.includes(c.name)) throw new KqlError(`Failed to resolve scalar expression named '${c.name}'`, c.at);
  }
  const kept = rows.filter((r) => q.filters.every((f) => f(r)));
  if (!q.project) return kept;
  const cols = q.project;
  return kept.map((r) => Object.fromEntries(cols.map((c) => [c, r[c] ?? null])));
}
