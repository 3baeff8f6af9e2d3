// A small SPDX license-expression parser (SPDX 2.3 Annex D), used only for integrity warnings.
// Grammar, loosest-binding first:  or := and ('OR' and)* ;  and := with ('AND' with)* ;
// with := simple ('WITH' exception)? | '(' or ')' ;  simple := id '+'? | [DocumentRef-x:]LicenseRef-y
// Operators are upper-case (Annex D: matched case-sensitively); ids are [A-Za-z0-9.-]+.
import { readFileSync } from 'node:fs';

export type LicenseParse = { ok: true; licenseIds: string[]; licenseRefs: string[] } | { ok: false; message: string };

const IDSTRING = /^[A-Za-z0-9.-]+$/;
const LICENSE_REF = /^(?:DocumentRef-[A-Za-z0-9.-]+:)?LicenseRef-[A-Za-z0-9.-]+$/;
const OPERATORS = new Set(['AND', 'OR', 'WITH']);

function tokenize(expr: string): string[] {
  return expr.replace(/[()]/g, ' $& ').split(/\s+/).filter(Boolean);
}

class ParseError extends Error {}

// Recursive descent over the token list. A class rather than closures: no per-call function objects.
class Parser {
  pos = 0;
  readonly licenseIds: string[] = [];
  readonly licenseRefs: string[] = [];
  constructor(private readonly tokens: string[]) {}

  private at(): string {
    return this.pos < this.tokens.length ? `'${this.tokens[this.pos]}'` : 'end of expression';
  }

  or(): void {
    this.and();
    while (this.tokens[this.pos] === 'OR') {
      this.pos++;
      this.and();
    }
  }

  private and(): void {
    this.simple();
    while (this.tokens[this.pos] === 'AND') {
      this.pos++;
      this.simple();
    }
  }

  private simple(): void {
    const tok = this.tokens[this.pos];
    if (tok === undefined) throw new ParseError('expected a license id at end of expression');
    if (tok === '(') {
      this.pos++;
      this.or();
      if (this.tokens[this.pos] !== ')') throw new ParseError(`expected ')' but found ${this.at()}`);
      this.pos++;
      return;
    }
    if (OPERATORS.has(tok) || tok === ')') throw new ParseError(`expected a license id but found '${tok}'`);
    if (LICENSE_REF.test(tok)) this.licenseRefs.push(tok);
    else {
      const id = tok.endsWith('+') ? tok.slice(0, -1) : tok;
      if (!IDSTRING.test(id)) throw new ParseError(`'${tok}' is not a valid license id`);
      this.licenseIds.push(id);
    }
    this.pos++;
    if (this.tokens[this.pos] === 'WITH') {
      this.pos++;
      const exc = this.tokens[this.pos];
      if (exc === undefined || OPERATORS.has(exc) || !IDSTRING.test(exc)) {
        throw new ParseError(`expected a license exception id after WITH but found ${this.at()}`);
      }
      this.pos++;
    }
  }
}

export function parseLicenseExpression(expr: string): LicenseParse {
  const tokens = tokenize(expr);
  if (tokens.length === 0) return { ok: false, message: 'empty license expression' };
  const p = new Parser(tokens);
  try {
    p.or();
    if (p.pos < tokens.length) {
      const tok = tokens[p.pos]!;
      const hint = /^(and|or|with)$/i.test(tok) ? ' (operators must be upper-case AND, OR, WITH)' : '';
      return { ok: false, message: `unexpected '${tok}'${hint}` };
    }
    return { ok: true, licenseIds: p.licenseIds, licenseRefs: p.licenseRefs };
  } catch (err) {
    if (err instanceof ParseError) return { ok: false, message: err.message };
    // Deeply parenthesised input can overflow the stack: still just "does not parse".
    return { ok: false, message: 'license expression too deeply nested' };
  }
}

let known: Set<string> | undefined;

/** The SPDX license list (3.28, incl. deprecated ids) from CycloneDX's spdx.schema.json; case-insensitive. */
export function isKnownLicenseId(id: string): boolean {
  known ??= new Set(
    (JSON.parse(readFileSync(new URL('./schemas/spdx.schema.json', import.meta.url), 'utf8')) as { enum: string[] }).enum.map((s) => s.toLowerCase()),
  );
  return known.has(id.toLowerCase());
}
