# t03-lib.sh: what the t03* tests (alerts, the core feed, vouchers and
# statements) share on top of lib.sh: fake regulators (tests/tools/
# fakeregulator: HTTPS on loopback, the bank's client certificate required,
# every request recorded, told to answer ok, fail or hang, or killed to be
# "down"), their [regulator] sections, waiting with a bound, and checks of
# the alerts they received. Source it after lib.sh, before setup_world.

FR_PIDS=""

# regulator_section NAME REGION AUTHORITY: a [regulator] section for a fake
# regulator on its own port (kept in $T/reg-NAME.port).
regulator_section() {
	port=$(free_port)
	mkdir -p "$T/reg-$1"
	echo "$port" >"$T/reg-$1.port"
	printf '[regulator %s]\nregion = %s\nauthority = %s\nurl = https://127.0.0.1:%s/v1/alerts\nca = %s\ncert = %s\nkey = %s\n\n' \
	    "$1" "$2" "$3" "$port" "$PKI/ca.pem" "$PKI/bank-client.pem" "$PKI/bank-client.key"
}

# fr_start NAME: starts the fake regulator NAME, waits until it listens.
# The dev PKI is made first if it is not there yet (devpki is idempotent).
fr_start() {
	"$TOP/scripts/devpki" "$PKI" >>"$T/devpki.log" 2>&1 || return 1
	python3 "$TOOLS/fakeregulator" --port "$(cat "$T/reg-$1.port")" \
	    --dir "$T/reg-$1" --cert "$PKI/server.pem" --key "$PKI/server.key" \
	    --ca "$PKI/ca.pem" >>"$T/reg-$1.out" 2>&1 &
	echo $! >"$T/reg-$1.pid"
	FR_PIDS="$FR_PIDS $!"
	for _ in $(seq 1 50); do
		grep -q listening "$T/reg-$1.out" 2>/dev/null && return 0
		sleep 0.1
	done
	cat "$T/reg-$1.out"
	return 1
}

# fr_stop NAME: the regulator goes down (connections refused).
fr_stop() {
	[ -f "$T/reg-$1.pid" ] || return 0
	kill "$(cat "$T/reg-$1.pid")" 2>/dev/null
	wait "$(cat "$T/reg-$1.pid")" 2>/dev/null
	rm -f "$T/reg-$1.pid" "$T/reg-$1.out"
}

# fr_mode NAME ok|fail [STATUS]|hang
fr_mode() { n=$1; shift; echo "$*" >"$T/reg-$n/mode"; }

# fr_log NAME: the requests the regulator received, one a line
# (SEQ ANSWER ALERT-ID CLIENT-SERIALNUMBER PATH).
fr_log() { grep -v '^tls-refused' "$T/reg-$1/log" 2>/dev/null; }

# fr_count NAME [ALERT-ID]: requests received (for that alert).
fr_count() {
	if [ $# -gt 1 ]; then fr_log "$1" | awk -v id="$2" '$3 == id' | wc -l
	else fr_log "$1" | wc -l; fi
}

# fr_acked NAME ALERT-ID: requests for the alert that got a 2xx.
fr_acked() { fr_log "$1" | awk -v id="$2" '$3 == id && $2 ~ /^2/' | wc -l; }

# fr_file NAME ALERT-ID: the last body received for the alert.
fr_file() {
	seq=$(fr_log "$1" | awk -v id="$2" '$3 == id {s = $1} END {print s}')
	[ -n "$seq" ] && echo "$T/reg-$1/$seq.xml"
}

fr_cleanup() {
	for p in $FR_PIDS; do kill "$p" 2>/dev/null; done
}
trap 'fr_cleanup; cleanup' EXIT

# wait_for SECONDS COMMAND...: polls every 0.2 s until COMMAND succeeds;
# false if it did not within SECONDS.
wait_for() {
	limit=$(($1 * 5)); shift
	i=0
	while [ $i -lt $limit ]; do
		"$@" && return 0
		sleep 0.2
		i=$((i + 1))
	done
	return 1
}

# true when the query's single value equals the wanted one
q_is() { [ "$(q "$1")" = "$2" ]; }

# alert_ok FILE: the alert verifies with xmlsec1 against the dev CA (the
# bank's signing certificate chains to it) and is valid against alert.xsd.
alert_ok() {
	xmlsec1 --verify --trusted-pem "$PKI/ca.pem" --enabled-reference-uris empty \
	    "$1" >/dev/null 2>&1 &&
	xmllint --noout --schema "$TOP/proto/xsd/alert.xsd" "$1" 2>/dev/null
}

# every_alert_ok NAME: alert_ok for every body the regulator received.
every_alert_ok() {
	n=0
	for f in "$T/reg-$1"/[0-9]*.xml; do
		[ -f "$f" ] || continue
		alert_ok "$f" || { diag "not a valid signed alert: $f"; return 1; }
		n=$((n + 1))
	done
	[ $n -gt 0 ]
}

# alert_id KIND [WHERE]: the Id of the one alert of that kind.
alert_id() { q "SELECT id FROM alert WHERE kind = '$1' ${2:+AND $2}"; }

# core_xml PATH FILE: POSTs a core request.
core_xml() {
	core POST "$1" --data-binary @"$2" -H 'Content-Type: application/xml'
}

# debit_request REF AMOUNT [ACCOUNT]: a non-wage debit of the account.
debit_request() {
	cat >"$T/debit-$1.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<DebitRequest xmlns="urn:wagepay:core:1"><Ref>$1</Ref><Account>${3:-$ACCOUNT}</Account>
<Amount>$2</Amount><Beneficiary>6222021001122334458</Beneficiary>
<BeneficiaryName>郑州建材贸易有限公司</BeneficiaryName><Purpose>材料款</Purpose>
<Channel>COUNTER</Channel></DebitRequest>
EOF
	core_xml /v1/core/debit-requests "$T/debit-$1.xml"
}

# legal_order REF KIND AMOUNT REASON [NO]: an order against the demo account,
# order number "(2026)豫0183执NO号" (NO: REF unless given; an UNFREEZE names
# the freeze's).
legal_order() {
	cat >"$T/order-$1.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<LegalOrder xmlns="urn:wagepay:core:1"><Ref>$1</Ref><Authority>新郑市人民法院</Authority>
<OrderNo>(2026)豫0183执${5:-$1}号</OrderNo><Kind>$2</Kind><Account>$ACCOUNT</Account>
<Amount>$3</Amount><Reason>$4</Reason></LegalOrder>
EOF
	core_xml /v1/core/legal-orders "$T/order-$1.xml"
}

# wage_return REF E2E AMOUNT [REASON]: the core tells a wage payment came back.
wage_return() {
	cat >"$T/return-$1.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08">
<BkToCstmrDbtCdtNtfctn><GrpHdr><MsgId>N-$1</MsgId><CreDtTm>2026-11-02T09:00:00+08:00</CreDtTm></GrpHdr>
<Ntfctn><Id>NTF-$1</Id><CreDtTm>2026-11-02T09:00:00+08:00</CreDtTm>
<Acct><Id><Othr><Id>$ACCOUNT</Id></Othr></Id></Acct>
<Ntry><NtryRef>$1</NtryRef><Amt Ccy="CNY">$3</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
<BookgDt><Dt>2026-11-02</Dt></BookgDt><BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>ICDT</Cd><SubFmlyCd>RRTN</SubFmlyCd></Fmly></Domn></BkTxCd>
<NtryDtls><TxDtls><Refs><EndToEndId>$2</EndToEndId></Refs><RtrInf><Rsn><Cd>${4:-AC04}</Cd></Rsn></RtrInf></TxDtls></NtryDtls>
</Ntry></Ntfctn></BkToCstmrDbtCdtNtfctn></Document>
EOF
	core_xml /v1/core/notifications "$T/return-$1.xml"
}

# worker2 K [FIELD]: demo worker K of subcontractor two.
worker2() {
	python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import wpids
w = wpids.demo_worker(wpids.demo_worker_index(1, int(sys.argv[2])), wpids.demo_env())
print(w[sys.argv[3]])' "$TOOLS" "$1" "${2:-id}"
}

# line2 E2E K AMOUNT [KIND]: a line paying demo worker K of subcontractor two.
line2() {
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$(worker2 "$2" id)" \
	    "$(worker2 "$2" name)" "$(worker2 "$2" card)" "$(worker2 "$2" cardbank)" \
	    "$3" "${4:-WAGE}"
}

# pay NAME MSGID MONTH SUB < lines: makes, signs (by sub1 or sub2) and
# submits a sheet; its pain.002 is $T/NAME.pain002.xml.
pay() {
	if [ "$4" = 2 ]; then
		SIGNER=sub2 sheet "$1" --msg-id "$2" --sub "$SUB2_USCC" --month "$3" --ec
	else
		sheet "$1" --msg-id "$2" --sub "$SUB1_USCC" --month "$3"
	fi
	submit "$1"
}

# restart_daemon [VAR=VALUE...]: stops the daemon (SIGTERM) and starts it
# again with the given environment.
restart_daemon() {
	daemon_stop
	for kv in "$@"; do export "$kv"; done
	daemon_start
}
