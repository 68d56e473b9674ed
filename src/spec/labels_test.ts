import { assertEquals } from "../../tests/harness/assert.ts";
import { exampleInput } from "./example.ts";
import { containerLabels } from "./labels.ts";

Deno.test("containerLabels: the task's labels plus Nomad's identity", () => {
  assertEquals(containerLabels(exampleInput({ labels: [{ team: "cache" }] })), {
    team: "cache",
    "com.hashicorp.nomad.alloc_id": "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0",
    "com.hashicorp.nomad.job_name": "cache",
    "com.hashicorp.nomad.task_group_name": "cache",
    "com.hashicorp.nomad.task_name": "redis",
    "com.hashicorp.nomad.namespace": "default",
  });
});
