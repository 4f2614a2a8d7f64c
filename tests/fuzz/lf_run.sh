#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# lf_run.sh LFDIR RUNS SECONDS NAME...: run each libFuzzer harness LFDIR/lf_NAME
# for RUNS executions within SECONDS. Seeds: tests/fuzz/corpus/NAME/ (read
# only); new inputs: LFDIR/corpus/NAME/; crashes: LFDIR/artifacts/. Prints
# executions and coverage per harness. Fails if any harness crashed, leaked,
# reported UB, or reached the time limit before RUNS.
set -u
lfdir=$(realpath "$1") runs=$2 secs=$3
shift 3
src=$(realpath "$(dirname "$0")")
status=0
mkdir -p "$lfdir/artifacts" "$lfdir/logs"
printf '%-10s %10s %7s %7s %6s  %s\n' harness execs cov ft secs result
for name in "$@"; do
	log="$lfdir/logs/$name.log"
	mkdir -p "$lfdir/corpus/$name"
	set -- "$lfdir/corpus/$name"
	[ -d "$src/corpus/$name" ] && set -- "$@" "$src/corpus/$name"
	[ -f "$src/lf_$name.dict" ] && set -- "$@" "-dict=$src/lf_$name.dict"
	start=$(date +%s)
	"$lfdir/lf_$name" -runs="$runs" -max_total_time="$secs" -timeout=30 \
		-rss_limit_mb=4096 -close_fd_mask=3 -print_final_stats=1 -max_len=4096 \
		-artifact_prefix="$lfdir/artifacts/$name-" "$@" >"$log" 2>&1
	rc=$?
	took=$(($(date +%s) - start))
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	# The last status line: "#N <event> cov: C ft: F ...".
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
	ft=$(grep -o 'ft: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
	if [ "$rc" -ne 0 ]; then
		result="FAIL (status $rc, log $log)"
	elif [ -z "$execs" ] || [ "$execs" -lt "$runs" ]; then
		rc=1
		result="FAIL (time limit ${secs}s reached at ${execs:-0} of $runs executions)"
	else
		result=ok
	fi
	printf '%-10s %10s %7s %7s %6s  %s\n' "$name" "${execs:-?}" "${cov:-?}" "${ft:-?}" \
		"$took" "$result"
	if [ "$rc" -ne 0 ]; then
		status=1
		grep -E -A 30 'ERROR: |runtime error:|==[0-9]+==|deadly signal|Test unit written' \
			"$log" | head -n 60
	fi
done
exit $status
