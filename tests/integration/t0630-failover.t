#!/bin/sh
# Failover: a primary with a synchronous standby (two local clusters,
# streaming replication), the primary killed in the middle of a load, the
# standby promoted. wagepayd, configured with a multi-host DSN and
# target_session_attrs=read-write, follows it by itself; no payment it
# acknowledged is missing on the new primary, none is made twice.
. "$(dirname "$0")/lib.sh"

SBDIR="$T/standby"
"$TOP/scripts/devpki" "$PKI" >"$T/devpki.log" 2>&1 || { echo "Bail out! devpki"; exit 1; }
mkdir -p "$PGDIR" "$SBDIR"
[ "$(id -u)" = 0 ] && chown postgres "$PGDIR" "$SBDIR"
as_pg "$PGBIN/initdb" -D "$PGDIR/data" -U wagepay -A trust -E UTF8 --locale=C.UTF-8 >"$T/initdb.log" 2>&1 ||
    { echo "Bail out! initdb"; exit 1; }
as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -w -l "$PGDIR/log" -o "-c listen_addresses='' \
    -c unix_socket_directories='$PGDIR' -c wal_level=replica -c max_wal_senders=4 \
    -c synchronous_standby_names=standby1 -c synchronous_commit=on" start >/dev/null ||
    { show_log "$PGDIR/log"; echo "Bail out! primary"; exit 1; }
as_pg "$PGBIN/pg_basebackup" -h "$PGDIR" -U wagepay -D "$SBDIR/data" -R -X stream >/dev/null 2>&1 ||
    { echo "Bail out! pg_basebackup"; exit 1; }
echo "primary_conninfo = 'host=$PGDIR user=wagepay application_name=standby1'" |
    as_pg tee -a "$SBDIR/data/postgresql.auto.conf" >/dev/null
as_pg "$PGBIN/pg_ctl" -D "$SBDIR/data" -w -l "$SBDIR/log" -o "-c listen_addresses='' \
    -c unix_socket_directories='$SBDIR'" start >/dev/null || { show_log "$SBDIR/log"; echo "Bail out! standby"; exit 1; }
stop_standby() { as_pg "$PGBIN/pg_ctl" -D "$SBDIR/data" -m immediate stop >/dev/null 2>&1; }
trap 'stop_standby; cleanup' EXIT
as_pg "$PGBIN/createdb" -h "$PGDIR" -U wagepay wagepay
for _ in $(seq 1 50); do
	[ "$(q "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby1'")" = sync ] && break
	sleep 0.2
done
check_eq "the standby replicates synchronously" "$(q "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby1'")" sync

DSN="host=$PGDIR,$SBDIR dbname=wagepay user=wagepay target_session_attrs=read-write connect_timeout=2"
write_config
"$WAGEPAYD" -f "$CONF" --migrate >>"$T/wagepayd.log" 2>&1 || { show_log "$T/wagepayd.log"; echo "Bail out! migrate"; exit 1; }
add_operator maker1 maker maker-password-1
add_operator checker1 checker checker-password-1
daemon_start || { echo "Bail out! daemon"; exit 1; }
open_project && roster_demo 40 && deposit DEP-0 1000000.00 >/dev/null || { echo "Bail out! seed failed"; exit 1; }

N=16
i=0
while [ $i -lt $N ]; do
	python3 "$TOOLS/mksheet" --demo 1 --demo-from "$i" --msg-id "FO-$i" --sub "$SUB1_USCC" --month 2026-10 --account "$ACCOUNT" >"$T/f$i.u.xml"
	"$TOOLS/sign-xml" "$PKI/sub1.key" "$PKI/sub1.pem" "$T/f$i.u.xml" "$T/f$i.xml"
	i=$((i + 1))
done
client() { # i: submit, retry on anything but a decision, keep the first decision
	for _ in $(seq 1 150); do
		code=$(curl -sk -o "$T/f$1.answer" -w '%{http_code}' --max-time 10 --cert "$PKI/contractor.pem" \
		    --key "$PKI/contractor.key" --data-binary @"$T/f$1.xml" "https://127.0.0.1:$CPORT/v1/sheets" 2>/dev/null)
		[ "$code" = 200 ] && return 0
		sleep 0.2
	done
	return 1
}
# clients 0.4 s apart; at 2 s the primary dies and the standby is promoted
( sleep 2; as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -m immediate stop >/dev/null
  as_pg "$PGBIN/pg_ctl" -D "$SBDIR/data" -w promote >/dev/null ) & fault=$!
pids=; i=0
while [ $i -lt $N ]; do client $i & pids="$pids $!"; i=$((i + 1)); sleep 0.4; done
wait $fault $pids

PGDIR_OLD=$PGDIR; PGDIR=$SBDIR		# q() now reads the new primary
check_eq "the new primary is the promoted standby" "$(q "SELECT pg_is_in_recovery()")" f
acked=0; present=0; i=0
while [ $i -lt $N ]; do
	if [ "$(grpsts "$T/f$i.answer" 2>/dev/null)" = ACSC ]; then
		acked=$((acked + 1))
		[ "$(q "SELECT count(*) FROM transfer t JOIN sheet s ON s.id = t.sheet_id WHERE s.msg_id = 'FO-$i'")" = 1 ] && present=$((present + 1))
	fi
	i=$((i + 1))
done
check_eq "every client got ACSC (before, during or after the failover)" "$acked" "$N"
check_eq "every acknowledged payment is on the new primary, once" "$present" "$N"
check "the daemon logged the lost connection and reconnected" grep -q 'connected to' "$T/wagepayd.log"
ledger_exact
PGDIR=$PGDIR_OLD
finish
