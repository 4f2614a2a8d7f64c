#!/usr/bin/env bash
# fcnat demo: a full-cone NAT in three network namespaces.
#
#   client 192.168.77.2 --lan0-- gateway (fcnat on wan0, 198.51.100.1) --wan0-- internet
#                                                               198.51.100.2 .3 .4
#
# The "internet" namespace has no route back to 192.168.77.0/24, so every answer
# the client gets has been translated by fcnat.  Run as root after `make`
# (`make demo` does both).  Everything is removed on exit, also on Ctrl+C.
set -Eeuo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FCNAT=${FCNAT:-$ROOT/build/fcnat}

P="fcdemo$$-"
CLI=${P}client GW=${P}gateway EXT=${P}internet
WORK=
FCNAT_PID=
BG_PIDS=()

if [ -t 1 ]; then
	B=$'\e[1m' G=$'\e[32m' R=$'\e[31m' D=$'\e[2m' N=$'\e[0m'
else
	B='' G='' R='' D='' N=''
fi

step() { printf '\n%s== %s ==%s\n' "$B" "$*" "$N"; }
say()  { printf '   %s\n' "$*"; }
ok()   { printf '   %s✔ %s%s\n' "$G" "$*" "$N"; }
fail() { printf '\n   %s✘ FAILED: %s%s\n' "$R" "$*" "$N" >&2; exit 1; }

# show NS CMD...: print the command like a prompt, run it, indent its output.
show() {
	local ns=$1; shift
	printf '   %s%s#%s %s\n' "$D" "${ns#"$P"}" "$N" "$*"
	ip netns exec "$ns" "$@" 2>&1 | sed 's/^/     /'
	return "${PIPESTATUS[0]}"
}

# wait_for SECONDS CMD...: poll CMD every 0.1 s, at most SECONDS.
wait_for() {
	local tries=$(($1 * 10)); shift
	while [ "$tries" -gt 0 ]; do
		if "$@"; then return 0; fi
		sleep 0.1
		tries=$((tries - 1))
	done
	return 1
}

fcnat_gone() { ! kill -0 "$FCNAT_PID" 2>/dev/null; }

cleanup() {
	set +e
	trap - INT TERM ERR
	if [ -n "$FCNAT_PID" ] && kill -0 "$FCNAT_PID" 2>/dev/null; then
		kill -TERM "$FCNAT_PID"
		wait_for 5 fcnat_gone || kill -KILL "$FCNAT_PID"
	fi
	for pid in "${BG_PIDS[@]}"; do
		pkill -TERM -P "$pid" 2>/dev/null
		kill -TERM "$pid" 2>/dev/null
	done
	exec 3>&- 2>/dev/null
	for ns in "$CLI" "$GW" "$EXT"; do
		ip netns del "$ns" 2>/dev/null
	done
	[ -n "$WORK" ] && rm -rf "$WORK"
}
trap cleanup EXIT
trap 'printf "\n   interrupted, cleaning up\n"; exit 130' INT
trap 'exit 143' TERM
trap 'printf "\n   %s✘ FAILED: line %s: %s%s\n" "$R" "$LINENO" "$BASH_COMMAND" "$N" >&2' ERR

# --- preflight ----------------------------------------------------------------
[ "$(id -u)" -eq 0 ] || fail "the demo needs root (network namespaces, tc, BPF): run 'sudo make demo'"
[ -x "$FCNAT" ] || fail "$FCNAT not found: build it with 'make'"
for tool in ip tc ping socat; do
	command -v "$tool" >/dev/null || fail "'$tool' is missing (scripts/deps.sh installs it)"
done
WORK=$(mktemp -d /tmp/fcnat-demo.XXXXXX)

cat <<EOF
${B}fcnat demo: a full-cone NAT gateway on eBPF${N}

     client                      gateway                        internet
  192.168.77.2 --lan0---lan0-- 192.168.77.1                  198.51.100.2
                               198.51.100.1 --wan0---wan0--  198.51.100.3
                               (fcnat on wan0)               198.51.100.4
EOF

# --- 1. topology ----------------------------------------------------------------
step "1. Three network namespaces: client, gateway, internet"
for ns in "$CLI" "$GW" "$EXT"; do
	ip netns add "$ns"
	ip -n "$ns" link set lo up
done
ip -n "$CLI" link add lan0 type veth peer name lan0 netns "$GW"
ip -n "$GW" link add wan0 type veth peer name wan0 netns "$EXT"
ip -n "$CLI" addr add 192.168.77.2/24 dev lan0
ip -n "$CLI" link set lan0 up
ip -n "$CLI" route add default via 192.168.77.1
ip -n "$GW" addr add 192.168.77.1/24 dev lan0
ip -n "$GW" addr add 198.51.100.1/24 dev wan0
ip -n "$GW" link set lan0 up
ip -n "$GW" link set wan0 up
ip netns exec "$GW" sysctl -qw net.ipv4.ip_forward=1
for a in 2 3 4; do ip -n "$EXT" addr add "198.51.100.$a/24" dev wan0; done
ip -n "$EXT" link set wan0 up
link_up() { ip -n "$1" link show "$2" | grep -q LOWER_UP; }
for l in "$CLI lan0" "$GW lan0" "$GW wan0" "$EXT wan0"; do
	# shellcheck disable=SC2086
	wait_for 5 link_up $l || fail "link $l did not come up"
done
say "The internet knows no way back to 192.168.77.0/24:"
show "$EXT" ip route
say "so without NAT the client cannot reach it:"
printf '   %sclient#%s ping -n -c 1 -W 1 198.51.100.2\n' "$D" "$N"
if out=$(ip netns exec "$CLI" ping -n -c 1 -W 1 198.51.100.2 2>&1); then
	fail "ping worked without NAT; the demo would prove nothing"
fi
printf '%s\n' "$out" | grep 'packets transmitted' | sed 's/^/     /'
ok "ping 198.51.100.2 from the client fails (no NAT yet)"

# --- 2. fcnat ---------------------------------------------------------------------
step "2. Start fcnat on the gateway's external interface"
printf '   %sgateway#%s %s -i wan0\n' "$D" "$N" "${FCNAT#"$ROOT"/}"
: >"$WORK/fcnat.log"
ip netns exec "$GW" "$FCNAT" -i wan0 2>"$WORK/fcnat.log" &
FCNAT_PID=$!
fcnat_ready() {
	grep -qs '^fcnat: ready' "$WORK/fcnat.log" && return 0
	kill -0 "$FCNAT_PID" 2>/dev/null || { sed 's/^/     /' "$WORK/fcnat.log"; fail "fcnat exited"; }
	return 1
}
wait_for 10 fcnat_ready || fail "fcnat did not become ready within 10 s"
sed 's/^/     /' "$WORK/fcnat.log"
say "Its BPF programs now sit on wan0's TC hooks:"
show "$GW" tc filter show dev wan0 ingress
show "$GW" tc filter show dev wan0 egress

# --- 3. ping -------------------------------------------------------------------
step "3. ping from the client to 198.51.100.2"
show "$CLI" ping -n -c 3 -i 0.3 -W 2 198.51.100.2 || fail "ping through fcnat failed"
ok "echo replies come back: ICMP is translated both ways"

# --- 4. UDP: what the outside sees ----------------------------------------------
step "4. UDP: what does a server on the internet see?"
cat >"$WORK/report.sh" <<'EOF'
#!/bin/sh
# Run by socat for each datagram: print it and the source it came from.
IFS= read -r line
echo "server $1 received \"$line\" from $SOCAT_PEERADDR:$SOCAT_PEERPORT" >&2
EOF
chmod +x "$WORK/report.sh"
: >"$WORK/servers.log"
ip netns exec "$EXT" socat -T 1 -u "UDP-RECVFROM:7000,bind=198.51.100.2,reuseaddr,fork" \
	"EXEC:$WORK/report.sh 198.51.100.2\:7000" 2>>"$WORK/servers.log" &
BG_PIDS+=($!)
udp_bound() { ip netns exec "$EXT" ss -Hlun | grep -q "198.51.100.2:7000"; }
wait_for 5 udp_bound || fail "UDP server 198.51.100.2:7000 did not start"
say "A UDP server listens on 198.51.100.2:7000 and prints where each datagram came from."
say "The client opens ONE UDP socket, 192.168.77.2:40000, and keeps it open:"
: >"$WORK/client.log"
: >"$WORK/client.out"
mkfifo "$WORK/client.in"
exec 3<>"$WORK/client.in"
ip netns exec "$CLI" socat -d -d UDP-DATAGRAM:198.51.100.2:7000,bind=192.168.77.2:40000 STDIO \
	<"$WORK/client.in" >"$WORK/client.out" 2>"$WORK/client.log" &
BG_PIDS+=($!)
client_ready() { grep -q 'starting data transfer loop' "$WORK/client.log"; }
wait_for 5 client_ready || fail "client socket did not start"
printf '   %sclient#%s echo "hello from the client" > udp 198.51.100.2:7000\n' "$D" "$N"
echo "hello from the client" >&3
seen_by() { grep -q "server $1:7000 received" "$WORK/servers.log"; }
wait_for 5 seen_by 198.51.100.2 || fail "198.51.100.2 did not receive the datagram"
line=$(grep "server 198.51.100.2:7000 received" "$WORK/servers.log" | head -n1)
say "$line"
MAPPED=${line##* from }
MAPPED_ADDR=${MAPPED%:*}
MAPPED_PORT=${MAPPED##*:}
[ "$MAPPED_ADDR" = 198.51.100.1 ] || fail "source seen as $MAPPED, not the gateway's address"
ok "the source is the gateway's external address 198.51.100.1, port $MAPPED_PORT"
say "(40000 is outside fcnat's port range 20000-29999, so it got a port inside it.)"


# --- 5. full cone ----------------------------------------------------------------
step "5. Full cone: a host the client never talked to sends to 198.51.100.1:$MAPPED_PORT"
say "198.51.100.4 has never received anything from the client."
printf '   %sinternet#%s echo "hello from a stranger" | socat -u - UDP-SENDTO:198.51.100.1:%s,bind=198.51.100.4:7777\n' \
	"$D" "$N" "$MAPPED_PORT"
echo "hello from a stranger" | ip netns exec "$EXT" socat -u - \
	"UDP-SENDTO:198.51.100.1:$MAPPED_PORT,bind=198.51.100.4:7777" \
	|| fail "could not send from 198.51.100.4"
got_stranger() { grep -q 'from AF=2 198.51.100.4:7777' "$WORK/client.log" && grep -q 'hello from a stranger' "$WORK/client.out"; }
wait_for 5 got_stranger || fail "the client did not receive the stranger's datagram"
say "client socket 192.168.77.2:40000 received \"$(grep -m1 'hello from a stranger' "$WORK/client.out")\" from 198.51.100.4:7777"
ok "endpoint-independent filtering: any outside host can reach a live mapping"
say "(Behind Linux masquerade it would not get through: only 198.51.100.2:7000 may answer.)"

# --- 6. stop ---------------------------------------------------------------------
step "6. Stop fcnat (SIGTERM) and look at what is left"
printf '   %sgateway#%s kill -TERM %s\n' "$D" "$N" "$FCNAT_PID"
kill -TERM "$FCNAT_PID"
wait_for 5 fcnat_gone || fail "fcnat did not exit within 5 s"
status=0
wait "$FCNAT_PID" || status=$?
FCNAT_PID=
sed -n '/received, detaching/,$p' "$WORK/fcnat.log" | sed 's/^/     /'
[ "$status" -eq 0 ] || fail "fcnat exited with status $status"
ok "fcnat exited with status 0"
show "$GW" tc qdisc show dev wan0
show "$GW" tc filter show dev wan0 ingress
show "$GW" tc filter show dev wan0 egress
if ip netns exec "$GW" tc qdisc show dev wan0 | grep -q clsact \
	|| [ -n "$(ip netns exec "$GW" tc filter show dev wan0 ingress)" ] \
	|| [ -n "$(ip netns exec "$GW" tc filter show dev wan0 egress)" ]; then
	fail "fcnat left a qdisc or filters on wan0"
fi
ok "no clsact qdisc, no filters: wan0 is as it was"

printf '\n%sDemo complete.%s The namespaces are removed now.\n' "$B" "$N"
