# A batch job: entrypoint + command + args, its output in `nomad alloc logs`, and its exit code.
job "entrypoint" {
  datacenters = ["dc1"]
  type        = "batch"

  group "g" {
    restart {
      attempts = 0
      mode     = "fail"
    }

    task "hello" {
      driver = "containerd-driver"

      config {
        image      = "docker.io/library/busybox:1.36"
        entrypoint = ["/bin/sh", "-c"]
        command    = "echo \"hello from $(hostname) as $(id -u)\"; echo to-stderr >&2; exit 0"
        hostname   = "hello-box"
      }

      resources {
        cpu    = 50
        memory = 32
      }
    }
  }
}
