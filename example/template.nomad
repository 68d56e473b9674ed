# Templates: Nomad renders files into the task dir before the task starts. The task dir's local/ is
# mounted at /local, so a template with destination "local/app.conf" is /local/app.conf inside.
# A mount with a relative source (relative to the task dir) puts rendered files anywhere else in the
# container; mount a directory, not a single file, so a re-rendered file (a new inode) is seen too.
#
# Try: nomad alloc logs <alloc> web ; nomad alloc exec -task web <alloc> cat /srv/www/index.html
job "template" {
  datacenters = ["dc1"]

  group "g" {
    task "web" {
      driver = "containerd-driver"

      template {
        destination = "local/app.conf"
        data        = <<-EOT
          job={{ env "NOMAD_JOB_NAME" }}
          alloc={{ env "NOMAD_ALLOC_ID" }}
          listen=0.0.0.0:8080
        EOT
      }

      template {
        destination = "local/www/index.html"
        data        = "<h1>hello from {{ env \"NOMAD_TASK_NAME\" }} in {{ env \"NOMAD_DC\" }}</h1>\n"
      }

      config {
        image = "docker.io/library/busybox:1.36"
        mounts {
          type    = "bind"
          source  = "local/www" # relative: <task dir>/local/www
          target  = "/srv/www"
          options = ["ro"]
        }
        init    = true
        command = "/bin/sh"
        args    = ["-c", "cat /local/app.conf /srv/www/index.html; exec httpd -f -p 8080 -h /srv/www"]
      }

      resources {
        cpu    = 50
        memory = 32
      }
    }
  }
}
