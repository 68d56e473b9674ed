# A long-running task to run commands in, as `nomad alloc exec` does for operators:
#   nomad alloc exec -task shell <alloc> /bin/sh            (interactive, with a tty)
#   nomad alloc exec -i=false -t=false -task shell <alloc> cat /local/motd
# The command runs in the task's namespaces, cgroup, user and working directory, with its environment,
# and its exit code is the CLI's.
#
# Script checks also run through exec, but Nomad runs them only for services registered in Consul
# (provider = "consul"); Nomad's own service provider supports http and tcp checks only.
job "exec" {
  datacenters = ["dc1"]

  group "g" {
    task "shell" {
      driver = "containerd-driver"
      user   = "app"

      template {
        destination = "local/motd"
        data        = "welcome to {{ env \"NOMAD_ALLOC_ID\" }}\n"
      }

      config {
        image   = "docker.io/library/busybox:1.36"
        cwd     = "/home/app"
        init    = true
        command = "/bin/sleep"
        args    = ["3600"]
      }

      env {
        GREETING = "hello from exec"
      }

      resources {
        cpu    = 50
        memory = 32
      }
    }
  }
}
