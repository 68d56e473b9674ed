# Extra /etc/hosts entries, as "host:ip" (IPv6 addresses may be bracketed). They are added after the
# standard entries (localhost, the task's own hostname).
#
# Try: nomad alloc exec -task app <alloc> cat /etc/hosts
job "extra-hosts" {
  datacenters = ["dc1"]

  group "g" {
    task "app" {
      driver = "containerd-driver"

      config {
        image    = "docker.io/library/busybox:1.36"
        hostname = "web-1"
        extra_hosts = [
          "db.internal:10.0.0.5",
          "cache.internal:10.0.0.6",
          "v6.internal:[fd00::7]",
        ]
        init    = true
        command = "/bin/sh"
        args    = ["-c", "cat /etc/hosts; exec sleep 3600"]
      }

      resources {
        cpu    = 50
        memory = 32
      }
    }
  }
}
