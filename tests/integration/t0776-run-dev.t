#!/bin/sh
# make run as a newcomer sees it (issue 24): scripts/run-dev in a var/ of
# its own (WAGEPAY_VAR, so a developer's var/ is left alone), on free
# loopback ports, with the clock pinned to a day that is neither the demo
# world's 2026-01 nor today's month: the demo project starts the month
# before, its roster entered then, the deposit booked that day. The three
# wagepay-sheet commands it prints (make, sign, send) are run as printed
# and pay the sheet (send exits 0); the sample curl's sheet is paid too.
# Then run-dev is stopped (SIGTERM: daemon, fake core, platform and
# PostgreSQL with it), within bounds, and killed if it will not.
. "$(dirname "$0")/lib.sh"

export WAGEPAY_CLOCK=2026-08-20T10:00:00+08:00
VAR=$T/var
OUT=$T/run-dev.out
RUNDEV_PID=

stop_rundev() {
	[ -n "$RUNDEV_PID" ] || return 0
	kill -TERM "$RUNDEV_PID" 2>/dev/null
	for _ in $(seq 1 150); do
		kill -0 "$RUNDEV_PID" 2>/dev/null || { RUNDEV_PID=; return 0; }
		sleep 0.2
	done
	# its own process group (setsid below): everything it started
	kill -KILL -- "-$RUNDEV_PID" 2>/dev/null
	RUNDEV_PID=
	return 1
}
teardown() {
	stop_rundev
	if [ -f "$VAR/pg/data/postmaster.pid" ]; then
		as_pg "$PGBIN/pg_ctl" -D "$VAR/pg/data" -m immediate stop >/dev/null 2>&1
	fi
	# the database and the keys are not outputs for t0990's scan
	rm -rf "$VAR/pg" "$VAR/pki"
	cleanup
}
trap teardown EXIT

CPORT=$(free_port); KPORT=$(free_port); OPORT=$(free_port)
FPORT=$(free_port); PPORT=$(free_port)
# what a developer's var/ holds (names, sizes, times), to be found unchanged
ls -la --time-style=full-iso "$TOP/var" 2>/dev/null | md5sum >"$T/var.before"

# in a session of its own, so that a run-dev that will not stop is killed
# with all it started; its pid (that session's) written down first
(cd "$TOP" && WAGEPAY_VAR="$VAR" CONTRACTOR_PORT=$CPORT CORE_PORT=$KPORT \
    CONSOLE_PORT=$OPORT FAKECORE_PORT=$FPORT PLATFORM_PORT=$PPORT \
    exec setsid sh -c 'echo $$ >"$1"; exec scripts/run-dev' sh "$T/run-dev.pid") \
    >"$OUT" 2>"$T/run-dev.err" </dev/null &
for _ in $(seq 1 50); do [ -s "$T/run-dev.pid" ] && break; sleep 0.1; done
RUNDEV_PID=$(cat "$T/run-dev.pid" 2>/dev/null)
[ -n "$RUNDEV_PID" ] || { echo "Bail out! run-dev did not start"; exit 1; }
for _ in $(seq 1 600); do
	grep -q '^Ctrl-C stops' "$OUT" 2>/dev/null && break
	kill -0 "$RUNDEV_PID" 2>/dev/null || break
	sleep 0.2
done
if ! grep -q '^Ctrl-C stops' "$OUT"; then
	show_log "$OUT"; show_log "$T/run-dev.err"
	echo "Bail out! run-dev did not come up within 120 s"; exit 1
fi
ok "run-dev came up in WAGEPAY_VAR on its own ports"
check "its database is in WAGEPAY_VAR" test -d "$VAR/pg/data"
check "the developer's var/ is as it was" sh -c "ls -la --time-style=full-iso '$TOP/var' 2>/dev/null | md5sum | cmp -s - '$T/var.before'"
dq() { psql -h "$VAR/pg" -U wagepay -d wagepay -qAt -v ON_ERROR_STOP=1 -c "$1"; }

# --- the clock ------------------------------------------------------------------
check_eq "the project starts last month by WAGEPAY_CLOCK" \
    "$(dq "SELECT to_char(start_month, 'YYYY-MM') FROM project WHERE code = '$PROJECT'")" 2026-07
check "run-dev says so" sh -c "tr '\n' ' ' <'$OUT' | grep -q 'started in 2026-07 .*today is 2026-08-20'"
check_eq "the roster entered that month's first day" \
    "$(dq "SELECT DISTINCT entered FROM roster_entry")" 2026-07-01
check_eq "the deposit booked that day" "$(dq "SELECT booking_date FROM deposit")" 2026-08-20

# --- the three commands, as printed ----------------------------------------------
# the block after "A payroll spreadsheet": lines starting with the tool,
# with their backslash continuations
awk '/^A payroll spreadsheet/ {on = 1} /^Submit the signed sample/ {on = 0}
     on && /^  .*wagepay-sheet (make|sign|send) / {cmd = $0; while (cmd ~ /\\$/) {
         sub(/\\$/, "", cmd); getline more; cmd = cmd more } print cmd }' "$OUT" >"$T/cmds"
check_eq "three commands printed" "$(wc -l <"$T/cmds")" 3
check_eq "make, sign, send" "$(awk '{print $2}' "$T/cmds" | tr '\n' ' ')" "make sign send "
check "the month that is due" grep -q -- "--month 2026-07 " "$T/cmds"
check "the subcontractor's key and certificate" grep -q -- "--key $VAR/pki/sub1.key --cert $VAR/pki/sub1.pem" "$T/cmds"
check "the contractor's key and certificate" grep -q -- "--cert $VAR/pki/contractor.pem .*--key $VAR/pki/contractor.key --ca $VAR/pki/ca.pem" "$T/cmds"
check "the demo payroll is in WAGEPAY_VAR" test -s "$VAR/demo-payroll.csv"
check "with Chinese headers, in GB18030" sh -c "iconv -f GB18030 -t UTF-8 '$VAR/demo-payroll.csv' | head -1 | grep -q '^姓名,身份证号,银行卡号'"
n=0
while IFS= read -r cmd; do
	n=$((n + 1))
	(cd "$TOP" && sh -c "$cmd") >"$T/cmd$n.out" 2>"$T/cmd$n.err"
	rc=$?
	check_eq "command $n ($(echo "$cmd" | awk '{print $2}')) as printed: exit 0" "$rc" 0
	[ "$rc" = 0 ] || { show_log "$T/cmd$n.err"; show_log "$T/cmd$n.out"; }
done <"$T/cmds"
check "send: the table says ACSC" grep -q "Status: ACSC" "$T/cmd3.out"
msg=$(grep -o -- '--msg-id [^ ]*' "$T/cmds" | cut -d' ' -f2)
check_eq "the sheet is paid" "$(dq "SELECT state FROM sheet WHERE msg_id = '$msg'")" PAID
check_eq "five wage transfers" "$(dq "SELECT count(*) FROM transfer t JOIN sheet s ON s.id = t.sheet_id WHERE s.msg_id = '$msg'")" 5

# --- the sample sheet's curl, as printed ------------------------------------------
awk '/^Submit the signed sample/ {on = 1} /^Its status afterwards/ {on = 0}
     on && /^  curl / {cmd = $0; while (cmd ~ /\\$/) { sub(/\\$/, "", cmd); getline more; cmd = cmd more } print cmd }' \
    "$OUT" >"$T/curl"
check_eq "one curl printed for the sample sheet" "$(wc -l <"$T/curl")" 1
(cd "$TOP" && sh -c "$(cat "$T/curl") -s") >"$T/sample.pain002" 2>&1
check_eq "the sample sheet: ACSC" "$(grpsts "$T/sample.pain002")" ACSC

# --- stopped ------------------------------------------------------------------------
pgpid=$(head -1 "$VAR/pg/data/postmaster.pid" 2>/dev/null)
check "SIGTERM stops run-dev within 30 s" stop_rundev
# gone, or a zombie nobody reaps (a container's pid 1 may not)
pg_gone() {
	[ ! -f "$VAR/pg/data/postmaster.pid" ] || return 1
	st=$(ps -o stat= -p "$pgpid" 2>/dev/null)
	[ -z "$st" ] || [ "${st#Z}" != "$st" ]
}
check "and its PostgreSQL with it" pg_gone
check "and its daemon's ports are free" sh -c "! curl -sk -o /dev/null --max-time 2 https://127.0.0.1:$OPORT/healthz"
finish
