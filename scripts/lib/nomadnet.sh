# Sourced after common.sh: undo what Nomad's bridge networking (CNI bridge, portmap, firewall plugins)
# leaves on the host after our agents are gone — the `nomad` bridge and the CNI-* / NOMAD-ADMIN iptables
# chains — but only when they were not there before we started.
#
#   cdrv_nomadnet_snapshot <file>   before starting agents: remembers whether any of it existed
#   cdrv_nomadnet_cleanup <file>    after stopping them: removes it if it did not

_cdrv_nomadnet_present() {
  ip link show nomad >/dev/null 2>&1 && return 0
  iptables -S 2>/dev/null | grep -qE '^-N (CNI-|NOMAD-ADMIN)' && return 0
  iptables -t nat -S 2>/dev/null | grep -qE '^-N CNI-' && return 0
  return 1
}

cdrv_nomadnet_snapshot() {
  if _cdrv_nomadnet_present; then echo present >"$1"; else echo absent >"$1"; fi
}

# Deletes every rule jumping to a CNI-* or NOMAD-ADMIN chain, then flushes and deletes those chains.
_cdrv_nomadnet_flush_table() {
  local table=$1 rule chain
  iptables -t "$table" -S 2>/dev/null | grep -E '^-A .* -j (CNI-|NOMAD-ADMIN)' | while read -r rule; do
    # shellcheck disable=SC2086 # the rule is a word list as iptables -S prints it
    eval "iptables -t $table -D ${rule#-A }" 2>/dev/null
  done
  for chain in $(iptables -t "$table" -S 2>/dev/null | awk '/^-N (CNI-|NOMAD-ADMIN)/ {print $2}'); do
    iptables -t "$table" -F "$chain" 2>/dev/null
  done
  for chain in $(iptables -t "$table" -S 2>/dev/null | awk '/^-N (CNI-|NOMAD-ADMIN)/ {print $2}'); do
    iptables -t "$table" -X "$chain" 2>/dev/null
  done
}

cdrv_nomadnet_cleanup() {
  [ "$(cat "$1" 2>/dev/null)" = absent ] || return 0
  _cdrv_nomadnet_flush_table filter
  _cdrv_nomadnet_flush_table nat
  ip link delete nomad 2>/dev/null || true
  rm -rf /var/lib/cni/networks/nomad 2>/dev/null || true
}
