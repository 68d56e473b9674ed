import { assertEquals, assertRejects } from "../../tests/harness/assert.ts";
import { indexTar } from "./tar.ts";

const enc = new TextEncoder();

function header(name: string, size: number, type = "0", prefix = ""): Uint8Array {
  const h = new Uint8Array(512);
  h.set(enc.encode(name).subarray(0, 100), 0);
  h.set(enc.encode("0000644\0"), 100);
  h.set(enc.encode(size.toString(8).padStart(11, "0") + "\0"), 124);
  h.set(enc.encode("        "), 148);
  h[156] = type.charCodeAt(0);
  h.set(enc.encode("ustar\0"), 257);
  h.set(enc.encode("00"), 263);
  h.set(enc.encode(prefix), 345);
  let sum = 0;
  for (const b of h) sum += b;
  h.set(enc.encode(sum.toString(8).padStart(6, "0") + "\0 "), 148);
  return h;
}

function tar(entries: [string, string, string?, string?][]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const [name, body, type, prefix] of entries) {
    const b = enc.encode(body);
    parts.push(header(name, b.length, type, prefix));
    const padded = new Uint8Array(Math.ceil(b.length / 512) * 512);
    padded.set(b);
    parts.push(padded);
  }
  parts.push(new Uint8Array(1024));
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const reader = (bytes: Uint8Array) => (off: number, len: number) =>
  Promise.resolve(bytes.subarray(off, off + len));

Deno.test("indexTar: files with offsets; directories skipped; ustar prefix, GNU long names and pax paths", async () => {
  const long = "blobs/sha256/" + "a".repeat(120);
  const paxBody = (() => {
    const rec = ` path=pax/name.json\n`;
    let n = rec.length;
    n += String(n + String(n).length).length;
    return `${n}${rec}`;
  })();
  const bytes = tar([
    ["./blobs/", "", "5"],
    ["./index.json", '{"a":1}'],
    ["././@LongLink", long + "\0", "L"],
    ["ignored", "x".repeat(600)],
    ["manifest.json", "[]", "0", "pre/fix"],
    ["PaxHeader", paxBody, "x"],
    ["short", "pax!"],
  ]);
  const idx = await indexTar(reader(bytes));
  assertEquals([...idx.keys()], ["index.json", long, "pre/fix/manifest.json", "pax/name.json"]);
  const e = idx.get("index.json")!;
  assertEquals(new TextDecoder().decode(bytes.subarray(e.offset, e.offset + e.size)), '{"a":1}');
  assertEquals(idx.get(long)!.size, 600);
});

Deno.test("indexTar: not a tar archive", async () => {
  const junk = new Uint8Array(1024).fill(7);
  await assertRejects(() => indexTar(reader(junk)), Error, "not a tar archive");
});
