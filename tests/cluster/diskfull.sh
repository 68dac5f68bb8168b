# tests/cluster/diskfull.sh: a full disk under PostgreSQL while sheets
# arrive (issue 23), the body of t0920 (FULL=wal: pg_wal's file system) and
# t0925 (FULL=data: the data directory's). The file system is a small tmpfs
# of its own; a filler file takes what space is left while the sheets come.
#
# wal: archiving is broken too (the most common way a WAL disk fills in
# life: segments wait for an archive that does not take them); the test
# sends sheets (switching WAL segments after each, to get there sooner)
# until PostgreSQL cannot create the next segment. It then PANICs, its crash
# recovery cannot write either, and it stops; a supervisor restarts it every
# second, as systemd's Restart= or Patroni does, and it fails again as long
# as the disk is full.
# data: a table cannot grow ("could not extend file", SQLSTATE 53100): the
# call fails, its transaction rolls back, PostgreSQL stays up.
#
# Either way wagepayd answers 503 with Retry-After, never another 5xx, and
# the clients retry the same bytes. Then space returns (the filler removed,
# archiving mended): wagepayd carries on by itself, every client gets its
# decision, every acknowledged sheet is paid once, the ledger sums to zero
# and the audit chains verify. One PostgreSQL (tests/integration/lib.sh),
# not the cluster: with two nodes Patroni would promote the standby, whose
# disk is not full, and the full disk would not be what is tested.
# Needs root and `mount -t tmpfs`; skipped, saying so, without them.
. "$(dirname "$0")/lib.sh"
# lib.sh's own q(): this test's one database
q() { psql -h "$PGDIR" -U wagepay -d wagepay -qAt -v ON_ERROR_STOP=1 -c "$1"; }

FS="$T/fs"			# the file system that fills
case $FULL in
wal)	WALDIR="$FS/pg_wal"; DATA="$PGDIR/data"; SIZE=16m;;
data)	WALDIR="$PGDIR/pg_wal"; DATA="$FS/data"; SIZE=128m;;
esac
mkdir -p "$FS"
if [ "$(id -u)" != 0 ] || ! mount -t tmpfs -o size=$SIZE,mode=0700,uid="$(id -u postgres)" tmpfs "$FS" 2>"$T/mount.err"; then
	echo "1..0 # SKIP needs root and mount -t tmpfs: $(cat "$T/mount.err" 2>/dev/null)"
	exit 0
fi
SUP=
walfs_cleanup() {
	touch "$T/stop-supervisor"
	[ -n "$SUP" ] && kill "$SUP" 2>/dev/null && wait "$SUP" 2>/dev/null
	[ -n "$DAEMON_PID" ] && kill -9 "$DAEMON_PID" 2>/dev/null
	[ -f "$DATA/postmaster.pid" ] && as_pg "$PGBIN/pg_ctl" -D "$DATA" -m immediate stop >/dev/null 2>&1
	umount "$FS" 2>/dev/null
	cleanup
}
trap walfs_cleanup EXIT

"$TOP/scripts/devpki" "$PKI" >"$T/devpki.log" 2>&1 || { echo "Bail out! devpki"; exit 1; }
mkdir -p "$PGDIR" "$T/archive"
chown postgres "$PGDIR" "$T/archive"
# 1 MB segments, so that a few sheets reach the end of the space
as_pg "$PGBIN/initdb" -D "$DATA" -X "$WALDIR" --wal-segsize=1 -U wagepay -A trust -E UTF8 \
    --locale=C.UTF-8 >"$T/initdb.log" 2>&1 || { show_log "$T/initdb.log"; echo "Bail out! initdb"; exit 1; }
cat >>"$DATA/postgresql.conf" <<EOF
listen_addresses = ''
unix_socket_directories = '$PGDIR'
max_connections = 50
min_wal_size = 2MB
max_wal_size = 4MB
archive_mode = on
archive_command = 'test ! -f $T/archive-broken && cp %p $T/archive/%f'
EOF
pg_up() { as_pg "$PGBIN/pg_ctl" -D "$DATA" -w -t 10 -l "$PGDIR/log" start >/dev/null 2>&1; }
pg_up || { show_log "$PGDIR/log"; echo "Bail out! postgres"; exit 1; }
as_pg "$PGBIN/createdb" -h "$PGDIR" -U wagepay wagepay
DSN="host=$PGDIR dbname=wagepay user=wagepay connect_timeout=2"
write_config
"$WAGEPAYD" -f "$CONF" --migrate >>"$T/wagepayd.log" 2>&1 || { show_log "$T/wagepayd.log"; echo "Bail out! migrate"; exit 1; }
add_operator maker1 maker maker-password-1 && add_operator checker1 checker checker-password-1 ||
    { show_log "$T/wagepayd.log"; echo "Bail out! operators"; exit 1; }
daemon_start || { echo "Bail out! daemon"; exit 1; }
N=${DISK_SHEETS:-60}
seed_world $(( (N + 8) / 9 * 3 * 2 )) || { echo "Bail out! seed failed"; exit 1; }
make_sheets 0 "$N" "$T/s"

# the supervisor: PostgreSQL started again whenever it is not running
( while [ ! -f "$T/stop-supervisor" ]; do
	if ! as_pg "$PGBIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
		if pg_up; then echo "$(date +%s) started" ; else echo "$(date +%s) failed to start"; fi
	fi
	sleep 1
  done ) >"$T/supervisor.log" 2>&1 &
SUP=$!

# the disk fills: (wal) archiving breaks; a filler takes what is left
[ "$FULL" = wal ] && touch "$T/archive-broken"
as_pg dd if=/dev/zero of="$FS/filler" bs=64k >/dev/null 2>&1
check "the $FULL file system is full" [ "$(df -P "$FS" | awk 'NR == 2 {print $4}')" = 0 ]

# sheets, 0.2 s apart, each client retrying, and (wal) a WAL segment
# switch after each (so that the segments already there are used up
# sooner); once PostgreSQL has PANICked and failed to restart a few times
# (wal) or wagepayd has answered a few calls 503 (data), space returns
pids=; i=0; full_at=
while [ $i -lt "$N" ]; do
	post_until_decided contractor /v1/sheets "$T/s/s$i.xml" "$T/s/a$i.xml" 600 & pids="$pids $!"
	i=$((i + 1))
	sleep 0.2
	[ "$FULL" = wal ] && q "SELECT pg_switch_wal()" >/dev/null 2>&1
	if [ -z "$full_at" ] && grep -q 'No space left on device' "$PGDIR/log" 2>/dev/null; then
		full_at=$i; t_full=$(now_s)
	fi
done
if [ "$FULL" = wal ]; then
	down() { [ "$(grep -c 'failed to start' "$T/supervisor.log")" -ge 3 ]; }
	check "PostgreSQL ran out of WAL space while the sheets arrived" grep -q 'PANIC:.*No space left on device' "$PGDIR/log"
	check "and failed to restart while the disk stayed full" wait_for 60 down
else
	refused() { [ "$(grep -c 'SQLSTATE 53100, its disk is full' "$T/wagepayd.log")" -ge 3 ]; }
	check "PostgreSQL could not extend a table while the sheets arrived" grep -q 'could not extend file.*No space left on device' "$PGDIR/log"
	check "wagepayd said why it answered 503 (SQLSTATE 53100)" wait_for 60 refused
	pg_running() { as_pg "$PGBIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }
	check "PostgreSQL stayed up" pg_running
fi
diag "PostgreSQL: $(grep -c 'PANIC' "$PGDIR/log") PANIC, $(grep -c 'could not extend' "$PGDIR/log") could not extend, $(grep -c 'failed to start' "$T/supervisor.log") failed restarts before space returned; the full disk after sheet ${full_at:-?} of $N"
rm -f "$FS/filler" "$T/archive-broken"
t_space=$(now_s)
wait $pids
t_done=$(now_s)

codes() { cat "$T"/s/a*.xml.code 2>/dev/null; }
n503=$(codes | grep -c '^503$')
n500=$(codes | grep -c '^5[0-9][0-9]$' | awk -v a="$n503" '{print $1 - a}')
nretry=$(cat "$T"/s/a*.xml.retry 2>/dev/null | grep -ci '^Retry-After: [0-9]')
check "wagepayd answered 503 while the disk was full" [ "$n503" -gt 0 ]
check_eq "each 503 with Retry-After" "$nretry" "$n503"
check_eq "and no other 5xx" "$n500" 0
acked=0; lost=0; i=0
while [ $i -lt "$N" ]; do
	if [ "$(grpsts "$T/s/a$i.xml" 2>/dev/null)" = ACSC ]; then
		acked=$((acked + 1))
		[ "$(q "SELECT count(*) FROM transfer t JOIN sheet s ON s.id = t.sheet_id WHERE s.msg_id = 'CL-$i' AND t.reason = 'WAGE'")" = 3 ] ||
		    { lost=$((lost + 1)); diag "CL-$i acknowledged but not paid"; }
	fi
	i=$((i + 1))
done
check_eq "every sheet decided ACSC once space returned" "$acked" "$N"
check_eq "every acknowledged sheet paid, 3 lines" "$lost" 0
[ "$FULL" = wal ] && check "wagepayd reconnected by itself" grep -q 'connected to' "$T/wagepayd.log"
check "the archive caught up" [ "$(ls "$T/archive" | wc -l)" -gt 0 ]
ledger_exact
check "the audit chains verify" chains_verify
echo "$FULL disk full: $N sheets, $acked acknowledged, $lost lost, $(codes | wc -l) tries ($n503 answered 503 with Retry-After, $(codes | grep -c '^000$') without an answer), $(grep -c 'failed to start' "$T/supervisor.log") failed restarts; all decided $(secs "$t_space" "$t_done") s after space returned (disk full $(secs "${t_full:-$t_space}" "$t_space") s)"
finish
