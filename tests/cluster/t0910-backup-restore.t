#!/bin/sh
# Backups that restore (issue 23): on the cluster `make cluster` starts
# (WAL archived by pgBackRest from whichever node leads), a full backup;
# then sheet CL-1 paid and a deposit booked; the ledger at that instant
# recorded, and the time; then sheet CL-2 paid and another deposit. The
# backup is restored into a new data directory, to that time, and started
# as a cluster of its own: its ledger is exactly the ledger recorded (every
# table that holds money or its reasons, row for row), CL-0 and CL-1 paid
# once each, CL-2 and the later deposit absent, its audit chains verify and
# are the live chains' first records. Prints `restore: ...` figures.
. "$(dirname "$0")/lib.sh"

cluster_up || { echo "Bail out! the cluster did not come up"; exit 1; }
seed_world 18 || { echo "Bail out! seed failed"; exit 1; }
make_sheets 0 3 "$T/s"
pay() { post_until_decided contractor /v1/sheets "$T/s/s$1.xml" "$T/s/a$1.xml" 50 && [ "$(grpsts "$T/s/a$1.xml")" = ACSC ]; }
book() { deposit_xml "$1" "$2" "$T/$1.xml" && post_until_decided core /v1/core/notifications "$T/$1.xml" "$T/$1.ans" 50; }
check "CL-0 paid before the backup" pay 0

t0=$(now_s)
"$CLUSTER" backrest "$CL" backup --type=full >"$T/backup.out" 2>&1
check "a full backup (pgbackrest backup --type=full)" [ $? = 0 ]
backup_s=$(secs "$t0" "$(now_s)")
"$CLUSTER" backrest "$CL" info >"$T/info.out" 2>&1
check "pgbackrest info lists it" grep -q 'full backup' "$T/info.out"
# the first backup of an empty stanza: nothing may need it yet, but
# verify reads every file of it and of the archive
"$CLUSTER" backrest "$CL" verify >"$T/verify.out" 2>&1
check "pgbackrest verify finds the repository whole" [ $? = 0 ]

check "CL-1 paid after the backup" pay 1
check "deposit DP-BEFORE booked" book DP-BEFORE 20.00
# the ledger now: every table that holds money or its reasons, row for row
LEDGER_TABLES="account transfer sheet sheet_line deposit line_return roster_entry card_owner"
ledger() { # QUERY-FUNCTION
	for t in $LEDGER_TABLES; do
		echo "$t $($1 "SELECT count(*) || ' ' || md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM $t x")"
	done
}
sleep 1
ledger q >"$T/ledger.at"
target=$(q "SELECT clock_timestamp()")
audit_at=$(q "SELECT max(id) FROM audit")
sleep 1
check "CL-2 paid after the point" pay 2
check "deposit DP-AFTER booked after the point" book DP-AFTER 30.00
# the WAL holding CL-2 archived: check switches the segment and waits
"$CLUSTER" backrest "$CL" check >"$T/check.out" 2>&1
check "pgbackrest check: the latest WAL is archived" [ $? = 0 ]

# --- the restore, into a new data directory, as a cluster of its own ---------
R="$T/restored"
mkdir -p "$R"; chown postgres "$R"; chmod 700 "$R"
RPORT=$(free_port)
t0=$(now_s)
"$CLUSTER" backrest "$CL" --pg1-path="$R/data" --type=time --target="$target" \
    --target-action=promote restore >"$T/restore.out" 2>&1
check "pgbackrest restore --type=time into a new directory" [ $? = 0 ]
# the restored files are the leader's, Patroni's settings with them: its
# own port and socket, no archiving into the live repository, no standby
# to wait for
as_pg "$PGBIN/pg_ctl" -D "$R/data" -w -t 120 -l "$R/log" -o "-c port=$RPORT -c listen_addresses='' \
    -c unix_socket_directories='$R' -c archive_mode=off -c synchronous_standby_names='' \
    -c hot_standby=on" start >/dev/null 2>&1
stop_restored() { as_pg "$PGBIN/pg_ctl" -D "$R/data" -m immediate stop >/dev/null 2>&1; }
trap 'stop_restored; cluster_cleanup' EXIT
qr() { as_pg psql -h "$R" -p "$RPORT" -U postgres -d wagepay -qAtX -c "$1" 2>>"$T/qr.err"; }
promoted() { [ "$(qr 'SELECT pg_is_in_recovery()')" = f ]; }
check "the restored cluster recovered to the point and was promoted" wait_for 120 promoted
restore_s=$(secs "$t0" "$(now_s)")
grep -q 'recovery stopping before commit' "$R/log" && diag "$(grep -m1 'recovery stopping' "$R/log")"

ledger qr >"$T/ledger.restored"
check_eq "the restored ledger is exactly the ledger at the point" "$(cat "$T/ledger.restored")" "$(cat "$T/ledger.at")"
check_eq "CL-0 and CL-1 paid, 3 lines each, once" \
    "$(qr "SELECT string_agg(s.msg_id || '=' || (SELECT count(*) FROM transfer t WHERE t.sheet_id = s.id AND t.reason = 'WAGE'), ' ' ORDER BY s.msg_id) FROM sheet s WHERE s.msg_id LIKE 'CL-%'")" \
    "CL-0=3 CL-1=3"
check_eq "CL-2 absent" "$(qr "SELECT count(*) FROM sheet WHERE msg_id = 'CL-2'")" 0
check_eq "DP-BEFORE there, DP-AFTER absent" \
    "$(qr "SELECT string_agg(entry_ref, ' ' ORDER BY entry_ref) FROM deposit WHERE entry_ref LIKE 'DP-%'")" DP-BEFORE
check_eq "the restored audit chains verify" "$(qr 'SELECT ok FROM wp_audit_verify()')" t
rmax=$(qr "SELECT max(id) FROM audit")
check "the restored audit trail ends at or after the point's last record" [ "$rmax" -ge "$audit_at" ]
check_eq "and is the live trail's first records, hash for hash" \
    "$(qr "SELECT md5(string_agg(encode(hash, 'hex'), '' ORDER BY id)) FROM audit")" \
    "$(q "SELECT md5(string_agg(encode(hash, 'hex'), '' ORDER BY id)) FROM audit WHERE id <= $rmax")"
# money: the restored sum is the live sum less what came after the point
check_eq "the restored balance (fen) is the live one less CL-2's lines and DP-AFTER" \
    "$(qr "SELECT balance FROM account WHERE number = '$ACCOUNT'")" \
    "$(q "SELECT a.balance + (SELECT sum(t.amount) FROM transfer t JOIN sheet s ON s.id = t.sheet_id WHERE s.msg_id = 'CL-2') - 3000 FROM account a WHERE a.number = '$ACCOUNT'")"
size=$(sed -n 's/.*database size: \([^,]*\),.*/\1/p' "$T/info.out" | head -1)
echo "restore: full backup of $size in ${backup_s} s; restored to $target in ${restore_s} s; $(awk '{print $1 "=" $2}' "$T/ledger.at" | tr '\n' ' ')"
finish
