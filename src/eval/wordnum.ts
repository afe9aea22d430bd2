// Word numbers ("five" -> 5) as the toolkit's strip_string converts them (docs/grading.md §2.3,
// strip_string step 8). The toolkit calls the `word2number` package's word_to_num on the WHOLE answer and keeps the
// answer unchanged when that raises. The package is lenient in ways that matter for agreement, and they are
// reproduced here on purpose: it ignores every word it does not know ("two ways" -> 2), adds up the words it
// knows ("one and two" -> 3), returns a pure digit string re-printed as an integer ("007" -> 7) and turns a
// lone "point" into 0. This is an independent implementation of that documented behaviour.

const WORDS: Record<string, number> = {
  zero: 0,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
  thirteen: 13,
  fourteen: 14,
  fifteen: 15,
  sixteen: 16,
  seventeen: 17,
  eighteen: 18,
  nineteen: 19,
  twenty: 20,
  thirty: 30,
  forty: 40,
  fifty: 50,
  sixty: 60,
  seventy: 70,
  eighty: 80,
  ninety: 90,
  hundred: 100,
  thousand: 1000,
  million: 1_000_000,
  billion: 1_000_000_000,
};
const DIGIT_WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];

class NotANumber extends Error {}

/** The package's grouping rule for a run of number words (it only looks at up to four of them). */
function formation(words: string[]): number {
  const n = words.map((w) => WORDS[w]);
  if (n.length === 0) throw new NotANumber('empty group'); // Python: IndexError on numbers[0]
  if (n.length === 4) return n[0] * n[1] + n[2] + n[3];
  if (n.length === 3) return n[0] * n[1] + n[2];
  if (n.length === 2) return n.includes(100) ? n[0] * n[1] : n[0] + n[1];
  return n[0];
}

// The pattern's source is exactly that of one /…/u literal, in two pieces so that its lines stay short.
const DIGITS = new RegExp(
  String.raw`^[\p{Nd}\u00B2\u00B3\u00B9\u2070\u2074-\u2079\u2080-\u2089\u2460-\u2468\u2474-\u247C\u2488-\u2490` +
    String.raw`\u24F5-\u24FD\u24FF\u2776-\u277E\u2780-\u2788\u278A-\u2792]+$`,
  'u',
);

/** Python's str.isdigit() for the characters that occur in answers: decimal digits of any script plus
 *  superscript/other "digit" characters (for which int() then fails, as in Python). */
function isDigitString(s: string): boolean {
  return s.length > 0 && DIGITS.test(s);
}

/** Python float repr for the values word_to_num can produce (a float only when "point" was used). */
function pyFloatRepr(x: number): string {
  if (Number.isInteger(x) && Math.abs(x) < 1e16) return `${x}.0`;
  return String(x);
}

/** word_to_num(sentence) or throws NotANumber. */
function wordToNum(sentence: string): string {
  let s = sentence.replace(/-/g, ' ').toLowerCase();
  if (isDigitString(s)) {
    if (!/^\p{Nd}+$/u.test(s)) throw new NotANumber('superscript digits'); // int('²') raises in Python
    // int() of non-ASCII decimal digits works in Python; map them to their values.
    const ascii = [...s].map((ch) => String(digitValue(ch))).join('');
    return BigInt(ascii).toString();
  }
  s = s.trim();
  const words = s.split(/\s+/).filter((w) => w.length > 0);
  let clean = words.filter((w) => w in WORDS || w === 'point');
  if (clean.length === 0) throw new NotANumber('no number words');
  const count = (w: string) => clean.filter((c) => c === w).length;
  if (count('thousand') > 1 || count('million') > 1 || count('billion') > 1 || count('point') > 1) {
    throw new NotANumber('redundant');
  }
  let decimals: string[] = [];
  if (count('point') === 1) {
    const p = clean.indexOf('point');
    decimals = clean.slice(p + 1);
    clean = clean.slice(0, p);
  }
  const bi = clean.indexOf('billion');
  const mi = clean.indexOf('million');
  const th = clean.indexOf('thousand');
  if ((th > -1 && (th < mi || th < bi)) || (mi > -1 && mi < bi)) throw new NotANumber('malformed');
  let total = 0;
  if (clean.length === 1) {
    total += WORDS[clean[0]];
  } else if (clean.length > 1) {
    if (bi > -1) total += formation(clean.slice(0, bi)) * 1e9;
    if (mi > -1) total += formation(bi > -1 ? clean.slice(bi + 1, mi) : clean.slice(0, mi)) * 1e6;
    if (th > -1) {
      const from = mi > -1 ? mi + 1 : bi > -1 ? bi + 1 : 0;
      total += formation(clean.slice(from, th)) * 1000;
    }
    let hundreds = 0;
    if (th > -1 && th !== clean.length - 1) hundreds = formation(clean.slice(th + 1));
    else if (mi > -1 && mi !== clean.length - 1) hundreds = formation(clean.slice(mi + 1));
    else if (bi > -1 && bi !== clean.length - 1) hundreds = formation(clean.slice(bi + 1));
    else if (th === -1 && mi === -1 && bi === -1) hundreds = formation(clean);
    total += hundreds;
  }
  if (decimals.length > 0) {
    let dec = 0;
    if (decimals.every((w) => DIGIT_WORDS.includes(w))) {
      dec = Number.parseFloat('0.' + decimals.map((w) => WORDS[w]).join(''));
    }
    return pyFloatRepr(total + dec);
  }
  return String(total);
}

function digitValue(ch: string): number {
  // Unicode's decimal-digit blocks each start at their zero, so a digit's value is its distance from the
  // start of its run of Nd code points, modulo 10 (runs of several blocks exist, e.g. mathematical digits).
  const cp = ch.codePointAt(0) ?? 48;
  let d = 0;
  while (/\p{Nd}/u.test(String.fromCodePoint(cp - d - 1))) d++;
  return d % 10;
}

/** strip_string step 8: the whole string replaced by its number when word_to_num accepts it. */
export function convertWordNumber(text: string): string {
  try {
    return wordToNum(text);
  } catch (err) {
    if (err instanceof NotANumber) return text;
    throw err;
  }
}
