#!/bin/bash
# run.sh - `make bench`: every benchmark in tests/bench, one after another.
#   tests/bench/run.sh [NAME...]    (default: all; NAME = file name without
#                                    extension, e.g. bcache_bench)
# B= the build directory.  Compiled benchmarks live in $B/bench/; shell
# benchmarks (*.sh other than this file) run from here, and a NAME.sh wins
# over a compiled NAME (ha_load.c is ha_load.sh's load generator).
set -uo pipefail
cd "$(dirname "$0")/../.."
B="${B:-build}"
rc=0
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
	for f in tests/bench/*.c tests/bench/*.sh; do
		n=${f##*/}; n=${n%.*}
		# a NAME.c beside NAME.sh is the script's helper, not a benchmark
		[ "$n" = run ] || [[ " ${names[*]} " == *" $n "* ]] || names+=("$n")
	done
fi
for n in "${names[@]}"; do
	echo "== bench: $n"
	if [ -x "tests/bench/$n.sh" ]; then
		B="$B" "tests/bench/$n.sh" || rc=1
	elif [ -x "$B/bench/$n" ]; then
		"$B/bench/$n" || rc=1
	else
		echo "run.sh: no benchmark '$n' (built ones are in $B/bench/)" >&2
		rc=2
	fi
done
exit $rc
