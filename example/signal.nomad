# Signal handling: tini as PID 1 forwards signals to the shell, which reports them in its log.
# Try: nomad alloc signal -s SIGUSR1 <alloc> signals ; nomad alloc logs <alloc> signals
job "signals" {
  datacenters = ["dc1"]

  group "g" {
    task "signals" {
      driver       = "containerd-driver"
      kill_signal  = "SIGTERM"
      kill_timeout = "10s"

      config {
        image      = "docker.io/library/busybox:1.36"
        entrypoint = ["/sbin/tini", "--"]
        command    = "/bin/sh"
        args = ["-c", <<-EOS
          trap 'echo got SIGHUP' HUP
          trap 'echo got SIGUSR1' USR1
          trap 'echo got SIGTERM, bye; exit 0' TERM
          echo ready
          while true; do sleep 0.2; done
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
