# host_network = true: the task shares the host's network namespace (all host interfaces, no port
# mapping, ports bind on the host). Without it, a task outside a bridge network gets a namespace of its
# own holding only lo. net.* sysctls are refused with host_network (they would change the host).
#
# Try: nomad alloc exec -task app <alloc> cat /proc/net/dev
job "host-network" {
  datacenters = ["dc1"]

  group "g" {
    task "app" {
      driver = "containerd-driver"

      config {
        image        = "docker.io/library/busybox:1.36"
        host_network = true
        init         = true
        command      = "/bin/sh"
        args         = ["-c", "echo interfaces: $(ls /sys/class/net); exec sleep 3600"]
      }

      resources {
        cpu    = 50
        memory = 32
      }
    }
  }
}
