/**
 * Small pure checks and path helpers shared by the task config reader and the SpecOpts.
 *
 * @module
 */

/**
 * Whether `s` is a dotted-quad IPv4 address.
 *
 * @example
 * ```ts
 * isIPv4("10.0.0.1"); // true
 * isIPv4("10.0.0.256"); // false
 * ```
 */
export function isIPv4(s: string): boolean {
  const parts = s.split(".");
  return parts.length === 4 && parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255);
}

/**
 * Whether `s` is an IPv6 address (RFC 4291 text forms, with `::` and an optional trailing IPv4).
 *
 * @example
 * ```ts
 * isIPv6("::1"); // true
 * isIPv6("2001:db8::8a2e:370:7334"); // true
 * isIPv6("1:2:3"); // false
 * ```
 */
export function isIPv6(s: string): boolean {
  if (s.length === 0 || s.length > 45) return false;
  const halves = s.split("::");
  if (halves.length > 2) return false;
  const groups = (h: string) => (h === "" ? [] : h.split(":"));
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  const all = [...head, ...tail];
  let words = 0;
  for (let i = 0; i < all.length; i++) {
    const g = all[i];
    if (i === all.length - 1 && g.includes(".")) {
      if (!isIPv4(g)) return false;
      words += 2;
    } else if (/^[0-9a-fA-F]{1,4}$/.test(g)) words += 1;
    else return false;
  }
  return halves.length === 2 ? words < 8 : words === 8;
}

/**
 * Whether `s` is an IPv4 or IPv6 address.
 *
 * @example
 * ```ts
 * isIP("fe80::1"); // true
 * ```
 */
export function isIP(s: string): boolean {
  return isIPv4(s) || isIPv6(s);
}

/**
 * Lexical path cleaning as Go's path.Clean does: collapses `//`, `.` and `..` (no symlinks; pure).
 *
 * @example
 * ```ts
 * cleanPath("/a/./b/../c//d/"); // "/a/c/d"
 * cleanPath("/../x"); // "/x"
 * ```
 */
export function cleanPath(p: string): string {
  const abs = p.startsWith("/");
  const out: string[] = [];
  for (const seg of p.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") {
      if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
      else if (!abs) out.push("..");
      continue;
    }
    out.push(seg);
  }
  const s = out.join("/");
  return abs ? "/" + s : s === "" ? "." : s;
}

/**
 * Whether `path` is `dir` or lies under it, after lexical cleaning of both.
 *
 * @example
 * ```ts
 * isWithin("/alloc/x/../y", "/alloc"); // true
 * isWithin("/alloc/../etc", "/alloc"); // false
 * ```
 */
export function isWithin(path: string, dir: string): boolean {
  const p = cleanPath(path);
  const d = cleanPath(dir);
  return p === d || p.startsWith(d === "/" ? "/" : d + "/");
}

/**
 * Number of path segments, used to order mounts so that parents come first.
 *
 * @example
 * ```ts
 * pathDepth("/a/b"); // 2
 * ```
 */
export function pathDepth(p: string): number {
  return cleanPath(p).split("/").filter((s) => s !== "").length;
}
