// The toolkit's second parser: when sympy's parse_latex fails, `symbolic_equal` tries sympy's `parse_expr`,
// which reads PYTHON syntax (docs/grading.md §2.5, symbolic_equal). It matters for the answers parse_latex
// rejects: "{1,2}" becomes a Python set (so "{1,2}" equals "{2,1}"), "(1,2)" a tuple, "[1,2]" a list,
// ".5" a number, "10!" a factorial. This reads that subset: numbers, names, + - * / **, unary signs,
// postfix "!", calls, and tuple/list/set displays. Anything else (LaTeX commands, "^" which is Python's
// XOR, implicit products like "2x") fails, as parse_expr does.
import { ParseError, type Node } from './latex.js';

type Tok = { k: 'num' | 'name' | 'op'; v: string };

function lex(src: string): Tok[] {
  const out: Tok[] = [];
  const re = /\s*(?:(\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)|([A-Za-z_]\w*)|(\*\*|[-+*/(),[\]{}!]))/y;
  let i = 0;
  while (i < src.length) {
    if (/^\s*$/.test(src.slice(i))) break;
    re.lastIndex = i;
    const m = re.exec(src);
    if (!m) throw new ParseError(`python syntax: unexpected '${src.slice(i).trim()[0]}'`);
    if (m[1] !== undefined) out.push({ k: 'num', v: m[1] });
    else if (m[2] !== undefined) out.push({ k: 'name', v: m[2] });
    else out.push({ k: 'op', v: m[3] });
    i = re.lastIndex;
  }
  return out;
}

const FUNCS: Record<string, string> = {
  sqrt: 'sqrt',
  exp: 'exp',
  log: 'log',
  sin: 'sin',
  cos: 'cos',
  tan: 'tan',
  factorial: 'factorial',
  Abs: 'abs',
  abs: 'abs',
};

class P {
  i = 0;
  constructor(private t: Tok[]) {}
  peek(v?: string): boolean {
    const x = this.t[this.i];
    return !!x && x.k === 'op' && (v === undefined || x.v === v);
  }
  eat(v: string): void {
    if (!this.peek(v)) throw new ParseError(`python syntax: expected '${v}'`);
    this.i++;
  }

  /** expr_list: a bare "a, b" is a tuple in Python. */
  top(): Node {
    const first = this.sum();
    if (!this.peek(',')) return first;
    const items = [first];
    while (this.peek(',')) {
      this.i++;
      if (this.i >= this.t.length) break;
      items.push(this.sum());
    }
    return { t: 'tuple', items };
  }
  sum(): Node {
    const terms = [this.term()];
    while (this.peek('+') || this.peek('-')) {
      const minus = this.t[this.i++].v === '-';
      const r = this.term();
      terms.push(minus ? { t: 'mul', a: [{ t: 'num', v: -1, float: false }, r] } : r);
    }
    return terms.length === 1 ? terms[0] : { t: 'add', a: terms };
  }
  term(): Node {
    let l = this.unary();
    while (this.peek('*') || this.peek('/')) {
      const div = this.t[this.i++].v === '/';
      const r = this.unary();
      l = { t: 'mul', a: [l, div ? { t: 'pow', b: r, e: { t: 'num', v: -1, float: false } } : r] };
    }
    return l;
  }
  unary(): Node {
    if (this.peek('-')) {
      this.i++;
      return { t: 'mul', a: [{ t: 'num', v: -1, float: false }, this.unary()] };
    }
    if (this.peek('+')) {
      this.i++;
      return this.unary();
    }
    return this.power();
  }
  power(): Node {
    const b = this.postfix();
    if (this.peek('**')) {
      this.i++;
      return { t: 'pow', b, e: this.unary() };
    }
    return b;
  }
  postfix(): Node {
    let a = this.atom();
    while (this.peek('!')) {
      this.i++;
      a = { t: 'fn', name: 'factorial', args: [a] };
    }
    return a;
  }
  atom(): Node {
    const x = this.t[this.i];
    if (!x) throw new ParseError('python syntax: unexpected end');
    this.i++;
    if (x.k === 'num') return { t: 'num', v: Number(x.v), float: /[.eE]/.test(x.v) };
    if (x.k === 'name') {
      if (this.peek('(')) {
        const fn = FUNCS[x.v];
        if (!fn) throw new ParseError(`python syntax: unknown function ${x.v}`);
        this.i++;
        const args = [this.sum()];
        while (this.peek(',')) {
          this.i++;
          args.push(this.sum());
        }
        this.eat(')');
        return { t: 'fn', name: fn, args };
      }
      if (x.v === 'pi') return { t: 'sym', name: '#pi' };
      if (x.v === 'E') return { t: 'sym', name: '#E' };
      if (x.v === 'I') return { t: 'sym', name: '#I' };
      if (x.v === 'oo') return { t: 'inf', sign: 1 };
      return { t: 'sym', name: x.v };
    }
    const open = x.v;
    const close = ({ '(': ')', '[': ']', '{': '}' } as Record<string, string>)[open];
    if (!close) throw new ParseError(`python syntax: unexpected '${open}'`);
    const items: Node[] = [];
    let comma = false;
    while (!this.peek(close)) {
      items.push(this.sum());
      if (this.peek(',')) {
        this.i++;
        comma = true;
      } else break;
    }
    this.eat(close);
    if (open === '(') {
      if (items.length === 1 && !comma) return items[0];
      if (items.length === 0) return { t: 'tuple', items };
      return { t: 'tuple', items };
    }
    if (open === '{' && items.length === 0) throw new ParseError('python syntax: {} is a dict');
    return { t: open === '[' ? 'list' : 'set', items };
  }
}

/** sympy's parse_expr on the subset above; ParseError otherwise (including trailing tokens). */
export function parsePython(src: string): Node {
  const toks = lex(src);
  if (toks.length === 0) throw new ParseError('python syntax: empty');
  const p = new P(toks);
  const n = p.top();
  if (p.i !== toks.length) throw new ParseError('python syntax: trailing tokens');
  return n;
}
