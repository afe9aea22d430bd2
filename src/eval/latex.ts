// A LaTeX reader that mirrors the grammar of sympy's `parse_latex` (sympy 1.12, the toolkit's pin), because
// the toolkit's symbolic stage only sees what that parser makes of an answer (docs/grading.md §2.5,
// "symbolic_equal"). Its behaviours that decide verdicts, all reproduced here:
//   - it parses the longest valid PREFIX and ignores the rest: "1,-2" reads as 1 (the root of the
//     "1,-2" == "1,-3" bug), "x+" as x, "2^-1" as 2;
//   - an unknown command is a symbol: `\cdotx` (after spaces were deleted) -> cdotx, `\pi` -> pi (a free
//     symbol, not the constant: "2\pi" never equals 6.2832 numerically), `\ne` -> ne, `\mathbb{R}` -> mathbb*R;
//   - a letter or command directly followed by "(" is a function call: "x(x+1)" is x applied to x+1;
//   - "1,000" is one number; "d" followed by a letter is one symbol ("dx");
//   - characters outside its alphabet (%, $, ", ;, &, non-ASCII, "\\") make the whole string fail.
// The output is a small expression tree that symbolic.ts evaluates.

export type Node =
  | { t: 'num'; v: number; float: boolean }
  | { t: 'sym'; name: string }
  | { t: 'inf'; sign: 1 | -1 }
  | { t: 'add'; a: Node[] }
  | { t: 'mul'; a: Node[] }
  | { t: 'pow'; b: Node; e: Node }
  | { t: 'fn'; name: string; args: Node[] }
  | { t: 'rel'; op: '=' | '<' | '<=' | '>' | '>=' | '!='; l: Node; r: Node }
  | { t: 'bool'; v: boolean }
  | { t: 'tuple' | 'list' | 'set'; items: Node[] };

export class ParseError extends Error {}

type Tok = { k: string; v: string };

const SKIP_CMDS = new Set([
  'left',
  'right',
  'quad',
  'qquad',
  'thinspace',
  'medspace',
  'thickspace',
  'negthinspace',
  'negmedspace',
  'negthickspace',
]);
const FUNCS = new Set([
  'sin',
  'cos',
  'tan',
  'csc',
  'sec',
  'cot',
  'arcsin',
  'arccos',
  'arctan',
  'arccsc',
  'arcsec',
  'arccot',
  'sinh',
  'cosh',
  'tanh',
  'arsinh',
  'arcosh',
  'artanh',
  'log',
  'ln',
  'exp',
]);
const CMD_TOKENS: Record<string, string> = {
  frac: 'FRAC',
  dfrac: 'FRAC',
  tfrac: 'FRAC',
  binom: 'BINOM',
  dbinom: 'BINOM',
  tbinom: 'BINOM',
  sqrt: 'SQRT',
  overline: 'OVERLINE',
  times: 'MUL',
  cdot: 'MUL',
  div: 'DIV',
  le: 'LE',
  leq: 'LE',
  leqslant: 'LE',
  ge: 'GE',
  geq: 'GE',
  geqslant: 'GE',
  neq: 'NE',
  lfloor: 'LFLOOR',
  rfloor: 'RFLOOR',
  lceil: 'LCEIL',
  rceil: 'RCEIL',
  infty: 'INF',
  mathit: 'MATHIT',
  sum: 'BIG',
  prod: 'BIG',
  int: 'BIG',
  lim: 'BIG',
};

/** Tokenise; throws ParseError on any character sympy's lexer rejects (anywhere in the string). */
export function lex(src: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
      i++;
      continue;
    }
    if (c === '\\') {
      const m = /^\\([a-zA-Z]+)/.exec(src.slice(i));
      if (m) {
        const name = m[1];
        i += m[0].length;
        if (SKIP_CMDS.has(name)) continue;
        if (FUNCS.has(name)) toks.push({ k: 'FUNC', v: name });
        else if (name in CMD_TOKENS) toks.push({ k: CMD_TOKENS[name], v: name });
        else toks.push({ k: 'SYMBOL', v: name });
        continue;
      }
      const n = src[i + 1];
      if (n === ',' || n === ':' || n === ';' || n === '!') {
        i += 2;
        continue;
      } // thin/medium/thick/negative space
      if (n === '{') {
        toks.push({ k: 'LBRACE_LIT', v: '\\{' });
        i += 2;
        continue;
      }
      if (n === '}') {
        toks.push({ k: 'RBRACE_LIT', v: '\\}' });
        i += 2;
        continue;
      }
      throw new ParseError(`unexpected '\\${n ?? ''}'`);
    }
    if (/[0-9]/.test(c)) {
      const m = /^\d+(?:,\d{3})*(?:\.\d+)?/.exec(src.slice(i))!;
      toks.push({ k: 'NUM', v: m[0] });
      i += m[0].length;
      continue;
    }
    if (c === '.') {
      const m = /^\.\d+/.exec(src.slice(i));
      if (!m) {
        toks.push({ k: 'OTHER', v: '.' });
        i++;
        continue;
      } // lexed by sympy, never parsed: ends the prefix
      // sympy's NUMBER needs a digit before the point; ".5" is lexed but cannot start an expression.
      toks.push({ k: 'BADNUM', v: m[0] });
      i += m[0].length;
      continue;
    }
    if (/[a-zA-Z]/.test(c)) {
      // "d" + letter (or + command) is sympy's DIFFERENTIAL token, a single symbol "dx".
      if (c === 'd' && /[a-zA-Z]/.test(src[i + 1] ?? '')) {
        toks.push({ k: 'LETTER', v: 'd' + src[i + 1] });
        i += 2;
      } else {
        toks.push({ k: 'LETTER', v: c });
        i++;
      }
      while (src[i] === "'") {
        toks[toks.length - 1].v += "'";
        i++;
      }
      continue;
    }
    const single: Record<string, string> = {
      '+': 'ADD',
      '-': 'SUB',
      '*': 'MUL',
      '/': 'DIV',
      ':': 'DIV',
      '(': 'LPAREN',
      ')': 'RPAREN',
      '{': 'LBRACE',
      '}': 'RBRACE',
      '[': 'LBRACKET',
      ']': 'RBRACKET',
      '|': 'BAR',
      '^': 'CARET',
      _: 'UNDERSCORE',
      '=': 'EQ',
      '<': 'LT',
      '>': 'GT',
      '!': 'BANG',
      ',': 'COMMA',
    };
    if (c in single) {
      toks.push({ k: single[c], v: c });
      i++;
      continue;
    }
    if (c === "'") {
      toks.push({ k: 'OTHER', v: c });
      i++;
      continue;
    }
    throw new ParseError(`unexpected character '${c}'`);
  }
  return toks;
}

const ONE: Node = { t: 'num', v: 1, float: false };
const MINUS_ONE: Node = { t: 'num', v: -1, float: false };
const neg = (n: Node): Node => ({ t: 'mul', a: [MINUS_ONE, n] });
const inv = (n: Node): Node => ({ t: 'pow', b: n, e: MINUS_ONE });

class Parser {
  p = 0;
  constructor(private toks: Tok[]) {}
  peek(o = 0): Tok | undefined {
    return this.toks[this.p + o];
  }
  is(k: string, o = 0): boolean {
    return this.toks[this.p + o]?.k === k;
  }
  take(k: string): Tok {
    const t = this.toks[this.p];
    if (!t || t.k !== k) throw new ParseError(`expected ${k}, found ${t ? t.v : 'end'}`);
    this.p++;
    return t;
  }
  /** Run `f`; on failure restore the position and return undefined (ANTLR stops before what cannot continue). */
  attempt<T>(f: () => T): T | undefined {
    const save = this.p;
    try {
      return f();
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
      this.p = save;
      return undefined;
    }
  }

  relation(): Node {
    let left = this.expr();
    for (;;) {
      const t = this.peek();
      const op = t && ({ EQ: '=', LT: '<', LE: '<=', GT: '>', GE: '>=', NE: '!=' } as const)[t.k as 'EQ'];
      if (!op) return left;
      const save = this.p;
      this.p++;
      const right = this.attempt(() => this.expr());
      if (!right) {
        this.p = save;
        return left;
      }
      // sympy builds Eq(Eq(a, b), c) for a=b=c, but a<b<c raises (a relational has no truth value).
      if (left.t === 'rel' && op !== '=') throw new ParseError('chained inequality');
      left = { t: 'rel', op, l: left, r: right };
    }
  }

  expr(): Node {
    return this.additive();
  }

  additive(): Node {
    const terms = [this.mp(false)];
    while (this.is('ADD') || this.is('SUB')) {
      const save = this.p;
      const minus = this.take(this.peek()!.k).k === 'SUB';
      const rhs = this.attempt(() => this.mp(false));
      if (!rhs) {
        this.p = save;
        break;
      }
      terms.push(minus ? neg(rhs) : rhs);
    }
    return terms.length === 1 ? terms[0] : { t: 'add', a: terms };
  }

  mp(nofunc: boolean): Node {
    let left = this.unary(nofunc);
    while (this.is('MUL') || this.is('DIV')) {
      const save = this.p;
      const div = this.take(this.peek()!.k).k === 'DIV';
      const rhs = this.attempt(() => this.unary(nofunc));
      if (!rhs) {
        this.p = save;
        break;
      }
      left = div ? { t: 'mul', a: [left, inv(rhs)] } : { t: 'mul', a: [left, rhs] };
    }
    return left;
  }

  unary(nofunc: boolean): Node {
    if (this.is('ADD')) {
      this.p++;
      return this.unary(nofunc);
    }
    if (this.is('SUB')) {
      this.p++;
      return neg(this.unary(nofunc));
    }
    const items = [this.postfix(nofunc)];
    for (;;) {
      const next = this.attempt(() => this.postfix(nofunc));
      if (!next) break;
      items.push(next);
    }
    return items.length === 1 ? items[0] : { t: 'mul', a: items };
  }

  postfix(nofunc: boolean): Node {
    let e = this.exp(nofunc);
    while (this.is('BANG')) {
      this.p++;
      e = { t: 'fn', name: 'factorial', args: [e] };
    }
    return e;
  }

  exp(nofunc: boolean): Node {
    let base = this.comp(nofunc);
    while (this.is('CARET')) {
      const save = this.p;
      this.p++;
      const e = this.attempt(() => (this.is('LBRACE') ? this.braced() : this.atom()));
      if (!e) {
        this.p = save;
        break;
      }
      this.subscriptIgnored();
      base = { t: 'pow', b: base, e };
    }
    return base;
  }

  private subscriptIgnored(): void {
    if (this.is('UNDERSCORE')) {
      this.p++;
      this.is('LBRACE') ? this.braced() : this.atom();
    }
  }

  braced(): Node {
    this.take('LBRACE');
    const e = this.expr();
    this.take('RBRACE');
    return e;
  }

  comp(nofunc: boolean): Node {
    const t = this.peek();
    if (!t) throw new ParseError('unexpected end');
    switch (t.k) {
      case 'LPAREN':
      case 'LBRACKET':
      case 'LBRACE':
      case 'LBRACE_LIT': {
        const close = { LPAREN: 'RPAREN', LBRACKET: 'RBRACKET', LBRACE: 'RBRACE', LBRACE_LIT: 'RBRACE_LIT' }[t.k]!;
        this.p++;
        const e = this.expr();
        this.take(close);
        return e;
      }
      case 'BAR': {
        this.p++;
        const e = this.expr();
        this.take('BAR');
        return { t: 'fn', name: 'abs', args: [e] };
      }
      case 'LFLOOR':
      case 'LCEIL': {
        this.p++;
        const e = this.expr();
        this.take(t.k === 'LFLOOR' ? 'RFLOOR' : 'RCEIL');
        return { t: 'fn', name: t.k === 'LFLOOR' ? 'floor' : 'ceiling', args: [e] };
      }
      case 'FRAC':
        return this.frac();
      case 'BINOM': {
        this.p++;
        const n = this.braced();
        const k = this.braced();
        return { t: 'fn', name: 'binomial', args: [n, k] };
      }
      case 'SQRT': {
        this.p++;
        let root: Node | undefined;
        if (this.is('LBRACKET')) {
          this.p++;
          root = this.expr();
          this.take('RBRACKET');
        }
        const x = this.braced();
        return root
          ? { t: 'pow', b: x, e: inv(root) }
          : { t: 'pow', b: x, e: { t: 'pow', b: { t: 'num', v: 2, float: false }, e: MINUS_ONE } };
      }
      case 'OVERLINE': {
        this.p++;
        return { t: 'fn', name: 'conjugate', args: [this.braced()] };
      }
      case 'FUNC':
        if (nofunc) throw new ParseError('function inside a function argument');
        return this.func();
      case 'BIG':
        return this.big();
      default:
        break;
    }
    // A letter or unknown command followed by "(" is an undefined function applied to its arguments.
    if ((t.k === 'LETTER' || t.k === 'SYMBOL') && !nofunc) {
      const call = this.attempt(() => {
        const name = this.symbolName();
        this.take('LPAREN');
        const args = [this.expr()];
        while (this.is('COMMA')) {
          this.p++;
          args.push(this.expr());
        }
        this.take('RPAREN');
        return { t: 'fn', name: 'user:' + name, args } as Node;
      });
      if (call) return call;
    }
    return this.atom();
  }

  /** A letter or command with an optional subscript, as sympy names the symbol ("x_{1}"). */
  symbolName(): string {
    const t = this.peek()!;
    this.p++;
    let name = t.v;
    if (this.is('UNDERSCORE')) {
      this.p++;
      const sub = this.is('LBRACE') ? this.braced() : this.atom();
      name += '_{' + show(sub) + '}';
    }
    return name;
  }

  atom(): Node {
    const t = this.peek();
    if (!t) throw new ParseError('unexpected end');
    if (t.k === 'NUM') {
      this.p++;
      const text = t.v.replaceAll(',', '');
      return { t: 'num', v: Number(text), float: text.includes('.') };
    }
    if (t.k === 'INF') {
      this.p++;
      return { t: 'inf', sign: 1 };
    }
    if (t.k === 'LETTER' || t.k === 'SYMBOL') return { t: 'sym', name: this.symbolName() };
    if (t.k === 'MATHIT') {
      this.p++;
      this.take('LBRACE');
      let name = '';
      while (this.is('LETTER')) name += this.take('LETTER').v;
      this.take('RBRACE');
      if (!name) throw new ParseError('empty \\mathit');
      return { t: 'sym', name };
    }
    throw new ParseError(`unexpected '${t.v}'`);
  }

  /** `\sum`, `\prod`, `\int`, `\lim` with their limits and body: kept as an opaque function of all of
   *  them (sympy builds Sum/Integral/Limit objects, equal only to the same construction). */
  big(): Node {
    const name = this.peek()!.v;
    this.p++;
    const args: Node[] = [];
    for (let k = 0; k < 2; k++) {
      if (this.is('UNDERSCORE') || this.is('CARET')) {
        this.p++;
        if (this.is('LBRACE')) {
          this.p++;
          args.push(this.relation());
          this.take('RBRACE');
        } else args.push(this.atom());
      }
    }
    args.push(this.mp(false));
    return { t: 'fn', name: 'big:' + name, args };
  }

  frac(): Node {
    this.take('FRAC');
    // `\frac12` and `\frac1{72}`: a digit directly after \frac is a one-digit argument.
    const arg = (): Node => {
      const t = this.peek();
      if (t?.k === 'NUM' && /^\d/.test(t.v)) {
        if (t.v.length === 1) {
          this.p++;
        } else {
          this.toks[this.p] = { k: 'NUM', v: t.v.slice(1) };
        }
        return { t: 'num', v: Number(t.v[0]), float: false };
      }
      return this.braced();
    };
    const n = arg();
    const d = arg();
    return { t: 'mul', a: [n, inv(d)] };
  }

  func(): Node {
    const name = this.take('FUNC').v;
    let sup: Node | undefined;
    let sub: Node | undefined;
    for (let k = 0; k < 2; k++) {
      if (this.is('CARET') && !sup) {
        this.p++;
        sup = this.is('LBRACE') ? this.braced() : this.atom();
      } else if (this.is('UNDERSCORE') && !sub) {
        this.p++;
        sub = this.is('LBRACE') ? this.braced() : this.atom();
      }
    }
    let arg: Node;
    if (this.is('LPAREN')) {
      this.p++;
      arg = this.expr();
      this.take('RPAREN');
    } else arg = this.mp(true);
    let fname = name === 'ln' ? 'log' : name.replace(/^arc/, 'a').replace(/^ar(?=(sinh|cosh|tanh))/, 'a');
    // sympy reads f^{-1} of a trigonometric function as its inverse, any other power as a power.
    const isMinusOne =
      sup &&
      sup.t === 'mul' &&
      sup.a.length === 2 &&
      sup.a[0] === MINUS_ONE &&
      sup.a[1].t === 'num' &&
      sup.a[1].v === 1;
    if (isMinusOne && /^(sin|cos|tan|csc|sec|cot|sinh|cosh|tanh)$/.test(fname)) {
      fname = 'a' + fname;
      sup = undefined;
    }
    let out: Node;
    if (fname === 'log') {
      out = { t: 'fn', name: 'log', args: sub ? [arg, sub] : [arg] };
    } else {
      out = { t: 'fn', name: fname, args: [arg] };
    }
    return sup ? { t: 'pow', b: out, e: sup } : out;
  }
}

/** Parse like sympy's parse_latex: the longest valid prefix; ParseError when none. */
export function parseLatex(src: string): Node {
  const toks = lex(src);
  if (toks.length === 0) throw new ParseError('empty');
  const p = new Parser(toks);
  return p.relation();
}

/** A canonical text for a tree: commutative operands sorted, so that structural equality (sympy's `==`
 *  after its automatic canonical ordering) is string equality. */
export function show(n: Node): string {
  switch (n.t) {
    case 'num':
      return n.float ? `${n.v}f` : `${n.v}`;
    case 'sym':
      return n.name;
    case 'inf':
      return n.sign > 0 ? 'oo' : '-oo';
    case 'add':
      return '(' + flat(n).map(show).sort().join('+') + ')';
    case 'mul':
      return '(' + flat(n).map(show).sort().join('*') + ')';
    case 'pow':
      return `(${show(n.b)})^(${show(n.e)})`;
    case 'fn':
      return `${n.name}(${n.args.map(show).join(',')})`;
    case 'rel':
      return `${show(n.l)}${n.op}${show(n.r)}`;
    case 'bool':
      return n.v ? 'True' : 'False';
    case 'set':
      return '{' + n.items.map(show).sort().join(',') + '}';
    case 'tuple':
      return '(' + n.items.map(show).join(',') + ',)';
    case 'list':
      return '[' + n.items.map(show).join(',') + ']';
  }
}

function flat(n: Node & { t: 'add' | 'mul' }): Node[] {
  return n.a.flatMap((c) => (c.t === n.t ? flat(c as Node & { t: 'add' | 'mul' }) : [c]));
}

export { ONE };
