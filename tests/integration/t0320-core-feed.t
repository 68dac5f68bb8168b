#!/bin/sh
# The rest of the core feed leaves the ledger exact: returned wage payments
# come back to the dedicated account earmarked for their worker and month
# (no other sheet may spend them; a BACKPAY line for that worker and month
# releases them); non-wage debits are refused, recorded, and raised as
# MISUSE_ATTEMPT; legal orders are refused whole unless for the project's
# wages, and then applied up to the balance less what other orders keep
# frozen (a FREEZE kept against other orders while sheets may spend it, an
# UNFREEZE lifting it by its OrderNo, WP46 naming none), every answer with
# the account's legal status, every order reported: LEGAL_ORDER_APPLIED or
# SEIZURE_REFUSED.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/t03-lib.sh"

EXTRA_CONFIG=$(regulator_section hrss 4101 hrss)
export WAGEPAY_ALERT_POLL_MS=200 WAGEPAY_RULES_INTERVAL=3600
# "now" for the wages owed in the legal orders' answers: 2026-11 (plan
# 1,000,000.00), September's pay day passed
export WAGEPAY_CLOCK=2026-11-10T10:00:00+08:00
fr_start hrss || { echo "Bail out! regulator"; exit 1; }
setup_world || { echo "Bail out! setup failed"; exit 1; }
check "the project is opened" open_project
check "the roster is accepted" roster_demo 4
deposit DEP-1 20000.00 >/dev/null

outcome() { xval '/*/@outcome' "$T/body"; }
code() { xval '/*/@code' "$T/body"; }
earmarked() { q "SELECT earmarked FROM account WHERE number = '$ACCOUNT'"; }
transfers() { q "SELECT count(*) FROM transfer"; }
earmark_exact() {
	check_eq "$1: earmarked equals what is left of the returns" \
	    "$(q "SELECT a.earmarked = coalesce((SELECT sum(remaining) FROM line_earmark e WHERE e.account_id = a.id), 0) FROM account a WHERE a.number = '$ACCOUNT'")" t
}

{ line E1 0 3000.00; line E2 1 2500.00; } >"$T/l1"
pay s1 SHEET-1 2026-10 1 <"$T/l1"
check_eq "a sheet pays workers 0 and 1" "$(grpsts "$T/s1.pain002.xml")" ACSC
check_eq "balance 20000.00 - 5500.00" "$(balance)" 1450000

# --- a returned wage payment ------------------------------------------------------
wage_return RET-1 E1 3000.00 AC04 >/dev/null
check_eq "return: APPLIED" "$(outcome)" APPLIED
check_eq "return: the money is back on the account" "$(balance)" 1750000
check_eq "return: and earmarked" "$(earmarked)" 300000
check_eq "return: from the bank's outgoing clearing account" "$(q "SELECT count(*) FROM transfer t JOIN account a ON a.id = t.debit_account WHERE t.reason = 'RETURN' AND a.kind = 'CLEARING_OUT' AND t.amount = 300000")" 1
check_eq "return: the line shows as returned, with the reason" "$(q "SELECT state || ' ' || reason_code FROM sheet_line_state WHERE msg_id = 'SHEET-1' AND end_to_end_id = 'E1'")" "RETURNED AC04"
check_eq "return: the other line stays paid" "$(q "SELECT state FROM sheet_line_state WHERE msg_id = 'SHEET-1' AND end_to_end_id = 'E2'")" PAID
n=$(transfers)
wage_return RET-1 E1 3000.00 AC04 >/dev/null
check_eq "return replayed: DUPLICATE" "$(outcome)" DUPLICATE
check_eq "return replayed: nothing booked" "$(transfers)" "$n"
wage_return RET-1 E1 3100.00 AC04 >/dev/null
check_eq "the same NtryRef with another amount: DU01" "$(code)" DU01
wage_return RET-2 E1 3000.00 AC04 >/dev/null
check_eq "a line that already came back matches nothing: WP41" "$(code)" WP41
wage_return RET-3 NO-SUCH-E2E 3000.00 >/dev/null
check_eq "an unknown EndToEndId: WP41" "$(code)" WP41
wage_return RET-4 E2 2000.00 >/dev/null
check_eq "an amount other than the line's: WP42" "$(code)" WP42
check_eq "the refused returns booked nothing" "$(transfers)" "$n"
check_eq "balance unchanged by them" "$(balance)" 1750000
# all or nothing: a good deposit and a bad return in one notification
cat >"$T/mixed.xml" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08">
<BkToCstmrDbtCdtNtfctn><GrpHdr><MsgId>N-MIXED</MsgId><CreDtTm>2026-11-02T09:00:00+08:00</CreDtTm></GrpHdr>
<Ntfctn><Id>NTF-MIXED</Id><CreDtTm>2026-11-02T09:00:00+08:00</CreDtTm>
<Acct><Id><Othr><Id>$ACCOUNT</Id></Othr></Id></Acct>
<Ntry><NtryRef>DEP-MIXED</NtryRef><Amt Ccy="CNY">100.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>2026-11-02</Dt></BookgDt><BkTxCd/></Ntry>
<Ntry><NtryRef>RET-MIXED</NtryRef><Amt Ccy="CNY">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>2026-11-02</Dt></BookgDt><BkTxCd/>
<NtryDtls><TxDtls><Refs><EndToEndId>NOPE</EndToEndId></Refs><RtrInf><Rsn><Cd>AC04</Cd></Rsn></RtrInf></TxDtls></NtryDtls></Ntry>
</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>
XML
core_xml /v1/core/notifications "$T/mixed.xml" >/dev/null
check_eq "a deposit beside a bad return: the whole notification refused" "$(outcome) $(code)" "REFUSED WP41"
check_eq "and the deposit was not booked" "$(q "SELECT count(*) FROM deposit WHERE entry_ref = 'DEP-MIXED'")" 0
earmark_exact "after the return"

# --- the earmark is spent only by that worker's BACKPAY -----------------------------
# free balance: 17500.00 - 3000.00 earmarked = 14500.00
line2 X1 0 15000.00 >"$T/l2"
pay s2 SHEET-2 2026-10 2 <"$T/l2"
check_eq "a sheet of 15000.00 is held although the balance is 17500.00" "$(grpsts "$T/s2.pain002.xml")" PDNG
check_eq "BALANCE_SHORT counts the earmark out (Balance is the free 14500.00)" "$(q "SELECT balance || ' ' || required || ' ' || shortfall FROM alert WHERE kind = 'BALANCE_SHORT' AND msg_id = 'SHEET-2'")" "1450000 1500000 50000"
line B1 0 3000.00 BACKPAY/2026-10 >"$T/l3"
pay s3 SHEET-3 2026-10 1 <"$T/l3"
check_eq "the worker's BACKPAY/2026-10 is paid from the earmark, ahead of the held sheet" "$(grpsts "$T/s3.pain002.xml")" ACSC
check_eq "the earmark is released" "$(earmarked)" 0
check_eq "by that line" "$(q "SELECT e.entry_ref || ' ' || e.amount || ' ' || l.end_to_end_id FROM earmark_release e JOIN sheet_line l ON l.sheet_id = e.sheet_id AND l.seq = e.line_seq")" "RET-1 300000 B1"
check_eq "balance 17500.00 - 3000.00" "$(balance)" 1450000
gc GET /v1/sheets/SHEET-2 >"$T/get2.xml"
check_eq "the other sheet is still held: the free balance did not grow" "$(grpsts "$T/get2.xml")" PDNG
deposit DEP-2 600.00 >/dev/null
gc GET /v1/sheets/SHEET-2 >"$T/get2.xml"
check_eq "a deposit of 600.00 pays it" "$(grpsts "$T/get2.xml")" ACSC
check_eq "balance 14500.00 + 600.00 - 15000.00" "$(balance)" 10000
earmark_exact "after the BACKPAY"
# a BACKPAY larger than the earmark takes the rest from the free balance
wage_return RET-5 E2 2500.00 BE01 >/dev/null
check_eq "another line comes back" "$(earmarked)" 250000
line B2 1 2600.00 BACKPAY/2026-10 >"$T/l4"
pay s4 SHEET-4 2026-10 1 <"$T/l4"
check_eq "BACKPAY of 2600.00 against an earmark of 2500.00 and 100.00 free: paid" "$(grpsts "$T/s4.pain002.xml")" ACSC
check_eq "earmark released, free balance spent" "$(balance) $(earmarked)" "0 0"
earmark_exact "after a BACKPAY above the earmark"

# --- debit requests -----------------------------------------------------------------
deposit DEP-3 50000.00 >/dev/null
before=$(balance); n=$(transfers)
debit_request DR-1 1200.00 >/dev/null
check_eq "a debit of the dedicated account: REFUSED AG01" "$(outcome) $(code)" "REFUSED AG01"
check_eq "HTTP 200: the request was read and decided" "$(status)" 200
check_eq "recorded" "$(q "SELECT amount || ' ' || code || ' ' || purpose FROM debit_request WHERE ref = 'DR-1'")" "120000 AG01 材料款"
check_eq "MISUSE_ATTEMPT raised with the amount" "$(q "SELECT required FROM alert WHERE kind = 'MISUSE_ATTEMPT' AND msg_id = 'DR-1'")" 120000
check_eq "nothing moved" "$(balance) $(transfers)" "$before $n"
debit_request DR-1 1200.00 >/dev/null
check_eq "replayed: the same answer" "$(outcome) $(code)" "REFUSED AG01"
check_eq "replayed: no second alert" "$(q "SELECT count(*) FROM alert WHERE msg_id = 'DR-1'")" 1
debit_request DR-1 9.99 >/dev/null
check_eq "the same Ref for another debit: DU01" "$(code)" DU01
debit_request DR-2 1.00 9999000011112222 >/dev/null
check_eq "an account that is not a dedicated one: AC01" "$(code)" AC01
check_eq "recorded too, with no alert (no project)" "$(q "SELECT count(*) FROM debit_request WHERE ref = 'DR-2'") $(q "SELECT count(*) FROM alert WHERE msg_id = 'DR-2'")" "1 0"
printf '<?xml version="1.0"?>\n<DebitRequest xmlns="urn:wagepay:core:1"><Ref>X</Ref></DebitRequest>\n' >"$T/bad.xml"
core_xml /v1/core/debit-requests "$T/bad.xml" >/dev/null
check_eq "a request the schema refuses: 400 FF01" "$(status) $(code)" "400 FF01"

# --- legal orders ---------------------------------------------------------------------
# 003 三(五): only for the project's wages, and then up to the balance less
# what other orders keep frozen (the wages owed bound manual movements, not
# the workers' own enforcement). Balance 50000.00, nothing earmarked.
bal=$(balance)
legal_order LO-1 FREEZE 10000.00 OTHER >/dev/null
check_eq "a freeze for something else than wages: REFUSED WP44" "$(outcome) $(code)" "REFUSED WP44"
check "the answer carries the account's legal status" grep -q "dedicated wage account of project $PROJECT: only for its wages" "$T/body"
check "and what a wages order may take" grep -q "a wages order may take 50000.00; wages owed" "$T/body"
check_eq "the record has the wages owed with the arrears (2026-03..09) and the month's plan" "$(q "SELECT owed FROM legal_order WHERE ref = 'LO-1'")" 800000000
check_eq "and the alert's Detail" "$(q "SELECT detail LIKE '%arrears 7000000.00%' FROM alert WHERE msg_id = 'LO-1'")" t
check_eq "SEIZURE_REFUSED raised" "$(q "SELECT required || ' ' || shortfall FROM alert WHERE kind = 'SEIZURE_REFUSED' AND msg_id = 'LO-1'")" "1000000 1000000"
check_eq "nothing frozen, nothing moved" "$(balance) $(q "SELECT attached FROM legal_order WHERE ref = 'LO-1'")" "$bal 0"
legal_order LO-2 DEDUCT 10000.00 WAGES >/dev/null
check_eq "a deduction for wages while the balance is below the wages owed: APPLIED (the workers' own enforcement)" "$(outcome) $(code)" "APPLIED "
check_eq "the amount moved to the attached account" "$(q "SELECT t.amount FROM transfer t JOIN account a ON a.id = t.credit_account WHERE t.reason = 'ATTACHMENT' AND a.kind = 'ATTACHED' AND t.reference = 'LO-2'")" 1000000
check_eq "LEGAL_ORDER_APPLIED raised, no SEIZURE_REFUSED" "$(q "SELECT kind || ' ' || required || ' ' || shortfall FROM alert WHERE msg_id = 'LO-2'")" "LEGAL_ORDER_APPLIED 1000000 0"
check_eq "balance lowered by it" "$(balance)" $((bal - 1000000))
deposit DEP-4 1500000.00 >/dev/null
# balance now 40000.00 + 1,500,000.00 = 1,540,000.00
legal_order LO-3 FREEZE 500000.00 WAGES >/dev/null
check_eq "a wages freeze: APPLIED" "$(outcome) $(code)" "APPLIED "
check_eq "it moves no money" "$(balance) $(q "SELECT count(*) FROM transfer WHERE reference = 'LO-3'")" "154000000 0"
legal_order LO-4 SEIZE 2000000.00 WAGES >/dev/null
check_eq "a seizure under another order beyond what is not frozen: APPLIED to that, WP45" "$(outcome) $(code)" "APPLIED WP45"
check_eq "1,040,000.00 attached, 960,000.00 not applied" "$(q "SELECT attached FROM legal_order WHERE ref = 'LO-4'") $(q "SELECT shortfall FROM alert WHERE kind = 'LEGAL_ORDER_APPLIED' AND msg_id = 'LO-4'")" "104000000 96000000"
check_eq "what is left is exactly the frozen amount" "$(balance)" 50000000
legal_order LO-5 DEDUCT 1.00 WAGES >/dev/null
check_eq "another order finds only frozen money: REFUSED WP45" "$(outcome) $(code)" "REFUSED WP45"
check_eq "SEIZURE_REFUSED for it" "$(q "SELECT count(*) FROM alert WHERE kind = 'SEIZURE_REFUSED' AND msg_id = 'LO-5'")" 1
line2 E3 1 1000.00 >"$T/l5"
pay s5 SHEET-5 2026-10 2 <"$T/l5"
check_eq "a sheet paying the project's workers may spend frozen money" "$(grpsts "$T/s5.pain002.xml")" ACSC
check_eq "balance 500,000.00 - 1,000.00" "$(balance)" 49900000
legal_order LO-6 UNFREEZE 500000.00 WAGES LO-3 >/dev/null
check_eq "an UNFREEZE with the freeze's OrderNo: APPLIED" "$(outcome) $(code)" "APPLIED "
check_eq "it lifts the freeze and moves no money" "$(q "SELECT unfrozen FROM legal_order WHERE ref = 'LO-6'") $(balance)" "50000000 49900000"
check_eq "LEGAL_ORDER_APPLIED for the UNFREEZE" "$(q "SELECT count(*) FROM alert WHERE kind = 'LEGAL_ORDER_APPLIED' AND msg_id = 'LO-6'")" 1
legal_order LO-7 UNFREEZE 100.00 WAGES NO-SUCH >/dev/null
check_eq "an UNFREEZE naming no freeze: REFUSED WP46" "$(outcome) $(code)" "REFUSED WP46"
check_eq "SEIZURE_REFUSED for it" "$(q "SELECT count(*) FROM alert WHERE kind = 'SEIZURE_REFUSED' AND msg_id = 'LO-7'")" 1
n=$(transfers)
legal_order LO-4 SEIZE 2000000.00 WAGES >/dev/null
check_eq "an order replayed: DUPLICATE, nothing attached again" "$(outcome) $(transfers)" "DUPLICATE $n"
check_eq "nor reported again" "$(q "SELECT count(*) FROM alert WHERE msg_id = 'LO-4'")" 1
legal_order LO-4 SEIZE 1.00 WAGES >/dev/null
check_eq "the same Ref for another order: DU01" "$(code)" DU01
check_eq "every order recorded" "$(q "SELECT string_agg(ref || ':' || kind || ':' || outcome || ':' || coalesce(code, '-'), ' ' ORDER BY ref) FROM legal_order")" "LO-1:FREEZE:REFUSED:WP44 LO-2:DEDUCT:APPLIED:- LO-3:FREEZE:APPLIED:- LO-4:SEIZE:APPLIED:WP45 LO-5:DEDUCT:REFUSED:WP45 LO-6:UNFREEZE:APPLIED:- LO-7:UNFREEZE:REFUSED:WP46"
check_eq "every order reported once: applied ones as LEGAL_ORDER_APPLIED, refused ones as SEIZURE_REFUSED" "$(q "SELECT string_agg(msg_id || ':' || kind, ' ' ORDER BY msg_id) FROM alert WHERE msg_id LIKE 'LO-%'")" "LO-1:SEIZURE_REFUSED LO-2:LEGAL_ORDER_APPLIED LO-3:LEGAL_ORDER_APPLIED LO-4:LEGAL_ORDER_APPLIED LO-5:SEIZURE_REFUSED LO-6:LEGAL_ORDER_APPLIED LO-7:SEIZURE_REFUSED"
lo1=$(q "SELECT id FROM alert WHERE msg_id = 'LO-1'")
check "the regulator receives SEIZURE_REFUSED" wait_for 10 sh -c "grep -q '$lo1 ' '$T/reg-hrss/log'"
f=$(fr_file hrss "$lo1")
check "it verifies and is valid" alert_ok "$f"
check "its Detail has the order and the legal status" sh -c "grep -q 'FREEZE order' '$f' && grep -q 'only for its wages' '$f' && grep -q 'arrears' '$f'"
lo2=$(q "SELECT id FROM alert WHERE msg_id = 'LO-2'")
check "the regulator receives LEGAL_ORDER_APPLIED" wait_for 10 sh -c "grep -q '$lo2 ' '$T/reg-hrss/log'"
f=$(fr_file hrss "$lo2")
check "it verifies and is valid" alert_ok "$f"
check "its Kind and Detail say what was applied" sh -c "grep -q '<Kind>LEGAL_ORDER_APPLIED</Kind>' '$f' && grep -q 'DEDUCT order' '$f' && grep -q 'moved to the court' '$f'"
check "every alert the regulator received verifies and is valid" wait_for 10 every_alert_ok hrss

# --- the audit trail: the feed's records are in the account's chain (011) ----------
check_eq "deposits, returns, refused debits and legal orders are in the account's chain" \
    "$(q "SELECT string_agg(DISTINCT action || '@' || chain, ' ' ORDER BY action || '@' || chain) FROM audit WHERE actor = 'core' AND object NOT LIKE 'account:9999%'")" \
    "$(for a in debit.refused deposit.booked legal_order.applied legal_order.refused sheet.paid wage.returned; do printf '%s@account:%s ' "$a" "$ACCOUNT"; done | sed 's/ $//')"
check_eq "a debit of an account that is not a dedicated one is in 'global'" \
    "$(q "SELECT chain FROM audit WHERE action = 'debit.refused' AND object LIKE 'account:9999%'")" global
check_eq "every chain verifies" "$(q "SELECT ok || ' ' || chains FROM wp_audit_verify()")" "true 2"

earmark_exact "at the end"
check_eq "the attached account holds what was attached" "$(q "SELECT coalesce(sum(amount), 0) FROM transfer t JOIN account a ON a.id = t.credit_account WHERE a.kind = 'ATTACHED'")" 105000000
ledger_exact
finish
