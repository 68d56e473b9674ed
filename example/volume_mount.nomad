# Nomad host volumes: directories the client operator declares in the agent config, claimed by a group
# and mounted into tasks with volume_mount. The driver binds them in (read-only when either side says so).
#
# Agent config (the client must declare both volumes, or the job is not placed):
#   client {
#     host_volume "cdrv-data"   { path = "/srv/cdrv-data"   read_only = false }
#     host_volume "cdrv-config" { path = "/srv/cdrv-config" read_only = true }
#   }
#
# Try: nomad alloc logs <alloc> app ; ls /srv/cdrv-data
job "volume-mount" {
  datacenters = ["dc1"]

  group "g" {
    volume "data" {
      type      = "host"
      source    = "cdrv-data"
      read_only = false
    }

    volume "config" {
      type      = "host"
      source    = "cdrv-config"
      read_only = true
    }

    task "app" {
      driver = "containerd-driver"

      volume_mount {
        volume      = "data"
        destination = "/data"
      }

      volume_mount {
        volume      = "config"
        destination = "/etc/app"
      }

      config {
        image   = "docker.io/library/busybox:1.36"
        init    = true
        command = "/bin/sh"
        args = ["-c", <<-EOS
          echo "config says: $(cat /etc/app/settings.txt)"
          echo "written by $NOMAD_ALLOC_ID" > /data/from-task.txt && echo "wrote /data/from-task.txt"
          touch /etc/app/nope 2>/dev/null || echo "/etc/app is read-only"
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
