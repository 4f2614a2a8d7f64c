#!/bin/sh
# Runs inside the VM as PID 1 (tests/vm/init hands over to it), from the run
# directory /tmp/vmtest that tests/vm/vmtest shares read-write over 9p. The rest
# of / is the host's root, read-only. Prints every result as a "RESULT:" line
# (also appended to /tmp/vmtest/results), writes "VMTEST-EXIT: N" to
# /tmp/vmtest/exit and the console, and powers off.
RUN=/tmp/vmtest
. $RUN/env
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/tmp LANG=C.UTF-8 PYTHONDONTWRITEBYTECODE=1
# The datapath takes longer to load under TCG than on hardware.
export FCNAT_READY_TIMEOUT=${FCNAT_READY_TIMEOUT:-$((120 * ${STEP_SLOW:-1}))}
RES=$RUN/results
: > $RES
FAILED=0

echo "VMTEST-BEGIN"
result() {  # result NAME PASS|FAIL|SKIP DETAIL...
	n=$1 s=$2
	shift 2
	[ "$s" = FAIL ] && FAILED=1
	echo "RESULT: $n $s${*:+ ($*)}" | tee -a $RES
}
finish() {
	sync
	echo "VMTEST-EXIT: $1" > $RUN/exit
	sync
	echo "VMTEST-EXIT: $1"
	echo o > /proc/sysrq-trigger
	while :; do sleep 1; done
}
# A shell error in here must not hang the VM until the host's timeout.
trap 'finish 3' INT TERM

mount -t tmpfs -o mode=755 tmpfs /run
mkdir -p /run/netns /dev/shm
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t bpf bpf /sys/fs/bpf
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
ip link set lo up
# A checkout (or kernel cache) under /tmp or /run is hidden by the tmpfs
# mounted there: its own 9p share (tags repo, modroot) at the same path.
mount_hidden() {  # mount_hidden TAG DIR
	[ -n "$(ls -A "$2" 2>/dev/null)" ] && return 0
	mkdir -p "$2" && mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144,ro,cache=loose "$1" "$2" ||
		echo "vmtest: cannot mount the $1 share at $2"
}
mount_hidden repo "$REPO"
mount_hidden modroot "$MODROOT"

echo "VMTEST-KERNEL: $(uname -r) ($(uname -v))" | tee -a $RES
echo "vmtest: guest: $(nproc) CPUs, $(awk '/MemTotal/ {print int($2/1024) " MiB"}' /proc/meminfo); checkout $REPO"
missing=""
for m in $GUEST_MODULES; do
	modprobe -d "$MODROOT" "$m" 2>/dev/null ||
		[ -d "/sys/module/$m" ] || missing="$missing $m"
done
[ -n "$missing" ] && echo "vmtest: NOTE: modules neither loadable nor built in:$missing"

cd "$REPO" || { result setup FAIL "no checkout at $REPO"; finish 1; }

# The kernel's BPF JIT setting (Debian's mipsel kernel leaves it off, its
# s390x kernel has none: the interpreter); FCNAT_VM_BPF_JIT=1 on the host
# turns it on where there is one.
JITCTL=/proc/sys/net/core/bpf_jit_enable
[ -n "${BPF_JIT:-}" ] && [ -f $JITCTL ] && echo "$BPF_JIT" > $JITCTL
echo "vmtest: net.core.bpf_jit_enable=$(cat $JITCTL 2>/dev/null || echo 'none (no CONFIG_BPF_JIT)')" | tee -a $RES

# The binaries under test: build/, or a cross build's build/<arch> (then run
# from the guest's tmpfs: some guests' 9p cannot map executables).
BIN=build
if [ "${BUILDREL:-build}" != build ]; then
	BIN=/tmp/fcnat-bin
	mkdir -p $BIN && cp "$BUILDREL/fcnat" "$BUILDREL/unit_tests" $BIN/ 2>/dev/null
	export FCNAT_BIN=$BIN/fcnat
	echo "vmtest: binaries: $BUILDREL on $(uname -m)"
fi
# Slower emulations (a profile's VM_STEP_SLOW) multiply the steps' bounds.
SLOW=${STEP_SLOW:-1}

# The tail of a log that ends in a verifier rejection: the failing instruction
# and the reason, with the instruction dump before it cut.
log_tail() {  # log_tail FILE LINES
	echo "---- the end of $(basename "$1") ----"
	tail -n "$2" "$1" | cut -c1-300
	echo "----"
}

step_unit() {
	t0=$(date +%s)
	timeout -k 5 $((600 * SLOW)) $BIN/unit_tests > /tmp/unit.log 2>&1
	rc=$?
	cp /tmp/unit.log $RUN/unit_tests.log
	grep -E '^(ok  |FAIL) ' /tmp/unit.log | sed 's/^/unit: /'
	n_ok=$(grep -c '^ok  ' /tmp/unit.log)
	n_fail=$(grep -c '^FAIL ' /tmp/unit.log)
	if [ "$rc" = 0 ]; then
		result unit PASS "$n_ok passed, $(( $(date +%s) - t0 ))s"
	else
		grep -v -E '^(ok  |FAIL) ' /tmp/unit.log > /tmp/unit.rest
		log_tail /tmp/unit.rest 40
		[ "$rc" = 124 ] && why="timed out" || why="exit status $rc"
		[ $((n_ok + n_fail)) = 0 ] && why="$why, no test ran: $(grep -m1 '^fcnat: error' /tmp/unit.log | cut -c1-160)"
		# The failing tests and their first assertion, in the summary a
		# CI log keeps when it keeps only the tail.
		failed=$(grep '^FAIL ' /tmp/unit.log | awk '{print $2}' | head -n 5 | tr '\n' ' ')
		first=$(grep -m1 -E '^    [^ ]+:[0-9]+: ' /tmp/unit.log | sed 's/^ *//' | cut -c1-200)
		result unit FAIL "$why; $n_ok passed, $n_fail failed, $(( $(date +%s) - t0 ))s; failed: ${failed:-?}${first:+; first: $first}"
	fi
}

# The load and refuse steps' link: wan0 (to ext0) and lan0 (to cl0), fresh.
veths_up() {
	ip link del wan0 2>/dev/null
	ip link del lan0 2>/dev/null
	ip link add wan0 type veth peer name ext0
	ip link add lan0 type veth peer name cl0
	ip addr add 198.51.100.1/24 dev wan0
	ip addr add 192.168.77.1/24 dev lan0
	for i in wan0 ext0 lan0 cl0; do ip link set "$i" up; done
}

# build/fcnat on veths: does it load, attach and exit cleanly? Shows the
# verifier's words when it does not.
load_one() {  # load_one NAME ARGS...
	name=$1
	shift
	veths_up
	# XDP redirects into a veth reach the peer only with NAPI on it.
	ethtool -K ext0 gro on tx off >/dev/null 2>&1
	ethtool -K cl0 gro on tx off >/dev/null 2>&1
	ok=1
	t0=$(date +%s)
	$BIN/fcnat -i wan0 "$@" > /tmp/$name.log 2>&1 &
	p=$!
	i=0
	while [ $i -lt $((240 * SLOW)) ]; do
		grep -q '^fcnat: ready' /tmp/$name.log && break
		kill -0 $p 2>/dev/null || break
		sleep 0.5
		i=$((i + 1))
	done
	secs=$(( $(date +%s) - t0 ))
	if grep -q '^fcnat: ready' /tmp/$name.log; then
		kill -TERM $p
		i=0
		while kill -0 $p 2>/dev/null && [ $i -lt 40 ]; do sleep 0.25; i=$((i + 1)); done
		kill -KILL $p 2>/dev/null
		wait $p
		rc=$?
		cp /tmp/$name.log $RUN/$name.log
		if [ "$rc" = 0 ]; then
			result "$name" PASS "ready in ${secs}s: $(grep -m1 '^fcnat: ready' /tmp/$name.log)"
			ok=0
		else
			log_tail /tmp/$name.log 20
			result "$name" FAIL "ready, but exit status $rc after SIGTERM"
		fi
	else
		kill -KILL $p 2>/dev/null
		wait $p
		rc=$?
		cp /tmp/$name.log $RUN/$name.log
		log_tail /tmp/$name.log 45
		why=$(grep -m1 '^fcnat: error' /tmp/$name.log || grep -m1 'failed' /tmp/$name.log)
		result "$name" FAIL "not ready after ${secs}s (exit status $rc): $(echo "$why" | cut -c1-200)"
	fi
	ip link del wan0 2>/dev/null
	ip link del lan0 2>/dev/null
	return $ok
}

LOADED=""
step_load() {
	load_one load-tc && LOADED="$LOADED tc"
	load_one load-xdp --mode xdp --lan-if lan0 && LOADED="$LOADED xdp"
}

# pytest over the host's python3 and the checkout's tests; the tests' own
# output goes to a log, the console gets one line per test, the short summary,
# and the failures' tails.
run_pytest() {  # run_pytest NAME ARGS...
	name=$1
	shift
	t0=$(date +%s)
	if [ ! -x /usr/bin/python3 ]; then
		result "$name" SKIP "no python3 in this guest's root (FCNAT_VM_ROOT=full has it)"
		return
	fi
	timeout -k 10 $((1800 * SLOW)) /usr/bin/python3 -m pytest -p no:cacheprovider --basetemp=/tmp/pytest \
		-v -rfEs --tb=short --color=no "$@" > /tmp/$name.log 2>&1
	rc=$?
	cp /tmp/$name.log $RUN/$name.log
	grep -E ' (PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS)( |$)' /tmp/$name.log |
		grep -v '^[=_]' | sed -E 's/ +\[ *[0-9]+%\]$//; s/^/'"$name"': /' | uniq
	sed -n '/short test summary info/,$p' /tmp/$name.log | cut -c1-300 | uniq
	summary=$(tail -n 1 /tmp/$name.log | tr -d '=' | sed 's/^ *//; s/ *$//')
	# Skipped is not passed: the smoke set is the bar, all of it must run.
	if [ "$rc" = 0 ] && [ "$name" = smoke ] && echo "$summary" | grep -q skipped; then
		rc=skipped
	fi
	case $rc in
	0) result "$name" PASS "$summary, $(( $(date +%s) - t0 ))s" ;;
	skipped) result "$name" FAIL "$summary: a smoke test did not run" ;;
	5) result "$name" FAIL "no tests selected: $*" ;;
	124) result "$name" FAIL "timed out; $summary" ;;
	*) result "$name" FAIL "$summary" ;;
	esac
}

step_smoke() {
	# Ping, UDP, TCP, EIM and EIF through namespaces, the real build/fcnat, TC
	# and XDP mode: the tests marked `vm` (tests/integration/conftest.py).
	# A mode the load step saw fail is skipped (its every test would fail at
	# set-up with the same log) -- the run has failed already.
	SMOKE=${SMOKE_FILES:-tests/integration}
	# What the kernel profile says this kernel cannot do (VM_SMOKE_WITHOUT,
	# a pytest -k expression, and why): left out by name and said so in a
	# result line of its own, so the row never hides it.
	without=""
	if [ -n "$SMOKE_WITHOUT" ]; then
		without=" and not ($SMOKE_WITHOUT)"
		result smoke-without SKIP "left out by the kernel profile: $SMOKE_WITHOUT: $SMOKE_WITHOUT_WHY"
	fi
	case " $STEPS " in
	*" load "*)
		case "$LOADED" in
		*tc*xdp*) run_pytest smoke -m vm -k "not tc-fast$without" $SMOKE ;;
		*tc*) result smoke-xdp SKIP "fcnat does not load in XDP mode, see load-xdp"
			run_pytest smoke -m vm -k "not tc-fast and not xdp$without" $SMOKE ;;
		*xdp*) result smoke-tc SKIP "fcnat does not load in TC mode, see load-tc"
			run_pytest smoke -m vm -k "xdp$without" $SMOKE ;;
		*) result smoke SKIP "fcnat does not load in TC or XDP mode, see load-tc and load-xdp" ;;
		esac ;;
	*) run_pytest smoke -m vm -k "not tc-fast$without" $SMOKE ;;
	esac
}

# A kernel below fcnat's floor (a profile such as debian11-amd64): fcnat must
# refuse at start, name what the kernel lacks, and leave nothing behind (no
# qdisc, filter or XDP program on the interfaces, no BPF program or pin).
refuse_one() {  # refuse_one NAME ARGS...
	name=$1
	shift
	veths_up
	if ! command -v bpftool >/dev/null; then
		result "$name" FAIL "no bpftool in the guest: cannot tell whether programs were left loaded"
		return
	fi
	progs_before=$(bpftool prog show 2>/dev/null | grep -c '^[0-9]*:')
	t0=$(date +%s)
	timeout -k 5 $((120 * SLOW)) $BIN/fcnat -i wan0 "$@" > /tmp/$name.log 2>&1
	rc=$?
	secs=$(( $(date +%s) - t0 ))
	cp /tmp/$name.log $RUN/$name.log
	left=""
	for i in wan0 lan0; do
		tc qdisc show dev "$i" | grep -q -e clsact -e ingress && left="$left $i:qdisc"
		tc filter show dev "$i" ingress 2>/dev/null | grep -q . && left="$left $i:filter"
		ip -d link show dev "$i" | grep -q -e 'xdp' -e 'prog/xdp' && left="$left $i:xdp"
	done
	progs_after=$(bpftool prog show 2>/dev/null | grep -c '^[0-9]*:')
	[ "$progs_after" -gt "$progs_before" ] && left="$left bpf-programs:$((progs_after - progs_before))"
	ls /sys/fs/bpf 2>/dev/null | grep -q fcnat && left="$left pins"
	why=$(grep -m1 '^fcnat: error' /tmp/$name.log | cut -c1-160)
	floor=$(grep -m1 '^fcnat: error: fcnat needs Linux' /tmp/$name.log | cut -c1-60)
	if [ "$rc" = 0 ] || [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		log_tail /tmp/$name.log 20
		result "$name" FAIL "exit status $rc after ${secs}s: a kernel below the floor must be refused at start"
	elif [ -z "$floor" ] || [ -z "$why" ]; then
		log_tail /tmp/$name.log 20
		result "$name" FAIL "exit status $rc, but no line naming what the kernel lacks and the floor"
	elif [ -n "$left" ]; then
		result "$name" FAIL "refused, but left behind:$left"
	else
		result "$name" PASS "refused in ${secs}s, nothing left behind: $why"
	fi
	ip link del wan0 2>/dev/null
	ip link del lan0 2>/dev/null
}

step_refuse() {
	refuse_one refuse-tc
	refuse_one refuse-xdp --mode xdp --lan-if lan0
}

step_selftest() {
	# The harness without the NAT programs: namespaces, veths, python and
	# pytest over 9p, build/fcnat runs. Must pass on any kernel.
	run_pytest selftest tests/integration/test_cli.py \
		-k "usage_error or missing_ifname or version_exits or help_exits"
}

step_pytest() {
	# Shell words: --pytest "tests/integration/x.py -k 'a or b'" works.
	eval "run_pytest pytest $PYTEST_ARGS"
}

for s in $STEPS; do
	echo "vmtest: ---- step $s ----"
	"step_$s"
done
[ -s $RES ] || { result steps FAIL "no step ran"; }
finish $FAILED
