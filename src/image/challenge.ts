/**
 * WWW-Authenticate parsing (RFC 7235 challenges) for registry auth: `Bearer realm=…,service=…,scope=…`
 * and `Basic realm=…`. Several challenges may share one header (Deno joins repeated headers with ", ").
 *
 * @module
 */

/** One challenge: a lowercased scheme and its parameters (keys lowercased). */
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/;

/**
 * Parses a WWW-Authenticate header value into its challenges, in order. Malformed trailing parts are
 * ignored rather than thrown: a registry's odd header should not hide the challenges we understand.
 *
 * @example
 * ```ts
 * parseWwwAuthenticate('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull"');
 * // [{ scheme: "bearer", params: { realm: "https://auth.example/token", service: "registry.example", scope: "repository:a/b:pull" } }]
 * ```
 */
export function parseWwwAuthenticate(header: string): Challenge[] {
  const out: Challenge[] = [];
  let s = header;
  let current: Challenge | undefined;
  const skip = (re: RegExp) => {
    const m = re.exec(s);
    if (m) s = s.slice(m[0].length);
    return m;
  };
  while (s.length > 0) {
    skip(/^[\s,]+/);
    if (!s) break;
    const tok = skip(TOKEN);
    if (!tok) {
      s = s.slice(1); // not a token: drop one character and resynchronise
      continue;
    }
    skip(/^[ \t]*/);
    const isParam = s.startsWith("=") && !/^=[ \t]*(=|,|$)/.test(s);
    if (!isParam) {
      if (s.startsWith("=")) {
        skip(/^=+/); // token68 ("Negotiate abc=="): not used by registries
        continue;
      }
      current = { scheme: tok[0].toLowerCase(), params: {} };
      out.push(current);
      continue;
    }
    s = s.slice(1);
    skip(/^[ \t]*/);
    let value = "";
    if (s.startsWith('"')) {
      let i = 1;
      while (i < s.length && s[i] !== '"') {
        if (s[i] === "\\" && i + 1 < s.length) i++;
        value += s[i];
        i++;
      }
      s = s.slice(i + 1);
    } else {
      value = skip(/^[^,\s]*/)?.[0] ?? "";
    }
    if (current) current.params[tok[0].toLowerCase()] = value;
  }
  return out;
}
