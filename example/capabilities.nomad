# Capabilities: start from none and add back only what the service needs.
# Docker's rules apply: cap_drop = ["ALL"] leaves exactly cap_add; a capability in both lists is kept.
# Names may be written with or without the CAP_ prefix, in any case.
#
# Try: nomad alloc logs <alloc> caps                         (CapEff printed at start)
#      nomad alloc exec -task caps <alloc> grep Cap /proc/1/status
job "capabilities" {
  datacenters = ["dc1"]

  group "g" {
    task "caps" {
      driver = "containerd-driver"

      config {
        image    = "docker.io/library/busybox:1.36"
        cap_drop = ["ALL"]
        # CHOWN (bit 0) and NET_BIND_SERVICE (bit 10): CapEff 0000000000000401.
        cap_add = ["CHOWN", "net_bind_service"]
        # tini as PID 1 (from the client host, init_path) forwards SIGTERM, so `nomad job stop` is prompt.
        init    = true
        command = "/bin/sh"
        args = ["-c", <<-EOS
          grep CapEff /proc/self/status
          touch /tmp/f && chown 1000:1000 /tmp/f && echo "chown allowed"
          mknod /tmp/null c 1 3 2>/dev/null || echo "mknod refused (no CAP_MKNOD)"
          exec sleep 3600
        EOS
        ]
      }

      resources {
        cpu    = 50
        memory = 32
      }
    }
  }
}
