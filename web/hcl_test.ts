import { assert, assertEquals, assertRejects } from "../tests/harness/assert.ts";
import {
  driverConfigs,
  HclError,
  hclLoaded,
  loadHcl,
  parseHcl,
  readConfigText,
  shapeForSpec,
} from "./hcl.ts";
import { hcl2jsonWasm } from "./vendor.ts";
import { taskSpec } from "../src/spec/task_config.ts";

const t0 = performance.now();
await loadHcl(await hcl2jsonWasm());
console.log(`hcl2json WASM read, gunzipped and started in ${Math.round(performance.now() - t0)} ms`);

Deno.test("hcl: HashiCorp's parser — attributes, lists, maps, heredocs, repeated blocks", async () => {
  assert(hclLoaded());
  const v = await parseHcl(`
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
      mounts {
        type = "tmpfs"
        target = "/tmp"
      }
      mounts {
        target = "/data"
        options = ["ro"]
      }
      auth {
        username = "u"
        password = "p\\"w\\u00e9"
      }
      labeled "a" "b" { k = 1 }
      port = "\${NOMAD_PORT_db}"
      script = <<-EOF
        echo hi
          indented
      EOF
    }
  `);
  assertEquals(v, {
    config: [{
      image: "redis:7",
      args: ["--port", "6379"],
      pids_limit: 100,
      cpu: -150,
      privileged: false,
      x: null,
      sysctl: { "net.core.somaxconn": "1024", kernel_x: "y" },
      mounts: [{ type: "tmpfs", target: "/tmp" }, { target: "/data", options: ["ro"] }],
      auth: [{ username: "u", password: 'p"wé' }],
      labeled: { a: { b: [{ k: 1 }] } },
      port: "${NOMAD_PORT_db}",
      script: "echo hi\n  indented\n",
    }],
  });
});

Deno.test("hcl: errors carry HCL's line, column and message", async () => {
  const e = await assertRejects(() => parseHcl('a = "x"\nb = [1 2]'), HclError) as HclError;
  assertEquals([e.line, e.column], [2, 8]);
  await assertRejects(() => parseHcl('a = "x'), HclError, "Unterminated template string");
  await assertRejects(() => parseHcl("a = 1\na = 2"), HclError, "Attribute redefined");
  await assertRejects(() => parseHcl("a { b = 1"), HclError, "Unclosed configuration block");
  // a one-line block holds one argument: Nomad refuses what a lenient subset parser took
  await assertRejects(() => parseHcl('auth { username = "u" password = "p" }'), HclError);
});

const JOB = `job "cache" {
  datacenters = ["dc1"]
  group "g" {
    network {
      port "db" { to = 6379 }
    }
    task "sidecar" {
      driver = "exec"
      config { command = "/bin/true" }
    }
    task "redis" {
      driver = "containerd-driver"
      config {
        image = "redis:7"
        args  = ["--port", "\${NOMAD_PORT_db}"]
        auth {
          username = "u"
        }
      }
      resources {
        cpu    = 100
        memory = 64
      }
    }
  }
}
`;

Deno.test("hcl: a whole job file gives the config of its containerd-driver task", async () => {
  const doc = await parseHcl(JOB, "cache.nomad.hcl");
  assertEquals(driverConfigs(doc).map((c) => c.task), ["redis"]);
  assertEquals(await readConfigText(JOB), {
    image: "redis:7",
    args: ["--port", "${NOMAD_PORT_db}"],
    auth: [{ username: "u" }],
  });
  await assertRejects(
    () => readConfigText('job "x" {\n  group "g" {\n    task "t" {\n      driver = "exec"\n    }\n  }\n}\n'),
    SyntaxError,
    'no task with driver = "containerd-driver"',
  );
});

Deno.test("hcl: readConfigText takes HCL or JSON, block or body; shapeForSpec shapes blocks", async () => {
  assertEquals(await readConfigText('config {\n  image = "a"\n}'), { image: "a" });
  assertEquals(await readConfigText('image = "a"'), { image: "a" });
  assertEquals(await readConfigText('{"config": {"image": "a"}}'), { image: "a" });
  assertEquals(await readConfigText('{"image": "a", "args": ["x"]}'), { image: "a", args: ["x"] });
  assertEquals(
    shapeForSpec(
      await readConfigText(
        'image = "a"\nauth {\n  username = "u"\n}\nmounts {\n  target = "/x"\n}\n' +
          'sysctl = { "net.core.somaxconn" = "1" }\n',
      ),
      taskSpec,
    ),
    {
      image: "a",
      auth: { username: "u" },
      mounts: [{ target: "/x" }],
      sysctl: [{ "net.core.somaxconn": "1" }],
    },
  );
  // block syntax for a list(map) attribute, as Nomad's docs write sysctl and ulimit
  assertEquals(
    shapeForSpec(await readConfigText('image = "a"\nulimit {\n  nofile = "1:2"\n}\n'), taskSpec),
    { image: "a", ulimit: [{ nofile: "1:2" }] },
  );
});
