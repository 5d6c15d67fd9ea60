// JSON.parse turns `125.50` into 125.5 and big counts into approximations; money must be shown
// with the digits the API sent. This parser keeps every number as its source text.

export type Json = null | boolean | string | Exact | Json[] | { [key: string]: Json };

/** A JSON number exactly as written (`125.50`, `0.0`, `1E+1`). */
export class Exact {
  constructor(readonly text: string) {}
  get value(): number {
    return Number(this.text);
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const SPACE = /[ \t\n\r]*/y;
// Searched from a position (lastIndex), never in a copy of the rest of the text.
const QUOTE_OR_ESCAPE = /["\\]/g;

export function parseJson(text: string): Json {
  let at = 0;
  const fail = (what: string): never => {
    throw new SyntaxError(`bad JSON at ${at}: ${what}`);
  };
  const skip = (): void => {
    SPACE.lastIndex = at;
    SPACE.exec(text);
    at = SPACE.lastIndex;
  };
  const expect = (word: string): void => {
    if (!text.startsWith(word, at)) fail(`expected ${word}`);
    at += word.length;
  };
  const string = (): string => {
    at += 1; // the opening quote
    let out = "";
    for (;;) {
      QUOTE_OR_ESCAPE.lastIndex = at;
      const end = QUOTE_OR_ESCAPE.exec(text)?.index;
      if (end === undefined) return fail("unterminated string");
      out += text.slice(at, end);
      at = end;
      if (text[at] === '"') {
        at += 1;
        return out;
      }
      const escape = text[at + 1];
      at += 2;
      if (escape === "u") {
        out += String.fromCharCode(parseInt(text.slice(at, at + 4), 16));
        at += 4;
      } else {
        const simple: Record<string, string> = {
          '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t",
        };
        const found = escape === undefined ? undefined : simple[escape];
        if (found === undefined) fail("bad escape");
        out += found;
      }
    }
  };
  const value = (): Json => {
    skip();
    const c = text[at];
    if (c === "{") {
      at += 1;
      const object: { [key: string]: Json } = {};
      skip();
      if (text[at] === "}") {
        at += 1;
        return object;
      }
      for (;;) {
        skip();
        if (text[at] !== '"') fail("expected a key");
        const key = string();
        skip();
        expect(":");
        object[key] = value();
        skip();
        if (text[at] === ",") at += 1;
        else {
          expect("}");
          return object;
        }
      }
    }
    if (c === "[") {
      at += 1;
      const array: Json[] = [];
      skip();
      if (text[at] === "]") {
        at += 1;
        return array;
      }
      for (;;) {
        array.push(value());
        skip();
        if (text[at] === ",") at += 1;
        else {
          expect("]");
          return array;
        }
      }
    }
    if (c === '"') return string();
    if (text.startsWith("true", at)) return (at += 4), true;
    if (text.startsWith("false", at)) return (at += 5), false;
    if (text.startsWith("null", at)) return (at += 4), null;
    NUMBER.lastIndex = at;
    const number = NUMBER.exec(text);
    if (number === null) return fail("unexpected character");
    at = NUMBER.lastIndex;
    return new Exact(number[0]);
  };
  const parsed = value();
  skip();
  if (at !== text.length) fail("trailing characters");
  return parsed;
}
