#!/bin/sh
# The real-name roster: upload with every refusal API.md lists, upsert by ID
# number, one person one card (with its alert), every version kept with the
# certificate that sent it, a changed card raising CARD_CHANGED once, the
# console's card history, read back, and identity.
. "$(dirname "$0")/lib.sh"

setup_world || { echo "Bail out! setup failed"; exit 1; }
open_project || { echo "Bail out! could not open the project"; exit 1; }

id() { python3 "$TOOLS/wpids.py" id "$1"; }
card() { python3 "$TOOLS/wpids.py" card "$1"; }
bad_check() { # the same value with its last digit changed
	python3 -c 'import sys; s=sys.argv[1]; c="0" if s[-1] != "0" else "1"; print(s[:-1]+c)' "$1"
}
BANK=102100099996
GOOD1=$(id 11); GOOD2=$(id 12); GOOD3=$(id 13)
{
	printf '%s\t张三\t%s\t%s\t%s\t2026-03-01\t2026-03-02\n' "$GOOD1" "$SUB1_USCC" "$(card 11)" "$BANK"
	printf '%s\t李四\t%s\t%s\t%s\t2026-03-01\t2026-03-02\t2026-09-30\n' "$GOOD2" "$SUB2_USCC" "$(card 12)" "$BANK"
	printf '%s\t坏号\t%s\t%s\t%s\t2026-03-01\t2026-03-02\n' "$(bad_check "$(id 14)")" "$SUB1_USCC" "$(card 14)" "$BANK"
	printf '%s\t坏卡\t%s\t%s\t%s\t2026-03-01\t2026-03-02\n' "$(id 15)" "$SUB1_USCC" "$(bad_check "$(card 15)")" "$BANK"
	printf '%s\t外人\t%s\t%s\t%s\t2026-03-01\t2026-03-02\n' "$(id 16)" "$(python3 "$TOOLS/wpids.py" uscc 999)" "$(card 16)" "$BANK"
	printf '%s\t后签\t%s\t%s\t%s\t2026-03-05\t2026-03-02\n' "$(id 17)" "$SUB1_USCC" "$(card 17)" "$BANK"
	printf '%s\t借卡\t%s\t%s\t%s\t2026-03-01\t2026-03-02\n' "$(id 18)" "$SUB1_USCC" "$(card 11)" "$BANK"
	printf '%s\t王五\t%s\t%s\t%s\t2026-03-01\t2026-03-02\n' "$GOOD3" "$SUB1_USCC" "$(card 13)" "$BANK"
} >"$T/workers.tsv"
python3 "$TOOLS/mkroster" --project "$PROJECT" --sub "$SUB1_USCC:$SUB1_NAME" --sub "$SUB2_USCC:$SUB2_NAME" <"$T/workers.tsv" >"$T/roster.xml"
gc POST "/v1/projects/$PROJECT/roster" --data-binary @"$T/roster.xml" >"$T/receipt.xml"
check_eq "upload: HTTP 200" "$(status)" 200
check "the receipt is valid against proto/xsd/roster.xsd" valid_xsd roster "$T/receipt.xml"
check_eq "three entries accepted" "$(xval '/*/@accepted' "$T/receipt.xml")" 3
check_eq "five entries refused" "$(xval '/*/@refused' "$T/receipt.xml")" 5
code_of() { xval "//*[local-name()='Refused'][@idNumber='$1']/@code" "$T/receipt.xml"; }
check_eq "bad ID check digit: WP11" "$(code_of "$(bad_check "$(id 14)")")" WP11
check_eq "bad card check digit: WP12" "$(code_of "$(id 15)")" WP12
check_eq "unknown subcontractor: WP13" "$(code_of "$(id 16)")" WP13
check_eq "contract signed after entering: WP14" "$(code_of "$(id 17)")" WP14
check_eq "a card already another worker's: WP15" "$(code_of "$(id 18)")" WP15
check "every refusal carries a human message" sh -c "[ \$(xmllint --xpath 'count(//*[local-name()=\"Refused\"][string-length(normalize-space(.)) > 10])' '$T/receipt.xml') = 5 ]"
check_eq "CARD_CONCENTRATION alert raised once" "$(q "SELECT count(*) FROM alert WHERE kind = 'CARD_CONCENTRATION'")" 1
check_eq "the database holds exactly the accepted three" "$(q "SELECT count(*) FROM roster_entry")" 3

# the same upload again: same refusals, no second alert, nothing duplicated
gc POST "/v1/projects/$PROJECT/roster" --data-binary @"$T/roster.xml" >"$T/receipt2.xml"
check_eq "re-upload: still three accepted" "$(xval '/*/@accepted' "$T/receipt2.xml")" 3
check_eq "re-upload: still one alert (edge-triggered)" "$(q "SELECT count(*) FROM alert WHERE kind = 'CARD_CONCENTRATION'")" 1
check_eq "re-upload: three rows (upsert by ID number)" "$(q "SELECT count(*) FROM roster_entry")" 3

# upsert: worker 3 leaves the site
printf '%s\t王五\t%s\t%s\t%s\t2026-03-01\t2026-03-02\t2026-10-15\n' "$GOOD3" "$SUB1_USCC" "$(card 13)" "$BANK" |
    python3 "$TOOLS/mkroster" --project "$PROJECT" >"$T/r2.xml"
gc POST "/v1/projects/$PROJECT/roster" --data-binary @"$T/r2.xml" >"$T/receipt3.xml"
check_eq "update of one worker accepted" "$(xval '/*/@accepted' "$T/receipt3.xml")" 1
check_eq "left-site date stored" "$(q "SELECT left_on FROM roster_entry WHERE id_number = '$GOOD3'")" 2026-10-15

# --- the roster keeps its history ----------------------------------------------
GCFP="sha256:$(openssl x509 -in "$PKI/contractor.pem" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f')"
check_eq "worker 3 has two versions: the first is kept, not overwritten" "$(q "SELECT string_agg(version || ' ' || coalesce(left_on::text, '-'), ', ' ORDER BY version) FROM roster_version WHERE id_number = '$GOOD3'")" "1 -, 2 2026-10-15"
check_eq "the current entry is version 2" "$(q "SELECT version FROM roster_entry WHERE id_number = '$GOOD3'")" 2
check_eq "the re-upload of the unchanged first two stored no version" "$(q "SELECT count(*) FROM roster_version WHERE id_number IN ('$GOOD1', '$GOOD2')")" 2
check_eq "each version records the general contractor that sent it" "$(q "SELECT count(*) FROM roster_version WHERE sent_by = '$GC_USCC' AND sent_at IS NOT NULL")" 4
check_eq "and the certificate it came with (its SHA-256 fingerprint)" "$(q "SELECT DISTINCT sent_cert FROM roster_version")" "$GCFP"
check_eq "and the certificate's subject, naming the company" "$(q "SELECT count(*) FROM roster_version WHERE sent_subject LIKE '%$GC_USCC%'")" 4
check_eq "no card changed so far: no CARD_CHANGED" "$(q "SELECT count(*) FROM alert WHERE kind = 'CARD_CHANGED'")" 0

# worker 1's card is swapped (the classic diversion: to a gang boss's card)
printf '%s\t张三\t%s\t%s\t%s\t2026-03-01\t2026-03-02\n' "$GOOD1" "$SUB1_USCC" "$(card 19)" "$BANK" |
    python3 "$TOOLS/mkroster" --project "$PROJECT" >"$T/r3.xml"
gc POST "/v1/projects/$PROJECT/roster" --data-binary @"$T/r3.xml" >"$T/receipt4.xml"
check_eq "a new card for worker 1 is accepted" "$(xval '/*/@accepted' "$T/receipt4.xml")" 1
check_eq "the card change raises CARD_CHANGED" "$(q "SELECT count(*) FROM alert WHERE kind = 'CARD_CHANGED'")" 1
check_eq "worker 1 has two versions, the old card kept" "$(q "SELECT string_agg(version || ' ' || card, ', ' ORDER BY version) FROM roster_version WHERE id_number = '$GOOD1'")" "1 $(card 11), 2 $(card 19)"
gc POST "/v1/projects/$PROJECT/roster" --data-binary @"$T/r3.xml" >/dev/null
check_eq "the same upload again: no second CARD_CHANGED" "$(q "SELECT count(*) FROM alert WHERE kind = 'CARD_CHANGED'")" 1
check_eq "and no third version" "$(q "SELECT count(*) FROM roster_version WHERE id_number = '$GOOD1'")" 2

# the console shows a worker's card history, masked
console_login viewer1 viewer-password-1 >/dev/null
console viewer1 GET "/api/workers/$GOOD1/cards" >"$T/cards.json"
check_eq "GET /api/workers/{idNumber}/cards: 200" "$(status)" 200
check_eq "two versions" "$(python3 -c 'import json,sys; print(len(json.load(sys.stdin)["versions"]))' <"$T/cards.json")" 2
check_eq "the second changed the card" "$(json versions.1.card_changed <"$T/cards.json") $(json versions.1.current <"$T/cards.json")" "True True"
check_eq "cards masked" "$(json versions.0.card <"$T/cards.json")" "$(python3 -c 'import sys; s = sys.argv[1]; print(s[:4] + "*" * (len(s) - 8) + s[-4:])' "$(card 11)")"
check "no full card or ID number in the answer" sh -c "! grep -q -e '$(card 11)' -e '$(card 19)' -e '$GOOD1' '$T/cards.json'"
check_eq "sent by the general contractor" "$(json versions.1.sent_by <"$T/cards.json")" "$GC_USCC"
console viewer1 GET "/api/workers/$(id 99)/cards" >/dev/null
check_eq "a worker never rostered: 404" "$(status)" 404

gc GET "/v1/projects/$PROJECT/roster" >"$T/get.xml"
check_eq "read back: HTTP 200" "$(status)" 200
check "read back: valid against roster.xsd" valid_xsd roster "$T/get.xml"
check_eq "read back: three workers" "$(xmllint --xpath "count(//*[local-name()='Worker'])" "$T/get.xml")" 3
check_eq "read back: two subcontractors" "$(xmllint --xpath "count(//*[local-name()='Subcontractor'])" "$T/get.xml")" 2
check_eq "read back: the left-site date" "$(xval "//*[local-name()='Worker'][*[local-name()='IdNumber']='$GOOD3']/*[local-name()='Left']" "$T/get.xml")" 2026-10-15

# refused before the database
sed "s/project=\"$PROJECT\"/project=\"OTHER-1\"/" "$T/roster.xml" >"$T/wrongproj.xml"
gc POST "/v1/projects/$PROJECT/roster" --data-binary @"$T/wrongproj.xml" >/dev/null
check_eq "roster for another project than the URL: 400" "$(status)" 400
printf '<Roster xmlns="urn:wagepay:roster:1" project="%s"><Worker>' "$PROJECT" >"$T/broken.xml"
gc POST "/v1/projects/$PROJECT/roster" --data-binary @"$T/broken.xml" >/dev/null
check_eq "malformed roster: 400" "$(status)" 400
gc2 POST "/v1/projects/$PROJECT/roster" --data-binary @"$T/roster.xml" >/dev/null
check_eq "another contractor's upload: 403" "$(status)" 403
gc POST "/v1/projects/NO-SUCH/roster" --data-binary @"$(sed "s/$PROJECT/NO-SUCH/" "$T/roster.xml" >"$T/nosuch.xml"; echo "$T/nosuch.xml")" >/dev/null
check_eq "a project that does not exist: 403, nothing told" "$(status)" 403
check_eq "still three workers" "$(q "SELECT count(*) FROM roster_entry")" 3
finish
