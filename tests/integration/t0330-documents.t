#!/bin/sh
# The contractor's documents: the payment voucher of a paid sheet
# (GET /v1/sheets/{MsgId}/voucher: signed by the bank, valid against
# proto/xsd/voucher.xsd, IDs and cards masked, what was paid and not
# returned) and the account statement (GET /v1/accounts/{account}/statement:
# camt.053.001.08 valid against the official schema, balances that agree
# with the ledger), each for the project's general contractor only.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/t03-lib.sh"

export WAGEPAY_RULES_INTERVAL=3600
setup_world || { echo "Bail out! setup failed"; exit 1; }
check "the project is opened" open_project
check "the roster is accepted" roster_demo 4
deposit DEP-1 20000.00 >/dev/null

{ line E1 0 3000.00; line E2 1 2500.50; } >"$T/l1"
pay s1 SHEET-1 2026-10 1 <"$T/l1"
check_eq "a sheet is paid" "$(grpsts "$T/s1.pain002.xml")" ACSC

# --- the voucher -----------------------------------------------------------------------
gc GET /v1/sheets/SHEET-1/voucher >"$T/v1.xml"
check_eq "voucher: 200" "$(status)" 200
check "voucher: valid against voucher.xsd" sh -c "xmllint --noout --schema '$TOP/proto/xsd/voucher.xsd' '$T/v1.xml' 2>/dev/null"
check "voucher: signed by the bank (xmlsec1 --verify against the bank's CA)" sh -c "xmlsec1 --verify --trusted-pem '$PKI/ca.pem' --enabled-reference-uris empty '$T/v1.xml' >/dev/null 2>&1"
sed 's|<Amount>3000.00</Amount>|<Amount>3900.00</Amount>|' "$T/v1.xml" >"$T/v1-forged.xml"
check "voucher: a changed amount no longer verifies" sh -c "! xmlsec1 --verify --trusted-pem '$PKI/ca.pem' --enabled-reference-uris empty '$T/v1-forged.xml' >/dev/null 2>&1"
check_eq "voucher: two lines" "$(xval "//*[local-name()='Count']" "$T/v1.xml")" 2
check_eq "voucher: total 5500.50" "$(xval "//*[local-name()='Total']" "$T/v1.xml")" 5500.50
check_eq "voucher: the subcontractor" "$(xval "//*[local-name()='Subcontractor']" "$T/v1.xml")" "$SUB1_USCC"
check_eq "voucher: the worker's name" "$(xval "//*[local-name()='Line'][1]/*[local-name()='Name']" "$T/v1.xml")" "$(worker 0 name)"
id0=$(worker 0 id); card0=$(worker 0 card)
check_eq "voucher: the ID number masked" "$(xval "//*[local-name()='Line'][1]/*[local-name()='IdNumber']" "$T/v1.xml")" "$(echo "$id0" | cut -c1-4)**********$(echo "$id0" | cut -c15-18)"
check "voucher: no full ID number or card anywhere" sh -c "! grep -q -e '$id0' -e '$card0' -e '$(worker 1 id)' -e '$(worker 1 card)' '$T/v1.xml'"
gc GET /v1/sheets/NO-SUCH/voucher >/dev/null
check_eq "voucher of an unknown sheet: 404" "$(status)" 404
gc2 GET /v1/sheets/SHEET-1/voucher >/dev/null
check_eq "voucher of another contractor's sheet: 404" "$(status)" 404
line2 H1 0 90000.00 >"$T/l2"
pay s2 SHEET-HELD 2026-10 2 <"$T/l2"
gc GET /v1/sheets/SHEET-HELD/voucher >/dev/null
check_eq "voucher of a held sheet: 404 (not paid)" "$(status)" 404
gc POST /v1/sheets/SHEET-1/voucher >/dev/null
check_eq "voucher by POST: 405" "$(status)" 405
wage_return RET-1 E1 3000.00 AC04 >/dev/null
gc GET /v1/sheets/SHEET-1/voucher >"$T/v2.xml"
check_eq "after a line came back the voucher lists what stayed paid" "$(xval "//*[local-name()='Count']" "$T/v2.xml") $(xval "//*[local-name()='Total']" "$T/v2.xml")" "1 2500.50"

# --- the statement ---------------------------------------------------------------------
today=$(q "SELECT wp_cst(now())::date")
yesterday=$(q "SELECT wp_cst(now())::date - 1")
tomorrow=$(q "SELECT wp_cst(now())::date + 1")
gc GET "/v1/accounts/$ACCOUNT/statement?from=$yesterday&to=$today" >"$T/st.xml"
check_eq "statement: 200" "$(status)" 200
check "statement: valid against the official camt.053.001.08 schema" sh -c "xmllint --noout --schema '$ISO/camt.053.001.08.xsd' '$T/st.xml' 2>/dev/null"
S="//*[local-name()='Stmt']"
bal() { xval "$S/*[local-name()='Bal'][*[local-name()='Tp']//*[local-name()='Cd']='$1']/*[local-name()='Amt']" "$T/st.xml"; }
check_eq "statement: opening balance 0.00 (the account is new)" "$(bal OPBD)" 0.00
check_eq "statement: closing balance is the account's" "$(bal CLBD)" "$(q "SELECT wp_yuan(balance) FROM account WHERE number = '$ACCOUNT'")"
check_eq "statement: one entry per transfer" "$(xmllint --xpath "count($S/*[local-name()='Ntry'])" "$T/st.xml")" "$(q "SELECT count(*) FROM transfer t JOIN account a ON a.id IN (t.debit_account, t.credit_account) WHERE a.number = '$ACCOUNT'")"
check_eq "statement: the deposit, with its payer" "$(xval "$S/*[local-name()='Ntry'][*[local-name()='NtryRef']='DEP-1']//*[local-name()='Dbtr']//*[local-name()='Nm']" "$T/st.xml")" "$OWNER_NAME"
check_eq "statement: a wage line, with its EndToEndId and month" "$(xval "$S/*[local-name()='Ntry'][.//*[local-name()='EndToEndId']='E2'][*[local-name()='CdtDbtInd']='DBIT']//*[local-name()='Ustrd']" "$T/st.xml")" WAGE/2026-10
check_eq "statement: the return, with its reason" "$(xval "$S/*[local-name()='Ntry'][*[local-name()='NtryRef']='RET-1']//*[local-name()='RtrInf']//*[local-name()='Cd']" "$T/st.xml")" AC04
check_eq "statement: debits total the two wages paid" "$(xval "$S/*[local-name()='TxsSummry']/*[local-name()='TtlDbtNtries']/*[local-name()='Sum']" "$T/st.xml")" 5500.50
gc GET "/v1/accounts/$ACCOUNT/statement?from=$tomorrow&to=$tomorrow" >"$T/st2.xml"
check_eq "a later period: no entries, opening = closing = the balance" "$(xmllint --xpath "count(//*[local-name()='Ntry'])" "$T/st2.xml") $(xval "//*[local-name()='Bal'][1]/*[local-name()='Amt']" "$T/st2.xml")" "0 $(q "SELECT wp_yuan(balance) FROM account WHERE number = '$ACCOUNT'")"
gc GET "/v1/accounts/$ACCOUNT/statement" >"$T/st3.xml"
check_eq "without a period: this month so far" "$(status) $(xmllint --xpath "count(//*[local-name()='Ntry'])" "$T/st3.xml")" "200 $(xmllint --xpath "count(//*[local-name()='Ntry'])" "$T/st.xml")"
gc2 GET "/v1/accounts/$ACCOUNT/statement" >/dev/null
check_eq "another contractor: 403" "$(status)" 403
gc GET "/v1/accounts/6228480000000099999/statement" >/dev/null
check_eq "an unknown account: 403, like another's" "$(status)" 403
gc GET "/v1/accounts/$ACCOUNT/statement?from=2026-02-30&to=2026-03-01" >/dev/null
check_eq "a date that does not exist: 400" "$(status)" 400
gc GET "/v1/accounts/$ACCOUNT/statement?from=2026-03-02&to=2026-03-01" >/dev/null
check_eq "a period that runs backwards: 400" "$(status)" 400
gc GET "/v1/accounts/$ACCOUNT/statement?from=2024-01-01&to=2026-03-01" >/dev/null
check_eq "a period longer than a year: 400" "$(status)" 400
ledger_exact
finish
