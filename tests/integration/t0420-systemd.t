#!/bin/sh
# Operability under systemd: the unit file is valid; with NOTIFY_SOCKET and
# WATCHDOG_USEC as systemd sets them, wagepayd says READY=1, pings
# WATCHDOG=1 at half the interval (also while its database is down: the
# loop is alive, and the STATUS says the database is not), RELOADING=1 and
# READY=1 around SIGHUP, STOPPING=1 on SIGTERM.
. "$(dirname "$0")/lib.sh"

setup_world || { echo "Bail out! setup failed"; exit 1; }
daemon_stop

# the unit, with ExecStart pointing at the binary just built
if command -v systemd-analyze >/dev/null 2>&1; then
	mkdir -p "$T/unit"
	sed "s#/usr/sbin/wagepayd#$WAGEPAYD#g" "$TOP/config/wagepayd.service" >"$T/unit/wagepayd.service"
	check "systemd-analyze verify accepts the unit" systemd-analyze verify "$T/unit/wagepayd.service"
else
	ok "# SKIP systemd-analyze is not installed"
fi
check "the unit is Type=notify" grep -qx 'Type=notify' "$TOP/config/wagepayd.service"
check "the unit has a watchdog" grep -q '^WatchdogSec=' "$TOP/config/wagepayd.service"
check "the unit reloads with SIGHUP" grep -q '^ExecReload=/bin/kill -HUP \$MAINPID' "$TOP/config/wagepayd.service"

# a stand-in for systemd's notification socket, recording each datagram
python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as out:
    while True:
        d = s.recv(4096).decode("utf-8", "replace")
        out.write("%.3f %s\n" % (time.monotonic(), d.replace("\n", "|")))
' "$T/notify.sock" "$T/notify.log" &
LISTENER=$!
trap 'kill $LISTENER 2>/dev/null; cleanup' EXIT
for _ in $(seq 1 50); do [ -S "$T/notify.sock" ] && break; sleep 0.1; done

count() { grep -c "$1" "$T/notify.log" 2>/dev/null || true; }
wait_for() { # PATTERN N: until N lines match, at most 5 s
	for _ in $(seq 1 50); do [ "$(count "$1")" -ge "$2" ] && return 0; sleep 0.1; done
	return 1
}

NOTIFY_SOCKET="$T/notify.sock" WATCHDOG_USEC=400000 "$WAGEPAYD" -f "$CONF" >>"$T/wagepayd.log" 2>&1 &
DAEMON_PID=$!
check "READY=1 once the listeners are up" wait_for 'READY=1' 1
n0=$(count 'WATCHDOG=1')
sleep 1.2
n1=$(count 'WATCHDOG=1')
check "WATCHDOG=1 every 200 ms for WATCHDOG_USEC=400000 (got $((n1 - n0)) in 1.2 s)" \
    test $((n1 - n0)) -ge 4 -a $((n1 - n0)) -le 8
check "the STATUS says the database is up" grep -q 'STATUS=serving; database up' "$T/notify.log"

pg_stop_immediate
sleep 1.5
n2=$(count 'WATCHDOG=1')
sleep 1
n3=$(count 'WATCHDOG=1')
check "the pings go on while the database is down" test $((n3 - n2)) -ge 3
check "and the STATUS says it is down" grep -q 'database DOWN' "$T/notify.log"
pg_restart

kill -HUP "$DAEMON_PID"
check "SIGHUP: RELOADING=1" wait_for 'RELOADING=1' 1
check "SIGHUP: READY=1 again" wait_for 'READY=1' 2
kill -TERM "$DAEMON_PID"
check "SIGTERM: STOPPING=1" wait_for 'STOPPING=1' 1
for _ in $(seq 1 100); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
check "and the daemon exits" sh -c "! kill -0 $DAEMON_PID 2>/dev/null"
DAEMON_PID=

# without WATCHDOG_USEC there are no pings (systemd did not ask)
: >"$T/notify.log"
NOTIFY_SOCKET="$T/notify.sock" "$WAGEPAYD" -f "$CONF" >>"$T/wagepayd.log" 2>&1 &
DAEMON_PID=$!
check "READY=1 without a watchdog" wait_for 'READY=1' 1
sleep 0.6
check_eq "no WATCHDOG=1 when none was asked for" "$(count 'WATCHDOG=1')" 0
daemon_stop
finish
