#!/usr/bin/env bash
# The demo: installs what is missing, builds the plugin, starts a private containerd, a local registry
# serving as the docker.io mirror, and a Nomad dev agent with our plugin; runs example/redis.nomad,
# waits until it runs, pings redis through its mapped port, and leaves it all running.
#
#   ./scripts/demo.sh        start (idempotent)
#   ./scripts/demo.sh stop   stop everything the demo started
source "$(dirname "$0")/lib/common.sh"
source "$CDRV_ROOT/scripts/lib/containerd.sh"
source "$CDRV_ROOT/scripts/lib/registry.sh"
source "$CDRV_ROOT/scripts/lib/images.sh"
source "$CDRV_ROOT/scripts/lib/nomadnet.sh"
cd "$CDRV_ROOT"

DEMO=${CDRV_DEMO_DIR:-/tmp/cdrv-demo}
PORT=${CDRV_DEMO_PORT:-4646}
REG_PORT=${CDRV_DEMO_REGISTRY_PORT:-5055}
# The Nomad client's cgroup parent: the demo's own, so that stopping it removes no other agent's cgroups.
DEMO_CGROUP=cdrv-demo-nomad
export NOMAD_ADDR=http://127.0.0.1:$PORT
# The pinned Nomad 1.6.3 build, or yours when CDRV_NOMAD_BIN names it (scripts/lib/common.sh).
nomad() { "$CDRV_NOMAD_BIN" "$@"; }

stop() {
  set +e
  if [ -s "$DEMO/nomad.pid" ]; then
    allocs=$(nomad job allocs -json redis 2>/dev/null | jq -r '.[].ID' 2>/dev/null)
    nomad job stop -purge redis >/dev/null 2>&1
    # Let Nomad tear down the allocations' bridge network namespaces before the agent goes.
    for _ in $(seq 1 60); do
      left=0
      for a in $allocs; do ip netns list 2>/dev/null | grep -q "^$a" && left=1; done
      [ "$left" = 0 ] && break
      sleep 0.25
    done
    pid=$(cat "$DEMO/nomad.pid")
    kill -INT "$pid" 2>/dev/null
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null
    rm -f "$DEMO/nomad.pid"
  fi
  # A plugin Nomad left behind (it does when it exits on an error) is ours: end it by PID.
  # Its private socket dir (the launcher's, named in its environment) goes with it.
  for p in $(pgrep -f containerd-driver.js); do
    env_of=$(tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null) || continue
    grep -qxF "CONTAINERD_DRIVER_EXTRA_PATHS=$DEMO" <<<"$env_of" || continue
    kill -9 "$p"
    sockdir=$(sed -n 's/^CONTAINERD_DRIVER_SOCKET_DIR=//p' <<<"$env_of")
    case $sockdir in */containerd-driver.$p.*) rm -rf "$sockdir" ;; esac
  done
  ctr --address "$DEMO/ctd/containerd.sock" -n nomad-demo tasks ls -q 2>/dev/null | while read -r t; do
    ctr --address "$DEMO/ctd/containerd.sock" -n nomad-demo tasks kill -a -s SIGKILL "$t" 2>/dev/null
  done
  cdrv_registry_stop "$DEMO/reg" mirror >/dev/null 2>&1
  cdrv_containerd_stop "$DEMO/ctd" --purge >/dev/null 2>&1
  if [ -d "$DEMO/nomad" ]; then
    grep -o " $DEMO/nomad[^ ]*" /proc/self/mounts | sort -r | while read -r m; do umount -l "$m"; done
  fi
  # The cgroup dirs of the demo's own containerd namespace and of its Nomad client's cgroup_parent: names no
  # other agent or containerd uses, so whatever is under them is the demo's (children first; a busy one stays).
  find /sys/fs/cgroup -mindepth 1 -maxdepth 3 -type d \( -name nomad-demo -o -name "$DEMO_CGROUP" -o -name "$DEMO_CGROUP.slice" \) 2>/dev/null |
    sort -r | while read -r d; do
      find "$d" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null
      rmdir "$d" 2>/dev/null
    done
  cdrv_nomadnet_cleanup "$DEMO/nomadnet"
  rm -rf "$DEMO"
  echo "demo stopped"
}

if [ "${1:-}" = stop ]; then
  stop
  exit 0
fi

"$CDRV_ROOT/scripts/setup.sh"
"$CDRV_ROOT/scripts/build.sh"
cdrv_log "demo: $("$CDRV_NOMAD_BIN" version | head -1) ($CDRV_NOMAD_BIN)"
mkdir -p "$DEMO/plugins" "$DEMO/certs.d/docker.io"
[ -f "$DEMO/nomadnet" ] || cdrv_nomadnet_snapshot "$DEMO/nomadnet"

# containerd and the docker.io mirror (offline images built from Debian packages)
cdrv_containerd_start "$DEMO/ctd"
cdrv_build_images "$CDRV_CACHE/images"
cdrv_registry_start "$DEMO/reg" mirror "$REG_PORT" plain
skopeo --insecure-policy copy -q --dest-tls-verify=false "oci:$CDRV_CACHE/images/oci:redis" \
  "docker://127.0.0.1:$REG_PORT/library/redis:7"
cat >"$DEMO/certs.d/docker.io/hosts.toml" <<TOML
server = "https://registry-1.docker.io"

[host."http://127.0.0.1:$REG_PORT"]
  capabilities = ["pull", "resolve"]
TOML

# Nomad: example/agent.hcl as users would use it, plus the demo's own paths.
ln -sf "$CDRV_ROOT/bin/containerd-driver" "$DEMO/plugins/containerd-driver"
# Nomad's form of a cgroup parent: a path under cgroup v1, a slice name under v2 (unified hierarchy).
demo_cgroup_parent=/$DEMO_CGROUP
[ -f /sys/fs/cgroup/cgroup.controllers ] && demo_cgroup_parent=$DEMO_CGROUP.slice
cat >"$DEMO/demo.hcl" <<HCL
bind_addr = "127.0.0.1"
ports {
  http = $PORT
  rpc  = $((PORT + 1))
  serf = $((PORT + 2))
}
client {
  cgroup_parent = "$demo_cgroup_parent"
}
plugin "containerd-driver" {
  config {
    containerd_address = "$DEMO/ctd/containerd.sock"
    namespace          = "nomad-demo"
    registry_hosts_dir = "$DEMO/certs.d"
  }
}
HCL
if ! [ -s "$DEMO/nomad.pid" ] || ! kill -0 "$(cat "$DEMO/nomad.pid")" 2>/dev/null; then
  CONTAINERD_DRIVER_EXTRA_PATHS="$DEMO" setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$DEMO/nomad.pid" \
    "$CDRV_NOMAD_BIN" agent -dev -data-dir "$DEMO/nomad" -config example/agent.hcl -config "$DEMO/demo.hcl" \
    -plugin-dir "$DEMO/plugins" >"$DEMO/nomad.log" 2>&1 </dev/null &
fi
for _ in $(seq 1 120); do
  nomad node status -json 2>/dev/null | jq -e '.[0].Drivers["containerd-driver"].Healthy' >/dev/null 2>&1 && break
  sleep 0.5
done
nomad node status -verbose -self 2>/dev/null | grep -i "containerd" || true

nomad job run -detach example/redis.nomad >/dev/null
for _ in $(seq 1 120); do
  alloc=$(nomad job allocs -json redis 2>/dev/null | jq -r '[.[] | select(.ClientStatus=="running")][0].ID // empty')
  [ -n "$alloc" ] && break
  sleep 0.5
done
if [ -z "${alloc:-}" ]; then
  echo "redis did not reach running; see $DEMO/nomad.log and 'nomad job status redis'" >&2
  nomad job status redis >&2 || true
  exit 1
fi
port=$(nomad alloc status -json "$alloc" | jq -r '.AllocatedResources.Shared.Ports[] | select(.Label=="db") | .Value')
nomad alloc status "$alloc"
echo
pong=""
for _ in $(seq 1 20); do
  pong=$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null || true)
  [ "$pong" = PONG ] && break
  sleep 0.5
done
echo "redis-cli -p $port ping → ${pong:-no answer}"
if [ "$pong" != PONG ]; then
  echo "redis did not answer on its mapped port; see $DEMO/nomad.log" >&2
  exit 1
fi
echo
echo "The demo keeps running (Nomad UI/API at $NOMAD_ADDR). Stop it with: ./scripts/demo.sh stop"
