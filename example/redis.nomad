# The demo job: redis from docker.io (the demo serves docker.io from a local mirror through the
# plugin's registry_hosts_dir, so it runs offline), on a bridge network with a dynamic host port.
job "redis" {
  datacenters = ["dc1"]
  type        = "service"

  group "cache" {
    network {
      mode = "bridge"
      port "db" {
        to = 6379
      }
    }

    task "redis" {
      driver = "containerd-driver"

      config {
        image    = "docker.io/library/redis:7"
        command  = "redis-server"
        args     = ["--protected-mode", "no", "--save", ""]
        hostname = "redis"
      }

      resources {
        cpu    = 200
        memory = 128
      }
    }
  }
}
