# DNS settings from the group network's dns block, and a namespaced sysctl, on Nomad's CNI bridge.
# The task has its own network namespace, so net.* sysctls change only the task's view
# (they are refused with host_network = true: they would change the host).
#
# Try: nomad alloc exec -task app <alloc> cat /etc/resolv.conf /proc/sys/net/core/somaxconn
job "dns-sysctl" {
  datacenters = ["dc1"]

  group "g" {
    network {
      mode = "bridge"
      dns {
        # 192.0.2.0/24 is reserved for documentation; put your resolvers here.
        servers  = ["192.0.2.53", "192.0.2.54"]
        searches = ["service.internal", "example.internal"]
        options  = ["ndots:2", "timeout:1"]
      }
    }

    task "app" {
      driver = "containerd-driver"

      config {
        image = "docker.io/library/busybox:1.36"
        sysctl = {
          "net.core.somaxconn"           = "16384"
          "net.ipv4.ip_local_port_range" = "20000 40000"
        }
        init    = true
        command = "/bin/sh"
        args = ["-c", <<-EOS
          cat /etc/resolv.conf
          echo "somaxconn=$(cat /proc/sys/net/core/somaxconn)"
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
