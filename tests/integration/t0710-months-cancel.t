#!/bin/sh
# The months of a sheet's lines judged by the daemon's clock, and a held
# sheet withdrawn by its general contractor (023).
#
# The clock is pinned at 2026-11-10 10:00 China time: the current month is
# 2026-11. A WAGE line for 2026-12 is refused WP07, a BACKPAY line for the
# current month or a later one WP08, a line whose worker confirmed it after
# the clock WP09, each with its code in Rsn/Prtry and the rest of the sheet
# paid. POST /v1/sheets/{MsgId}/cancel withdraws a held sheet: 200 with a
# pain.002 GrpSts CANC (valid against the official schema), audited, the next
# held sheet moving up so that a deposit it could not have passed pays it;
# 409 with the current report for a paid sheet, 403 for a contractor no
# longer the project's, 404 for a MsgId the caller never sent.
. "$(dirname "$0")/lib.sh"

export WAGEPAY_CLOCK=2026-11-10T10:00:00+08:00

setup_world || { echo "Bail out! setup failed"; exit 1; }
check "the project is opened" open_project
check "the roster is accepted" roster_demo 30
deposit DEP-1 1000.00 >/dev/null
check_eq "deposit booked" "$(status)" 200

# rsn FILE E2E: the reason code of a refused line in a pain.002
rsn() {
	xval "//*[local-name()='TxInfAndSts'][*[local-name()='OrgnlEndToEndId']='$2']/*[local-name()='StsRsnInf']/*[local-name()='Rsn']/*" "$1"
}

# --- months -------------------------------------------------------------------
# (the bank profile holds every WAGE line of a sheet to one month)
{ line M1 0 100.00 WAGE/2026-12; line M2 1 100.00 BACKPAY/2026-11
  line M3 2 100.00 BACKPAY/2027-01; line M4 3 100.00 BACKPAY/2026-10; } >"$T/lm"
sheet m1 --msg-id MONTHS-1 --sub "$SUB1_USCC" --month 2026-12 \
    --confirmed 2026-11-09T18:00:00+08:00 <"$T/lm"
submit m1
check_eq "months: HTTP 200" "$(status)" 200
check_eq "months: PART, the BACKPAY of an earlier month paid" "$(grpsts "$T/m1.pain002.xml")" PART
check "months: pain.002 valid against the official schema" valid_pain002 "$T/m1.pain002.xml"
check_eq "WP07: a WAGE line for a month after the current one" "$(rsn "$T/m1.pain002.xml" M1)" WP07
check_eq "WP08: a BACKPAY line for the current month" "$(rsn "$T/m1.pain002.xml" M2)" WP08
check_eq "WP08: a BACKPAY line for a later month" "$(rsn "$T/m1.pain002.xml" M3)" WP08
check_eq "the BACKPAY of an earlier month on site is paid" \
    "$(q "SELECT string_agg(coalesce(l.reason_code, 'ok'), ',' ORDER BY l.seq) FROM sheet_line l JOIN sheet s ON s.id = l.sheet_id WHERE s.msg_id = 'MONTHS-1'")" \
    "WP07,WP08,WP08,ok"
check_eq "the sheet keeps the daemon's clock, not the database's" \
    "$(q "SELECT to_char(wp_cst(clock_at), 'YYYY-MM-DD HH24') FROM sheet WHERE msg_id = 'MONTHS-1'")" \
    "2026-11-10 10"
check_eq "months: 100.00 paid" "$(balance)" 90000
line W1 6 100.00 WAGE/2026-11 >"$T/lw"
sheet m4 --msg-id MONTHS-2 --sub "$SUB1_USCC" --month 2026-11 \
    --confirmed 2026-11-09T18:00:00+08:00 <"$T/lw"
submit m4
check_eq "a WAGE line of the current month is paid" "$(grpsts "$T/m4.pain002.xml")" ACSC

line F1 5 100.00 >"$T/lf"
sheet m2 --msg-id FUTURE-CONF --sub "$SUB1_USCC" --month 2026-10 \
    --confirmed 2026-11-10T12:00:00+08:00 <"$T/lf"
submit m2
check_eq "WP09: a sheet confirmed only after the clock is RJCT" "$(grpsts "$T/m2.pain002.xml")" RJCT
check_eq "WP09: the line's code" "$(rsn "$T/m2.pain002.xml" F1)" WP09
check "WP09: pain.002 valid" valid_pain002 "$T/m2.pain002.xml"
sheet m3 --msg-id FUTURE-CONF-2 --sub "$SUB1_USCC" --month 2026-10 <"$T/lf"
submit m3
check_eq "the worker-month refused as WP09 was not taken: confirmed before, it is paid" \
    "$(grpsts "$T/m3.pain002.xml")" ACSC

# --- a held sheet withdrawn -----------------------------------------------------
bal=$(balance)		# 700.00
{ line H1 10 600.00 WAGE/2026-09; line H2 11 500.00 WAGE/2026-09; } >"$T/lh1"
sheet h1 --msg-id HELD-1 --sub "$SUB1_USCC" --month 2026-09 <"$T/lh1"
submit h1
check_eq "a sheet over the balance is held" "$(grpsts "$T/h1.pain002.xml")" PDNG
line H3 12 750.00 WAGE/2026-09 >"$T/lh2"
sheet h2 --msg-id HELD-2 --sub "$SUB1_USCC" --month 2026-09 <"$T/lh2"
submit h2
check_eq "a second one waits behind it" "$(grpsts "$T/h2.pain002.xml")" PDNG

gc2 POST /v1/sheets/HELD-1/cancel >/dev/null
check_eq "another contractor: no sheet of its own by that MsgId, 404" "$(status)" 404
q "UPDATE project SET contractor_uscc = '$OWNER_USCC' WHERE code = '$PROJECT'" >/dev/null
gc POST /v1/sheets/HELD-1/cancel >"$T/c403"
check_eq "a contractor no longer the project's general contractor: 403" "$(status)" 403
q "UPDATE project SET contractor_uscc = '$GC_USCC' WHERE code = '$PROJECT'" >/dev/null
gc GET /v1/sheets/HELD-1/cancel >/dev/null
check_eq "cancel is a POST" "$(status)" 405
check_eq "the refused cancels left it held" "$(q "SELECT state FROM sheet WHERE msg_id = 'HELD-1'")" HELD

gc POST /v1/sheets/HELD-1/cancel >"$T/cancel1.xml"
check_eq "cancel: HTTP 200" "$(status)" 200
check_eq "cancel: GrpSts CANC" "$(grpsts "$T/cancel1.xml")" CANC
check "cancel: pain.002 valid against the official schema" valid_pain002 "$T/cancel1.xml"
check_eq "cancel: OrgnlMsgId" "$(xval "//*[local-name()='OrgnlMsgId']" "$T/cancel1.xml")" HELD-1
check_eq "cancelled, never paid" \
    "$(q "SELECT state || ' ' || (SELECT count(*) FROM transfer t WHERE t.sheet_id = s.id) FROM sheet s WHERE msg_id = 'HELD-1'")" \
    "CANCELLED 0"
check_eq "audited in the account's chain" \
    "$(q "SELECT count(*) FROM audit WHERE action = 'sheet.cancelled' AND object = 'sheet:HELD-1' AND chain = 'account:$ACCOUNT'")" 1
check_eq "the next held sheet moved up, still short" "$(q "SELECT state FROM sheet WHERE msg_id = 'HELD-2'")" HELD
check_eq "the balance untouched" "$(balance)" "$bal"
deposit DEP-2 60.00 >/dev/null
check_eq "a deposit that would not have passed the cancelled sheet pays it" \
    "$(q "SELECT state FROM sheet WHERE msg_id = 'HELD-2'")" PAID
check_eq "the balance: 700.00 + 60.00 - 750.00" "$(balance)" 1000
gc GET /v1/sheets/HELD-2 >"$T/get2.xml"
check_eq "its report: ACSC" "$(grpsts "$T/get2.xml")" ACSC

gc POST /v1/sheets/HELD-2/cancel >"$T/cancel2.xml"
check_eq "a paid sheet cannot be cancelled: 409" "$(status)" 409
check_eq "409 carries its current report: ACSC" "$(grpsts "$T/cancel2.xml")" ACSC
check "the 409 report is a valid pain.002" valid_pain002 "$T/cancel2.xml"
gc POST /v1/sheets/FUTURE-CONF/cancel >"$T/cancel3.xml"
check_eq "nor a refused one: 409 with RJCT" "$(status) $(grpsts "$T/cancel3.xml")" "409 RJCT"
gc POST /v1/sheets/HELD-1/cancel >"$T/cancel4.xml"
check_eq "a cancel repeated: 200, CANC again" "$(status) $(grpsts "$T/cancel4.xml")" "200 CANC"
check_eq "and not audited twice" "$(q "SELECT count(*) FROM audit WHERE action = 'sheet.cancelled'")" 1
gc GET /v1/sheets/HELD-1 >"$T/get1.xml"
check_eq "GET reports the cancelled sheet: CANC" "$(grpsts "$T/get1.xml")" CANC
gc POST /v1/sheets/NO-SUCH/cancel >/dev/null
check_eq "an unknown MsgId: 404" "$(status)" 404
gc GET /v1/sheets/HELD-1/voucher >/dev/null
check_eq "no voucher for a cancelled sheet" "$(status)" 404

ledger_exact
finish
