#!/bin/sh
# Scale-out: two wagepayd instances on one database, the same sheets and
# deposits sent to both at once. No double payment, no overdraft, each held
# sheet released once.
. "$(dirname "$0")/lib.sh"

setup_world || { echo "Bail out! setup failed"; exit 1; }
open_project && roster_demo 40 && deposit DEP-0 30000.00 >/dev/null || { echo "Bail out! seed failed"; exit 1; }

# the second instance: same database, its own ports
CONF1=$CONF; CPORT1=$CPORT; KPORT1=$KPORT; OPORT1=$OPORT; PID1=$DAEMON_PID
write_config
CONF2=$CONF; CPORT2=$CPORT; KPORT2=$KPORT; OPORT2=$OPORT
"$WAGEPAYD" -f "$CONF2" >>"$T/wagepayd2.log" 2>&1 & PID2=$!
for _ in $(seq 1 100); do
	curl -sk -o /dev/null "https://127.0.0.1:$OPORT/healthz" && break; sleep 0.1
done
check "two instances are running" kill -0 "$PID1" "$PID2"
trap 'kill -9 $PID2 2>/dev/null; cleanup' EXIT
CONF=$CONF1; CPORT=$CPORT1; KPORT=$KPORT1; OPORT=$OPORT1

# --- failed console sign-ins count across instances (018) -------------------
signin_at() { # PORT PASSWORD: the HTTP status
	curl -sk -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
	    -d "{\"name\":\"viewer1\",\"password\":\"$2\"}" "https://127.0.0.1:$1/api/session"
}
for i in 1 2 3; do signin_at "$OPORT1" "wrong-$i" >/dev/null; done
for i in 4 5; do signin_at "$OPORT2" "wrong-$i" >/dev/null; done
check_eq "3 failures on one instance and 2 on the other lock the name: 429 on the first" \
    "$(signin_at "$OPORT1" viewer-password-1)" 429
check_eq "and on the second" "$(signin_at "$OPORT2" viewer-password-1)" 429

post_to() { # PORT FILE OUT
	curl -sk -o "$3" -w '%{http_code}' --max-time 30 --cert "$PKI/contractor.pem" \
	    --key "$PKI/contractor.key" --data-binary @"$2" "https://127.0.0.1:$1/v1/sheets" >"$3.code"
}

# --- the same sheet to both at once: one payment, the same answer ------------------
python3 "$TOOLS/mksheet" --demo 3 --msg-id TWIN-1 --sub "$SUB1_USCC" --month 2026-10 --account "$ACCOUNT" >"$T/twin.u.xml"
"$TOOLS/sign-xml" "$PKI/sub1.key" "$PKI/sub1.pem" "$T/twin.u.xml" "$T/twin.xml"
post_to "$CPORT1" "$T/twin.xml" "$T/twin1.xml" & a=$!
post_to "$CPORT2" "$T/twin.xml" "$T/twin2.xml" & b=$!
wait $a $b
check_eq "instance 1 answers ACSC" "$(grpsts "$T/twin1.xml")" ACSC
check_eq "instance 2 answers the same" "$(grpsts "$T/twin2.xml")" ACSC
check_eq "paid once" "$(q "SELECT count(*) FROM transfer t JOIN sheet s ON s.id = t.sheet_id WHERE s.msg_id = 'TWIN-1'")" 3

# --- 16 sheets, more than the balance, split over both at once ------------------
# each pays one worker 2,500.00 WAGE for 2026-10; the account holds about
# 30,000 less the twin sheet, so some must be held, none may overdraw
i=0
while [ $i -lt 16 ]; do
	line "M$i" $((3 + i)) 2500.00 >"$T/m$i.tsv"
	python3 "$TOOLS/mksheet" --msg-id "MANY-$i" --sub "$SUB1_USCC" --month 2026-10 --account "$ACCOUNT" <"$T/m$i.tsv" >"$T/m$i.u.xml"
	"$TOOLS/sign-xml" "$PKI/sub1.key" "$PKI/sub1.pem" "$T/m$i.u.xml" "$T/m$i.xml"
	i=$((i + 1))
done
pids=; i=0
while [ $i -lt 16 ]; do
	if [ $((i % 2)) = 0 ]; then port=$CPORT1; else port=$CPORT2; fi
	post_to "$port" "$T/m$i.xml" "$T/m$i.answer" & pids="$pids $!"
	i=$((i + 1))
done
wait $pids
acsc=0; pdng=0; i=0
while [ $i -lt 16 ]; do
	case "$(grpsts "$T/m$i.answer")" in ACSC) acsc=$((acsc + 1));; PDNG) pdng=$((pdng + 1));; esac
	i=$((i + 1))
done
check_eq "every sheet answered ACSC or PDNG" "$((acsc + pdng))" 16
check "some held: the money did not stretch" [ "$pdng" -gt 0 ]
check "never overdrawn" [ "$(balance)" -ge 0 ]
check_eq "exactly the ACSC sheets paid" "$(q "SELECT count(*) FROM transfer t JOIN sheet s ON s.id = t.sheet_id WHERE s.msg_id LIKE 'MANY-%'")" "$acsc"

# --- the same deposit to both at once: booked once, each held sheet released once ----
cat >"$T/dep.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08">
<BkToCstmrDbtCdtNtfctn><GrpHdr><MsgId>N-TWIN</MsgId><CreDtTm>2026-10-06T09:00:00+08:00</CreDtTm></GrpHdr>
<Ntfctn><Id>NTF-TWIN</Id><CreDtTm>2026-10-06T09:00:00+08:00</CreDtTm>
<Acct><Id><Othr><Id>$ACCOUNT</Id></Othr></Id></Acct>
<Ntry><NtryRef>DEP-TWIN</NtryRef><Amt Ccy="CNY">100000.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
<BookgDt><Dt>2026-10-06</Dt></BookgDt><BkTxCd><Prtry><Cd>DEPOSIT</Cd></Prtry></BkTxCd>
</Ntry></Ntfctn></BkToCstmrDbtCdtNtfctn></Document>
EOF
for port in "$KPORT1" "$KPORT2"; do
	curl -sk -o "$T/dep-$port.ack" --cert "$PKI/core.pem" --key "$PKI/core.key" \
	    --data-binary @"$T/dep.xml" "https://127.0.0.1:$port/v1/core/notifications" & pids="$pids $!"
done
wait $pids
outcomes=$(cat "$T/dep-$KPORT1.ack" "$T/dep-$KPORT2.ack" | grep -o 'outcome="[A-Z]*"' | sort | tr '\n' ' ')
check_eq "one instance booked it, the other saw a duplicate" "$outcomes" 'outcome="APPLIED" outcome="DUPLICATE" '
check_eq "booked once" "$(q "SELECT count(*) FROM transfer WHERE reason = 'DEPOSIT' AND reference = 'DEP-TWIN'")" 1
check_eq "every held sheet released" "$(q "SELECT count(*) FROM sheet WHERE state = 'HELD'")" 0
check_eq "each paid once: 16 MANY lines" "$(q "SELECT count(*) FROM transfer t JOIN sheet s ON s.id = t.sheet_id WHERE s.msg_id LIKE 'MANY-%'")" 16
ledger_exact
kill -TERM "$PID2"
finish
