#!/bin/sh
# A large sheet, read as a stream (proto/sheetstream.c): 20,000 lines are
# decided in one transaction and paid whole, while the daemon's peak memory
# grows by a fraction of what the sheet as one tree would take (about 14 KB
# a line, 270 MB here); the same sheet with one digit changed is refused
# for its signature (WP31) and pays nothing.
. "$(dirname "$0")/lib.sh"

N=20000
hwm() { sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$DAEMON_PID/status"; }
rss() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$DAEMON_PID/status"; }

setup_world || { echo "Bail out! setup failed"; exit 1; }
check "a maker proposes and a checker approves the project" open_project
check "a roster of $((2 * N)) workers is accepted" roster_demo $((2 * N))
deposit DEP-BIG 500000000.00 >/dev/null
check_eq "deposit booked" "$(status)" 200
# a fresh process, so that its peak memory is the sheets' alone (reading
# the roster, a tree of 16 MB, has its own)
daemon_stop && daemon_start
before=$(hwm)
# sheets over 8 MiB are read on a thread of their own at nice 10: the
# 19th field of /proc/PID/task/TID/stat (the 17th after the command name)
thread_nices() { for f in /proc/$DAEMON_PID/task/*/stat; do sed 's/.*) //' "$f" | cut -d' ' -f17; done; }
check_eq "one daemon thread runs at nice 10 (the bulk worker)" "$(thread_nices | grep -c '^10$')" 1
check_eq "every other thread at nice 0" "$(thread_nices | grep -c '^0$')" "$(thread_nices | grep -vc '^10$')"

python3 "$TOOLS/mksheet" --account "$ACCOUNT" --demo "$N" --msg-id BIG-1 \
    --month 2026-10 >"$T/big.unsigned.xml"
"$TOOLS/sign-xml" "$PKI/sub1.key" "$PKI/sub1.pem" "$T/big.unsigned.xml" "$T/big.xml"
diag "the sheet: $(wc -c <"$T/big.xml") bytes, $N lines"

# one digit of one amount in the middle changed, signature left as it was
awk -v n=$((N / 2)) '/<InstdAmt/ { if (++k == n) sub(/[0-9]\./, "9.") } { print }' \
    "$T/big.xml" >"$T/tampered.xml"
check "the tampered copy differs" sh -c "! cmp -s '$T/big.xml' '$T/tampered.xml'"
submit tampered
check_eq "tampered: HTTP 200" "$(status)" 200
check_eq "tampered: RJCT" "$(grpsts "$T/tampered.pain002.xml")" RJCT
check "tampered: WP31, changed after signing" grep -q "WP31" "$T/tampered.pain002.xml"
check_eq "tampered: nothing paid" "$(q "SELECT count(*) FROM transfer WHERE reason = 'WAGE'")" 0

submit big
after=$(hwm)
check_eq "$N lines: HTTP 200" "$(status)" 200
check_eq "$N lines: ACSC" "$(grpsts "$T/big.pain002.xml")" ACSC
check "$N lines: pain.002 valid against the official schema" valid_pain002 "$T/big.pain002.xml"
check_eq "$N wage transfers" "$(q "SELECT count(*) FROM transfer WHERE reason = 'WAGE'")" "$N"
check_eq "the sheet's total left the account" \
    "$(q "SELECT 50000000000 - sum(amount) FROM transfer WHERE reason = 'WAGE'")" "$(balance)"
diag "daemon peak RSS before $before kB, after $after kB; RSS now $(rss) kB"
# under AddressSanitizer (make test-asan) freed memory is held in quarantine
# and every allocation carries red zones: the figures mean nothing there
if ldd "$WAGEPAYD" 2>/dev/null | grep -q libasan; then
	diag "memory checks skipped: the daemon is an AddressSanitizer build"
else
	check "peak RSS over both sheets grew by less than 120 MB (as one tree: about 270 MB)" \
	    [ $((after - before)) -lt 122880 ]
	check "then RSS is back within 20 MB of where it started (freed memory given back)" \
	    [ $(($(rss) - before)) -lt 20480 ]
fi
submit big
check_eq "replay: still ACSC" "$(grpsts "$T/big.pain002.xml")" ACSC
check_eq "replay: nothing paid again" "$(q "SELECT count(*) FROM transfer WHERE reason = 'WAGE'")" "$N"
ledger_exact
finish
