# An image from a private registry that wants a username and password (HTTP basic or token auth).
# Credentials in a task's auth block win over the plugin's (agent config: plugin "containerd-driver" {
# config { auth { username = "..." password = "..." } } }, or a docker credential helper there).
# The password never shows up in events or logs; a refused login fails the task at once with an
# event naming the registry and the image.
#
#   nomad job run -var registry=registry.example.com:5000 -var password=... example/registry_auth.nomad
#
# In production, keep the password out of the job file: pass it with -var from a secret store, or let the
# plugin's auth block / credential helper hold it so jobs carry none.
variable "registry" {
  type        = string
  description = "host[:port] of the private registry (loopback registries are spoken to over plain HTTP)"
  default     = "registry.example.com:5000"
}

variable "username" {
  type    = string
  default = "cdrv"
}

variable "password" {
  type = string
}

job "registry-auth" {
  datacenters = ["dc1"]
  type        = "batch"

  group "g" {
    restart {
      attempts = 0
      mode     = "fail"
    }

    task "private" {
      driver = "containerd-driver"

      config {
        image = "${var.registry}/cdrv/busybox:1"
        auth {
          username = var.username
          password = var.password
        }
        command = "/bin/sh"
        args    = ["-c", "echo \"running an image from a private registry\""]
      }

      resources {
        cpu    = 50
        memory = 32
      }
    }
  }
}
