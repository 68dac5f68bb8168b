#!/bin/sh
# Hostile and broken sheets get a clear status and change nothing: format,
# DOCTYPE and entities, wrong namespace, size, signatures (tampered,
# unsigned, wrong CA, expired, another company's), totals, amounts, TLS.
. "$(dirname "$0")/lib.sh"

EXTRA_CONFIG='[limits]
body_bytes = 2097152'
setup_world || { echo "Bail out! setup failed"; exit 1; }
open_project && roster_demo 10 && deposit DEP-1 50000.00 >/dev/null || { echo "Bail out! seed failed"; exit 1; }
before=$(balance)

rsn() { xval "//*[local-name()='OrgnlGrpInfAndSts']/*[local-name()='StsRsnInf']/*[local-name()='Rsn']/*" "$1"; }
post_file() { gc POST /v1/sheets --data-binary @"$1" -H 'Content-Type: application/xml' >"$T/answer.xml"; }

# expect_refused DESC FILE HTTP CODE: refused with that HTTP status and reason,
# as a valid pain.002 RJCT, and nothing paid.
expect_refused() {
	post_file "$2"
	check_eq "$1: HTTP $3" "$(status)" "$3"
	check_eq "$1: RJCT" "$(grpsts "$T/answer.xml")" RJCT
	check_eq "$1: reason $4" "$(rsn "$T/answer.xml")" "$4"
	check "$1: the answer is a valid pain.002" valid_pain002 "$T/answer.xml"
	check_eq "$1: nothing paid" "$(balance)" "$before"
}

line E1 0 1000.00 >"$T/l1"
sheet good --msg-id GOOD-1 --sub "$SUB1_USCC" --month 2026-10 <"$T/l1"

printf '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.10"><CstmrCdtTrfInitn>' >"$T/broken.xml"
expect_refused "not well-formed XML" "$T/broken.xml" 400 FF01

cat >"$T/laughs.xml" <<'X'
<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.10">&lol3;</Document>
X
expect_refused "billion laughs (DOCTYPE)" "$T/laughs.xml" 400 FF01

cat >"$T/xxe.xml" <<'X'
<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.10"><CstmrCdtTrfInitn>&x;</CstmrCdtTrfInitn></Document>
X
expect_refused "external entity (XXE)" "$T/xxe.xml" 400 FF01
check "XXE: no file content echoed" sh -c "! grep -q 'root:' '$T/answer.xml'"

sed 's/pain.001.001.10/pain.001.001.09/' "$T/good.xml" >"$T/ns.xml"
expect_refused "wrong namespace" "$T/ns.xml" 400 FF01

python3 - "$T/good.xml" "$T/noheader.xml" <<'X'
import re, sys
s = open(sys.argv[1]).read()
open(sys.argv[2], "w").write(re.sub(r"<CreDtTm>[^<]*</CreDtTm>", "", s, count=1))
X
expect_refused "invalid against the official schema" "$T/noheader.xml" 400 FF01

head -c 3000000 /dev/zero | tr '\0' ' ' >"$T/big.xml"
gc POST /v1/sheets --data-binary @"$T/big.xml" >/dev/null
check_eq "body over [limits] body_bytes: 413" "$(status)" 413

# --- signatures ----------------------------------------------------------------
sed 's/>1000.00</>9000.00</g' "$T/good.xml" >"$T/tampered.xml"
expect_refused "amount changed after signing" "$T/tampered.xml" 200 WP31

line E1 0 1000.00 | python3 "$TOOLS/mksheet" --account "$ACCOUNT" --msg-id UNSIGNED-1 --sub "$SUB1_USCC" --month 2026-10 >"$T/unsigned.xml"
expect_refused "unsigned (empty signature template)" "$T/unsigned.xml" 200 WP30
python3 - "$T/unsigned.xml" "$T/nosig.xml" <<'X'
import re, sys
s = open(sys.argv[1]).read()
s = re.sub(r"<SplmtryData>\s*<Envlp>\s*<ds:Signature.*</ds:Signature>\s*</Envlp>\s*</SplmtryData>\s*(</CstmrCdtTrfInitn>)", r"\1", s, flags=re.S)
open(sys.argv[2], "w").write(s)
X
expect_refused "no signature at all" "$T/nosig.xml" 200 WP30

SIGNER=sub1-rogue sheet rogue --msg-id ROGUE-1 --sub "$SUB1_USCC" --month 2026-10 <"$T/l1"
expect_refused "signer from another CA" "$T/rogue.xml" 200 WP32
SIGNER=sub1-expired sheet expired --msg-id EXPIRED-1 --sub "$SUB1_USCC" --month 2026-10 <"$T/l1"
expect_refused "signer certificate expired" "$T/expired.xml" 200 WP32
SIGNER=sub1-revoked sheet revoked --msg-id REVOKED-1 --sub "$SUB1_USCC" --month 2026-10 <"$T/l1"
expect_refused "signer certificate revoked ([signing] subcontractor_crl)" "$T/revoked.xml" 200 WP32
check "the refusal says revoked" grep -q 'revoked' "$T/answer.xml"
SIGNER=sub2 sheet other --ec --msg-id OTHER-1 --sub "$SUB1_USCC" --month 2026-10 <"$T/l1"
expect_refused "signed by another subcontractor than UltmtDbtr" "$T/other.xml" 200 WP33

# --- the profile -----------------------------------------------------------------
sheet sum --msg-id SUM-1 --sub "$SUB1_USCC" --month 2026-10 --ctrl-sum 1000.01 <"$T/l1"
expect_refused "CtrlSum does not match the lines" "$T/sum.xml" 200 FF01
sheet nb --msg-id NB-1 --sub "$SUB1_USCC" --month 2026-10 --nb 2 <"$T/l1"
expect_refused "NbOfTxs does not match the lines" "$T/nb.xml" 200 FF01
python3 "$TOOLS/mksheet" --account "$ACCOUNT" --msg-id DEC3-1 --sub "$SUB1_USCC" --month 2026-10 <"$T/l1" |
    sed 's/>1000.00</>1000.005</g' >"$T/dec3.unsigned.xml"
"$TOOLS/sign-xml" "$PKI/sub1.key" "$PKI/sub1.pem" "$T/dec3.unsigned.xml" "$T/dec3.xml"
expect_refused "an amount with 3 decimals" "$T/dec3.xml" 200 FF01
{ line E1 0 1000.00; line E1 1 1000.00; } >"$T/dup"
sheet dup --msg-id DUP-1 --sub "$SUB1_USCC" --month 2026-10 <"$T/dup"
expect_refused "EndToEndId twice in a sheet" "$T/dup.xml" 200 FF01

# --- identity at the TLS layer -------------------------------------------------------
curl -sk --cert "$PKI/rogue-contractor.pem" --key "$PKI/rogue-contractor.key" \
    --data-binary @"$T/good.xml" "https://127.0.0.1:$CPORT/v1/sheets" -o /dev/null -w '%{http_code}' >"$T/rogue-status" 2>/dev/null
check "client certificate from the wrong CA: no HTTP answer" sh -c "! grep -q '^[1-5]' '$T/rogue-status'"
curl -sk --data-binary @"$T/good.xml" "https://127.0.0.1:$CPORT/v1/sheets" -o /dev/null -w '%{http_code}' >"$T/nocert-status" 2>/dev/null
check "no client certificate: no HTTP answer" sh -c "! grep -q '^[1-5]' '$T/nocert-status'"
check_eq "after all of that, nothing was paid" "$(q "SELECT count(*) FROM transfer WHERE reason = 'WAGE'")" 0
check_eq "and no sheet was recorded" "$(q "SELECT count(*) FROM sheet")" 0

# --- and the good one still pays ------------------------------------------------------
post_file "$T/good.xml"
check_eq "the good sheet: ACSC" "$(grpsts "$T/answer.xml")" ACSC
ledger_exact
finish
