/**
 * A schema tree (src/schema/hclspec.ts) in Nomad's wire format: the protobuf hclspec.Spec that
 * ConfigSchema and TaskConfigSchema return, which Nomad validates plugin blocks and jobs with.
 *
 * @module
 */
import type { Spec } from "../gen/nomad/hclspec.ts";
import type { SpecNode } from "../schema/hclspec.ts";

/**
 * The protobuf Spec Nomad receives from ConfigSchema / TaskConfigSchema.
 *
 * @example
 * ```ts ignore
 * toProtoSpec(object({ a: attr("string") })).block?.$case; // "object"
 * ```
 */
export function toProtoSpec(node: SpecNode): Spec {
  switch (node.kind) {
    case "object": {
      const attributes: Record<string, Spec> = {};
      for (const [k, v] of Object.entries(node.attrs)) attributes[k] = toProtoSpec(v);
      return { block: { $case: "object", value: { attributes } } };
    }
    case "attr":
      return {
        block: { $case: "Attr", value: { name: node.name, type: node.type, required: node.required } },
      };
    case "block":
      return {
        block: {
          $case: "blockValue",
          value: { name: node.name, required: node.required, nested: toProtoSpec(node.nested) },
        },
      };
    case "block_list":
      return {
        block: {
          $case: "blockList",
          value: {
            name: node.name,
            minItems: BigInt(node.minItems),
            maxItems: BigInt(node.maxItems),
            nested: toProtoSpec(node.nested),
          },
        },
      };
    case "default":
      return {
        block: {
          $case: "default",
          value: {
            primary: toProtoSpec(node.primary),
            default: { block: { $case: "literal", value: { value: node.default } } },
          },
        },
      };
    case "literal":
      return { block: { $case: "literal", value: { value: node.value } } };
  }
}
