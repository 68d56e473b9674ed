# A privileged task: every capability, every host device, no seccomp filter, writable /sys.
# Use it only for system tools (e.g. a storage or network agent) that really need the host.
# The node must allow it: plugin "containerd-driver" { config { allow_privileged = true } } (the default).
# With allow_privileged = false the task fails at start with an event naming the option.
#
# Try: nomad alloc exec -task priv <alloc> sh -c 'grep -E "CapEff|Seccomp:" /proc/1/status; ls /dev | head'
job "privileged" {
  datacenters = ["dc1"]

  group "g" {
    restart {
      attempts = 0
      mode     = "fail"
    }

    task "priv" {
      driver = "containerd-driver"

      config {
        image      = "docker.io/library/busybox:1.36"
        privileged = true
        init       = true
        command    = "/bin/sh"
        args = ["-c", <<-EOS
          grep -E 'CapEff|Seccomp:' /proc/self/status
          # Only a privileged container may mount filesystems.
          mkdir -p /mnt/scratch && mount -t tmpfs -o size=1m scratch /mnt/scratch && echo "tmpfs mounted"
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
