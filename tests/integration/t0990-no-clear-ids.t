#!/bin/sh
# No clear ID number or card number in the daemon's logs, the contractor's
# error messages (pain.002), the console's answers, the alerts regulators
# receive, or /metrics (issue 22, part 4). tests/tools/idscan looks, in what
# integration tests leave (lib.sh's WAGEPAY_LOG_DIR), for every ID and card
# number of tests/data and of the tests' own inputs.
#
# Run by make test / make integration (which set WAGEPAY_LOG_DIR for the
# whole suite; this file sorts last), it scans the whole suite's outputs.
# Run alone, it runs LOG_SCAN_TESTS (default: sheets paid and refused,
# hostile sheets, the roster, alert delivery, the core feed, the console)
# and scans theirs.
. "$(dirname "$0")/lib.sh"

# --- the scanner finds what it must, and says it masked -----------------------
mkdir -p "$T/plant/t-fake"
idn=$(worker 3 id); card=$(worker 3 card)
printf 'sheet line refused for %s, card %s\n' "$idn" "$card" >"$T/plant/t-fake/wagepayd.log"
printf '<x><IdNumber>%s</IdNumber><Card>%s</Card></x>\n' "$idn" "$card" >"$T/plant/t-fake/roster.xml"
"$TOOLS/idscan" "$T/plant/t-fake" >"$T/plant.out"
check_eq "a planted ID and card in a log are found (exit 1)" "$?" 1
check_eq "both" "$(grep -c 'wagepayd.log:1: a clear' "$T/plant.out")" 2
check "and named masked, never in clear" sh -c "! grep -q '$idn\\|$card' '$T/plant.out'"
printf 'worker %s: masked\n' "$(echo "$idn" | cut -c1-4)**********$(echo "$idn" | cut -c15-18)" \
    >"$T/plant/t-fake/wagepayd.log"
"$TOOLS/idscan" "$T/plant/t-fake" >/dev/null
check_eq "a masked one is not a hit" "$?" 0
# the console's CSV of a sheet's lines (issue 24) is an output too
printf '\357\273\277端到端编号 EndToEndId,姓名 Name\r\n"E1","%s"\r\n' "$idn" >"$T/plant/t-fake/csv"
"$TOOLS/idscan" "$T/plant/t-fake" >/dev/null
check_eq "a planted ID in a sheet's CSV is found (exit 1)" "$?" 1
rm "$T/plant/t-fake/csv"

# --- the suite's outputs ------------------------------------------------------
self=$(basename "$0" .t)
if [ -n "${WAGEPAY_LOG_DIR:-}" ] && [ "$(ls "$WAGEPAY_LOG_DIR" | grep -vc "^$self\$")" -ge 10 ]; then
	SCAN=$WAGEPAY_LOG_DIR
	diag "scanning the suite's outputs in $SCAN"
else
	SCAN="$T/scan"
	mkdir -p "$SCAN"
	for t in ${LOG_SCAN_TESTS:-t0100-sheet-pay t0200-sheet-hostile t0305-roster \
	    t0310-alert-delivery t0320-core-feed t0410-console-api}; do
		WAGEPAY_LOG_DIR=$SCAN KEEP_TEST_DIR= "$(dirname "$0")/$t.t" >"$T/$t.tap" 2>&1
		check_eq "$t passes (its outputs are scanned)" "$?" 0
	done
fi

# and /metrics of a world with paid and refused lines
setup_world || { echo "Bail out! setup failed"; exit 1; }
export WAGEPAY_CLOCK=2026-11-05T10:00:00+08:00
daemon_stop && daemon_start || { echo "Bail out! restart"; exit 1; }
open_project && roster_demo 4 && deposit DEP-1 9000.00 >/dev/null
{ line E1 0 3000.00; line E2 1 2500.00; printf 'E3\t%s\t%s\t%s\t%s\t100.00\tWAGE\n' \
    "$(worker 9 id)" "$(worker 9 name)" "$(worker 9 card)" "$(worker 9 cardbank)"; } >"$T/l1"
sheet s1 --msg-id IDS-1 --sub "$SUB1_USCC" --month 2026-10 <"$T/l1"
submit s1
check_eq "a sheet with a worker off the roster: PART" "$(grpsts "$T/s1.pain002.xml")" PART
# a statement the database refuses with a DETAIL quoting the row (as a
# unique or check violation does: "Failing row contains (...)"): the daemon
# logs the primary message only (db_error), never the DETAIL
q "CREATE FUNCTION t0990_refuse() RETURNS trigger LANGUAGE plpgsql AS \$\$ BEGIN
   RAISE EXCEPTION 'planted refusal' USING ERRCODE = 'check_violation',
   DETAIL = 'Failing row contains ($(worker 2 id), $(worker 2 card))'; END \$\$;
   CREATE TRIGGER t0990_refuse BEFORE INSERT ON roster_entry
   FOR EACH ROW EXECUTE FUNCTION t0990_refuse()" >/dev/null
python3 "$TOOLS/mkroster" --project "$PROJECT" --demo 6 >"$T/roster2.xml"
gc POST "/v1/projects/$PROJECT/roster" --data-binary @"$T/roster2.xml" \
    -H 'Content-Type: application/xml' >/dev/null
check_eq "a roster the database refuses: 500" "$(status)" 500
check "the refusal is logged" grep -q 'roster .*: database refused the upload: planted refusal' "$T/wagepayd.log"
q "DROP TRIGGER t0990_refuse ON roster_entry" >/dev/null
curl -sk "https://127.0.0.1:$OPORT/metrics" >"$T/metrics.json.txt"
mkdir -p "$SCAN/$self-metrics" && cp "$T/metrics.json.txt" "$SCAN/$self-metrics/wagepayd-metrics.log"
cp "$T/wagepayd.log" "$SCAN/$self-metrics/wagepayd.log"
cp "$T/l1" "$T/s1.pain002.xml" "$T/roster2.xml" "$SCAN/$self-metrics/"

"$TOOLS/idscan" "$SCAN"/* >"$T/scan.out"
rc=$?
check_eq "not one clear ID or card number in the outputs" "$rc" 0
sed 's/^/# /' "$T/scan.out" | tail -20
finish
