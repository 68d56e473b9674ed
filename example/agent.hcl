# A Nomad agent config for containerd-driver. Use it as users do:
#   nomad agent -dev -config example/agent.hcl -plugin-dir <dir holding containerd-driver>
# Every plugin option is shown with its default.

# No calls home, and no cloud metadata probes (169.254.169.254) from a machine that is not in a cloud.
disable_update_check = true

client {
  enabled = true
  # Nomad's CNI bridge uses Debian's CNI plugins.
  cni_path = "/usr/lib/cni"
  options {
    "fingerprint.denylist" = "env_aws,env_gce,env_azure,env_digitalocean"
  }
}

# Nomad asks drivers for task CPU/memory figures only when it publishes allocation metrics
# (a dev agent does by default); without this `nomad alloc status` shows no usage.
telemetry {
  publish_allocation_metrics = true
  publish_node_metrics       = true
  collection_interval        = "1s"
}

plugin "containerd-driver" {
  config {
    # Whether the driver may run tasks on this node.
    enabled = true
    # containerd's gRPC socket. Outside /run/containerd, also list its directory in the agent's
    # CONTAINERD_DRIVER_EXTRA_PATHS environment variable (the plugin runs in a Deno sandbox).
    containerd_address = "/run/containerd/containerd.sock"
    # containerd namespace holding the driver's containers and images.
    namespace = "nomad"
    # Runtime (shim) for tasks that do not set `runtime`.
    containerd_runtime = "io.containerd.runc.v2"
    # Snapshotter images are unpacked with.
    snapshotter = "overlayfs"
    # Least interval between two stats samples.
    stats_interval = "1s"
    # Whether tasks may set privileged = true or pid_mode = "host".
    allow_privileged = true
    # containerd-format hosts.toml files per registry (mirrors, CAs, plain HTTP).
    registry_hosts_dir = "/etc/containerd/certs.d"

    # Default registry credentials, used when a task has no auth block.
    # auth {
    #   username = "robot"
    #   password = "secret"
    #   helper   = "pass"   # runs docker-credential-pass
    # }

    volumes {
      # Allow bind mounts of host paths outside the task directory.
      enabled = true
      # selinuxlabel = "z"
    }

    gc {
      # Remove images no task uses any more, after image_delay.
      image       = true
      image_delay = "3m"
    }
  }
}
