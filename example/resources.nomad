# Resources: memory is the reservation the scheduler counts, memory_max the hard limit (cgroup
# memory.max / memory.limit_in_bytes); cpu is a relative weight (cpu.weight / cpu.shares), and with
# cpu_hard_limit = true also a CFS quota.
#
# memory_max needs memory oversubscription, off by default; an operator turns it on once:
#   nomad operator scheduler set-config -memory-oversubscription=true
# Without it Nomad ignores memory_max and the limit is `memory`.
#
# Try: nomad alloc exec -task app <alloc> cat /sys/fs/cgroup/memory.max            (cgroup v2)
#      nomad alloc exec -task app <alloc> cat /sys/fs/cgroup/memory/memory.limit_in_bytes  (cgroup v1)
job "resources" {
  datacenters = ["dc1"]

  group "g" {
    task "app" {
      driver = "containerd-driver"

      config {
        image          = "docker.io/library/busybox:1.36"
        cpu_hard_limit = true
        init           = true
        command        = "/bin/sh"
        args           = ["-c", "echo started; exec sleep 3600"]
      }

      resources {
        cpu        = 250 # MHz
        memory     = 64  # MiB reserved
        memory_max = 128 # MiB hard limit
      }
    }
  }
}
