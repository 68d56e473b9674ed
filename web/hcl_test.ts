import { assertEquals, assertThrows } from "../tests/harness/assert.ts";
import { HclError, parseHcl, readConfigText, shapeForSpec } from "./hcl.ts";
import { taskSpec } from "../src/spec/task_config.ts";

Deno.test("hcl: attributes, lists, maps, nested and repeated blocks, comments", () => {
  const v = parseHcl(`
    # a task config
    config {
      image   = "redis:7"   // the image
      args    = ["--port", "6379",]
      pids_limit = 100
      cpu = -1.5e2
      privileged = false
      x = null
      sysctl = { "net.core.somaxconn" = "1024", kernel_x: "y" }
      /* block comment */
      mounts { type = "tmpfs"
        target = "/tmp" }
      mounts {
        target = "/data"
        options = ["ro"]
      }
      auth { username = "u" password = "p\\"w\\u00e9" }
      labeled "a" "b" { k = 1 }
      script = <<-EOF
        echo hi
          indented
      EOF
    }
  `);
  assertEquals(v, {
    config: {
      image: "redis:7",
      args: ["--port", "6379"],
      pids_limit: 100,
      cpu: -150,
      privileged: false,
      x: null,
      sysctl: { "net.core.somaxconn": "1024", kernel_x: "y" },
      mounts: [{ type: "tmpfs", target: "/tmp" }, { target: "/data", options: ["ro"] }],
      auth: { username: "u", password: 'p"wé' },
      labeled: { a: { b: { k: 1 } } },
      script: "echo hi\n  indented\n",
    },
  });
});

Deno.test("hcl: errors carry line and column", () => {
  const e = assertThrows(() => parseHcl('a = "x"\nb = [1 2]'), HclError) as HclError;
  assertEquals([e.line, e.column], [2, 8]);
  assertThrows(() => parseHcl('a = "x'), HclError, "unterminated string");
  assertThrows(() => parseHcl("a = 1\na = 2"), HclError, "set twice");
  assertThrows(() => parseHcl("a { b = 1"), HclError, 'missing "}"');
});

Deno.test("hcl: readConfigText takes HCL or JSON, block or body; shapeForSpec makes block lists lists", () => {
  assertEquals(readConfigText('config { image = "a" }'), { image: "a" });
  assertEquals(readConfigText('image = "a"'), { image: "a" });
  assertEquals(readConfigText('{"config": {"image": "a"}}'), { image: "a" });
  assertEquals(readConfigText('{"image": "a", "args": ["x"]}'), { image: "a", args: ["x"] });
  assertEquals(
    shapeForSpec({ image: "a", mounts: { target: "/x" }, sysctl: { "net.core.somaxconn": "1" } }, taskSpec),
    { image: "a", mounts: [{ target: "/x" }], sysctl: [{ "net.core.somaxconn": "1" }] },
  );
});
