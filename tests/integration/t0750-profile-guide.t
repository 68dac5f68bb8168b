#!/bin/sh
# docs/profile.md cannot drift from the bank (issue 24): every example of
# the guide is taken out of it, submitted to a real daemon (clock pinned),
# and its documented outcome checked; and every refusal message of the
# readers the guide covers (proto/ and the sheet's line reasons in
# schema/functions/sheet.sql, the decision's texts in daemon/report.c) is
# found verbatim in the guide.
. "$(dirname "$0")/lib.sh"

export WAGEPAY_CLOCK=2026-11-10T10:00:00+08:00
GUIDE="$TOP/docs/profile.md"

# --- every message of the code is in the guide ------------------------------
python3 - "$TOP" >"$T/drift" <<'PY'
import re, sys
top = sys.argv[1]
guide = open(top + '/docs/profile.md').read()
lit = r'"((?:[^"\\]|\\.)*)"'
internal = {'out of memory', 'out of memory reading the document', 'no schema', '%s',
            'EndToEndId %s: %s', 'no document to verify', 'could not set up signature verification',
            'roster: out of memory', 'camt.054: out of memory'}
def c_messages(path):
    src = open(top + '/' + path).read()
    for m in re.finditer(r'(?:perr_set|line_refuse)\(\s*[^,]+,\s*(' + lit + r'|[A-Za-z_.>-]+)\s*,\s*((?:' + lit + r'\s*)+)', src):
        if not m.group(1).startswith('"'):
            continue
        text = ''.join(re.findall(lit, m.group(3))).replace('\\"', '"')
        if text not in internal and not (path.endswith('sigtrust.c')):
            yield path, src[:m.start()].count('\n') + 1, text
msgs = []
for p in ['proto/sheet.c', 'proto/sheetstream.c', 'proto/xmlsafe.c', 'proto/xmlstream.c',
          'proto/sigverify.c', 'proto/signercert.c', 'proto/roster.c', 'proto/camt054.c',
          'proto/corereq.c', 'proto/paystatus.c', 'proto/corestmt.c']:
    msgs += list(c_messages(p))
sql = open(top + '/schema/functions/sheet.sql').read()
for m in re.finditer(r"WHEN '(\w{4})' THEN (?:coalesce\([^,]+, )?'((?:[^']|'')*)'", sql):
    msgs.append(('schema/functions/sheet.sql', sql[:m.start()].count('\n') + 1, m.group(2).replace("''", "'")))
for m in re.finditer(r"THEN '((?:[^']|'')*)'\n", sql):
    msgs.append(('schema/functions/sheet.sql', sql[:m.start()].count('\n') + 1, m.group(1).replace("''", "'")))
def concat(expr):
    """A plpgsql message expression as the guide writes it: its literals
    as they are, anything else (an entry, an amount) as <its expression>."""
    parts, cur, depth, quoted, i = [], '', 0, False, 0
    while i < len(expr):
        ch = expr[i]
        if quoted:
            cur += ch
            if ch == "'" and expr[i + 1:i + 2] == "'":
                cur += "'"; i += 1
            elif ch == "'":
                quoted = False
        elif ch == "'":
            quoted = True; cur += ch
        elif expr.startswith('||', i) and depth == 0:
            parts.append(cur.strip()); cur = ''; i += 1
        else:
            depth += (ch == '(') - (ch == ')'); cur += ch
        i += 1
    parts.append(cur.strip())
    out = ''
    for p in parts:
        p = re.sub(r'\s+', ' ', p)
        m = re.fullmatch(r"'((?:[^']|'')*)'(?:::text)?", p)
        out += m.group(1).replace("''", "'") if m else '\u27e8%s\u27e9' % p
    return out
for f in ['core.sql', 'settlement.sql', 'reconcile.sql']:
    src = open(top + '/schema/functions/' + f).read()
    for m in re.finditer(r"message := (.*?);\n", src, re.S):
        text = concat(m.group(1))
        if not re.fullmatch('\u27e8[^\u27e9]*\u27e9', text):
            msgs.append(('schema/functions/' + f, src[:m.start()].count('\n') + 1, text))
src = open(top + '/schema/functions/roster.sql').read()
for m in re.finditer(r"v_msgs \|\| '((?:[^']|'')*)'", src):
    msgs.append(('schema/functions/roster.sql', src[:m.start()].count('\n') + 1, m.group(1).replace("''", "'")))
guide = guide.replace('\\|', '|')
rep = open(top + '/daemon/report.c').read()
for m in re.finditer(r'((?:' + lit + r'\s*)+)', rep):
    text = ''.join(re.findall(lit, m.group(1)))
    if len(text) > 40:
        msgs.append(('daemon/report.c', rep[:m.start()].count('\n') + 1, text.split('%zu')[0]))
for path, line, text in msgs:
    print('%s\t%s:%d\t%s' % ('ok' if text in guide else 'missing', path, line, text))
PY
check "the drift check read the code" test "$(wc -l <"$T/drift")" -gt 150
missing=$(grep -c '^missing' "$T/drift")
[ "$missing" = 0 ] || grep '^missing' "$T/drift" | sed 's/^/# /'
check_eq "every refusal message of the code is in the guide" "$missing" 0

# --- every example, submitted ----------------------------------------------
setup_world || { echo "Bail out! setup failed"; exit 1; }
check "the project is opened" open_project
check "the roster is accepted" roster_demo 30
deposit DEP-1 20000.00 >/dev/null
mkdir -p "$T/ex"
python3 - "$GUIDE" "$T/ex" >"$T/expect" <<'PY'
import re, shlex, sys
text = open(sys.argv[1]).read()
pat = re.compile(r'<!-- example (\S+): (\S+) expect: (.*?) -->\n```xml\n(.*?)```', re.S)
for name, kind, expect, body in pat.findall(text):
    open('%s/%s.xml' % (sys.argv[2], name), 'w').write(body)
    for e in shlex.split(expect):
        k, v = e.split('=', 1)
        print('%s\t%s\t%s\t%s' % (name, kind, k, v))
PY
check_eq "the guide's examples, by kind" "$(cut -f1,2 "$T/expect" | sort -u | cut -f2 | sort | uniq -c | tr -s ' ' | tr '\n' ',')" " 2 camt054, 1 debit, 1 legal, 1 roster, 4 sheet,"

submit_example() {
	case $2 in
	sheet)
		"$TOP/build/wagepay-sheet" sign --key "$PKI/sub1.key" --cert "$PKI/sub1.pem" \
		    --ca "$PKI/sub-ca.pem" "$T/ex/$1.xml" >"$T/ex/$1.signed.xml" 2>"$T/ex/$1.err"
		gc POST /v1/sheets --data-binary @"$T/ex/$1.signed.xml" -H 'Content-Type: application/xml' >"$T/ex/$1.answer" ;;
	roster)
		gc POST "/v1/projects/$PROJECT/roster" --data-binary @"$T/ex/$1.xml" -H 'Content-Type: application/xml' >"$T/ex/$1.answer" ;;
	camt054)
		core POST /v1/core/notifications --data-binary @"$T/ex/$1.xml" -H 'Content-Type: application/xml' >"$T/ex/$1.answer" ;;
	debit)
		core POST /v1/core/debit-requests --data-binary @"$T/ex/$1.xml" -H 'Content-Type: application/xml' >"$T/ex/$1.answer" ;;
	legal)
		core POST /v1/core/legal-orders --data-binary @"$T/ex/$1.xml" -H 'Content-Type: application/xml' >"$T/ex/$1.answer" ;;
	esac
	cp "$T/status" "$T/ex/$1.status"
}

# actual NAME KEY VALUE: what the answer says for that expectation
actual() {
	a="$T/ex/$1.answer"
	grp="//*[local-name()='OrgnlGrpInfAndSts']/*[local-name()='StsRsnInf']"
	tx="//*[local-name()='TxInfAndSts'][*[local-name()='OrgnlEndToEndId']='${3%%:*}']/*[local-name()='StsRsnInf']"
	case $2 in
	http) cat "$T/ex/$1.status" ;;
	GrpSts) grpsts "$a" ;;
	Rsn) xval "$grp/*[local-name()='Rsn']/*" "$a" ;;
	AddtlInf) xval "$grp/*[local-name()='AddtlInf']" "$a" ;;
	line) echo "${3%%:*}:$(xval "$tx/*[local-name()='Rsn']/*" "$a")" ;;
	lineinfo) echo "${3%%:*}:$(xval "$tx/*[local-name()='AddtlInf']" "$a")" ;;
	outcome|code|accepted|refused) xval "/*/@$2" "$a" ;;
	refusedcode) xval "//*[local-name()='Refused']/@code" "$a" ;;
	*) echo "unknown expectation $2" ;;
	esac
}

done_examples=
while IFS='	' read -r name kind key value; do
	case " $done_examples " in
	*" $name "*) ;;
	*) submit_example "$name" "$kind"; done_examples="$done_examples $name" ;;
	esac
	check_eq "guide example $name ($kind): $key" "$(actual "$name" "$key" "$value")" "$value"
done <"$T/expect"
check "every sheet example was signed as the bank verifies it" sh -c "grep -l 'signature verified as the bank verifies it' '$T'/ex/*.err | wc -l | grep -qx 4"
check_eq "the examples paid what they say (GUIDE-3, refused whole, stored nothing)" "$(q "SELECT string_agg(s.msg_id || '=' || (SELECT sum(amount) FROM transfer t WHERE t.sheet_id = s.id AND t.reason = 'WAGE'), ',' ORDER BY s.msg_id) FROM sheet s WHERE s.msg_id LIKE 'GUIDE-%'")" "GUIDE-1=550050,GUIDE-2=180000,GUIDE-4=90000"
check_eq "the returned example line is back on the account, earmarked" "$(q "SELECT earmarked FROM account WHERE number = '$ACCOUNT'")" 250050
ledger_exact
finish
