/**
 * A small builder for Nomad's hclspec trees: the schema of the plugin block and the task `config {}`
 * block. One tree gives three things: the protobuf Spec Nomad validates jobs with (src/plugin/hclspec_proto.ts
 * writes it), the cty type Nomad encodes values with (hcldec's implied type), and the option docs for the
 * README table.
 *
 * @module
 */
import type { CtyType } from "./values.ts";

/** An HCL type expression as hclspec writes it, e.g. `string`, `list(string)`, `map(string)`. */
export type HclType = string;

/** One node of a spec tree. */
export type SpecNode =
  | { kind: "object"; attrs: Record<string, SpecNode> }
  | { kind: "attr"; name: string; type: HclType; required: boolean; doc: string }
  | { kind: "block"; name: string; required: boolean; nested: SpecNode; doc: string }
  | { kind: "block_list"; name: string; nested: SpecNode; doc: string; minItems: number; maxItems: number }
  | { kind: "default"; primary: SpecNode; default: string }
  | { kind: "literal"; value: string };

/**
 * An attribute of an object: `attr("string")`. The name is the key it has in its object.
 *
 * @example
 * ```ts
 * const spec = object({ image: attr("string", "The image to run.", { required: true }) });
 * ```
 */
export function attr(type: HclType, doc = "", opts: { required?: boolean } = {}): SpecNode {
  return { kind: "attr", name: "", type, required: opts.required ?? false, doc };
}

/**
 * A single nested block: `auth { ... }`.
 *
 * @example
 * ```ts
 * const spec = object({ auth: block(object({ username: attr("string") })) });
 * ```
 */
export function block(nested: SpecNode, doc = "", opts: { required?: boolean } = {}): SpecNode {
  return { kind: "block", name: "", required: opts.required ?? false, nested, doc };
}

/**
 * A repeatable nested block: `mount { ... } mount { ... }`.
 *
 * @example
 * ```ts
 * const spec = object({ mount: blockList(object({ target: attr("string") })) });
 * ```
 */
export function blockList(nested: SpecNode, doc = "", opts: { min?: number; max?: number } = {}): SpecNode {
  return { kind: "block_list", name: "", nested, doc, minItems: opts.min ?? 0, maxItems: opts.max ?? 0 };
}

/**
 * An attribute with a default, given as an HCL literal: `withDefault(attr("bool"), "true")`.
 *
 * @example
 * ```ts
 * const enabled = withDefault(attr("bool", "Whether the driver is enabled."), "true");
 * ```
 */
export function withDefault(primary: SpecNode, hclLiteral: string): SpecNode {
  return { kind: "default", primary, default: hclLiteral };
}

/**
 * An object (the top of a schema, or a block's body). Keys name the attributes and blocks.
 *
 * @example
 * ```ts
 * const spec = object({ enabled: withDefault(attr("bool"), "true") });
 * ```
 */
export function object(attrs: Record<string, SpecNode>): SpecNode {
  const named: Record<string, SpecNode> = {};
  for (const [key, node] of Object.entries(attrs)) named[key] = withName(node, key);
  return { kind: "object", attrs: named };
}

function withName(node: SpecNode, name: string): SpecNode {
  switch (node.kind) {
    case "attr":
    case "block":
    case "block_list":
      return { ...node, name };
    case "default":
      return { ...node, primary: withName(node.primary, name) };
    default:
      return node;
  }
}

/**
 * Parses an HCL type expression into a cty type.
 *
 * @example
 * ```ts
 * parseHclType("list(map(string))"); // { list: { map: "string" } }
 * ```
 */
export function parseHclType(t: HclType): CtyType {
  const s = t.replace(/\s+/g, "");
  if (s === "string" || s === "number" || s === "bool") return s;
  if (s === "any") return "dynamic";
  const m = /^(list|set|map)\((.*)\)$/.exec(s);
  if (m) {
    const inner = parseHclType(m[2]);
    return m[1] === "list" ? { list: inner } : m[1] === "set" ? { set: inner } : { map: inner };
  }
  throw new Error(`hclspec: unsupported type expression "${t}"`);
}

/**
 * The cty type Nomad encodes a value of this spec with (hcldec's implied type).
 *
 * @example
 * ```ts
 * impliedType(object({ a: attr("string") })); // { object: { a: "string" } }
 * ```
 */
export function impliedType(node: SpecNode): CtyType {
  switch (node.kind) {
    case "object": {
      const o: Record<string, CtyType> = {};
      for (const [k, v] of Object.entries(node.attrs)) o[k] = impliedType(v);
      return { object: o };
    }
    case "attr":
      return parseHclType(node.type);
    case "block":
      return impliedType(node.nested);
    case "block_list":
      return { list: impliedType(node.nested) };
    case "default":
      return impliedType(node.primary);
    case "literal":
      return "dynamic";
  }
}

/** One documented option, flattened for the README table. */
export interface OptionDoc {
  /** dotted path, e.g. `gc.image_delay` or `mount[].target` */
  path: string;
  /** HCL type, `block` or `block list` */
  type: string;
  /** the HCL default literal, if any */
  default?: string;
  /** whether Nomad requires it */
  required: boolean;
  /** the doc line */
  doc: string;
}

/**
 * Flattens a spec into option docs, in declaration order.
 *
 * @example
 * ```ts
 * optionDocs(object({ a: attr("string", "an a") })); // [{ path: "a", type: "string", required: false, doc: "an a" }]
 * ```
 */
export function optionDocs(node: SpecNode, prefix = ""): OptionDoc[] {
  const out: OptionDoc[] = [];
  const visit = (n: SpecNode, def?: string): void => {
    switch (n.kind) {
      case "default":
        visit(n.primary, n.default);
        return;
      case "attr":
        out.push({ path: prefix + n.name, type: n.type, default: def, required: n.required, doc: n.doc });
        return;
      case "block":
        out.push({ path: prefix + n.name, type: "block", required: n.required, doc: n.doc });
        out.push(...optionDocs(n.nested, `${prefix}${n.name}.`));
        return;
      case "block_list":
        out.push({ path: prefix + n.name, type: "block list", required: false, doc: n.doc });
        out.push(...optionDocs(n.nested, `${prefix}${n.name}[].`));
        return;
      case "object":
        for (const v of Object.values(n.attrs)) visit(v);
        return;
      case "literal":
        return;
    }
  };
  visit(node);
  return out;
}
