#!/bin/sh
# regen.sh: remakes the signed golden files of tests/unit/test_xmlsig.c.
#
# Run once from the top of the tree (tests/data/xmlsig/regen.sh); the files
# are committed. Every run makes a fresh dev PKI (scripts/devpki), so all
# files here are replaced together: the sheets, the CA certificates they
# chain to (sub-ca.pem, rogue-ca.pem, ca.pem) and the test-only signing keys
# of the signer round trip (bank-sign.*, ec-sign.*). Those keys sign nothing
# but test data. Signer certificates last 20 years, so the files stay valid;
# expired.xml is signed by a certificate that expired in 2021.
#
# Each bad-*.xml is made so that only the rule it tests refuses it: where
# possible it is a real, complete signature that xmlsec1 itself accepts
# (the signature moved, wrapped, or using another reference), so the test
# proves the structural check and not a broken digest.
set -eu

out=tests/data/xmlsig
tools=tests/tools
[ -x "$tools/mksheet" ] || { echo "run from the top of the tree" >&2; exit 2; }
. tests/data/demo.env

pki=$(mktemp -d)
tmp=$(mktemp -d)
trap 'rm -rf "$pki" "$tmp"' EXIT
scripts/devpki "$pki"

cp "$pki/sub-ca.pem" "$pki/rogue-ca.pem" "$pki/ca.pem" "$out/"
cp "$pki/bank-sign.pem" "$out/bank-sign.pem"
cp "$pki/bank-sign.key" "$out/bank-sign.key"
cp "$pki/sub2.pem" "$out/ec-sign.pem"
cp "$pki/sub2.key" "$out/ec-sign.key"
chmod 644 "$out"/*.key

sign() {	# sign NAME(of a pki key pair) IN OUT
	"$tools/sign-xml" "$pki/$1.key" "$pki/$1.pem" "$2" "$3"
}

# edit IN OUT PYTHON-EXPRESSION-ON-s: a textual edit of a document, so the
# rest stays byte for byte as signed.
edit() {
	python3 - "$1" "$2" "$3" <<'EOF'
import sys
src, dst, expr = sys.argv[1:4]
s = open(src, encoding="utf-8").read()
t = eval(expr)
if t == s:
    sys.exit("regen.sh: edit changed nothing: " + expr)
open(dst, "w", encoding="utf-8").write(t)
EOF
}

# The good sheets: three workers of SUB1 (RSA), two of SUB2 (EC).
"$tools/mksheet" --demo 3 --msg-id SIG-GOOD-RSA > "$tmp/rsa.tmpl"
"$tools/mksheet" --demo 2 --sub "$SUB2_USCC" --ec --msg-id SIG-GOOD-EC \
    > "$tmp/ec.tmpl"
sign sub1 "$tmp/rsa.tmpl" "$out/good-rsa.xml"
sign sub2 "$tmp/ec.tmpl" "$out/good-ec.xml"

# Good, with its transactions written in every legal odd way (oddify.py
# says which), for the streaming reader (test_sheetstream.c).
"$tools/mksheet" --demo 2 --sub "$SUB2_USCC" --ec --msg-id SIG-ODD-EC \
    > "$tmp/odd.tmpl"
python3 "$out/oddify.py" "$tmp/odd.tmpl" "$tmp/odd-edited.tmpl"
sign sub2 "$tmp/odd-edited.tmpl" "$tmp/odd.xml"
python3 "$out/oddify.py" --refs "$tmp/odd.xml" "$out/good-odd-ec.xml"

# Unsigned: the template as mksheet makes it, and a sheet without any.
cp "$tmp/rsa.tmpl" "$out/unsigned.xml"
edit "$tmp/rsa.tmpl" "$out/nosig.xml" \
    's[:s.index("<SplmtryData><Envlp>\n<ds:Signature")] + s[s.index("</Envlp></SplmtryData>\n</CstmrCdtTrfInitn>") + len("</Envlp></SplmtryData>\n"):]'

# Tampered: one amount raised after signing.
edit "$out/good-rsa.xml" "$out/tampered.xml" \
    's.replace("<InstdAmt Ccy=\"CNY\">", "<InstdAmt Ccy=\"CNY\">1", 1)'

# Signature in the wrong place, each signed where it stands (xmlsec1
# accepts both): as the last child of Document, and in the first line's
# CdtTrfTxInf/SplmtryData (valid against the XSD).
python3 - "$tmp/rsa.tmpl" "$tmp/root.tmpl" <<'EOF'
import sys
s = open(sys.argv[1], encoding="utf-8").read()
sig = s[s.index("<ds:Signature"):s.index("</ds:Signature>") + 15]
wrapped = "<SplmtryData><Envlp>\n" + sig + "\n</Envlp></SplmtryData>\n"
s = s.replace(wrapped, "")
s = s.replace("</CstmrCdtTrfInitn>\n", "</CstmrCdtTrfInitn>\n" + sig + "\n")
open(sys.argv[2], "w", encoding="utf-8").write(s)
EOF
sign sub1 "$tmp/root.tmpl" "$out/bad-moved-root.xml"
python3 - "$tmp/rsa.tmpl" "$tmp/line.tmpl" <<'EOF'
import sys
s = open(sys.argv[1], encoding="utf-8").read()
i = s.index("<SplmtryData><Envlp>\n<ds:Signature")
j = s.index("</Envlp></SplmtryData>\n", i) + len("</Envlp></SplmtryData>\n")
wrapped = s[i:j]
s = s[:i] + s[j:]
k = s.index("</CdtTrfTxInf>")
s = s[:k] + wrapped + s[k:]
open(sys.argv[2], "w", encoding="utf-8").write(s)
EOF
sign sub1 "$tmp/line.tmpl" "$out/bad-moved-line.xml"

# Two signatures: a second, filled one in another SplmtryData.
python3 - "$out/good-rsa.xml" "$out/bad-two-sigs.xml" <<'EOF'
import sys
s = open(sys.argv[1], encoding="utf-8").read()
i = s.index("<SplmtryData><Envlp>\n<ds:Signature")
j = s.index("</Envlp></SplmtryData>\n", i) + len("</Envlp></SplmtryData>\n")
s = s[:j] + s[i:j] + s[j:]
open(sys.argv[2], "w", encoding="utf-8").write(s)
EOF

# A reference to a fragment (only PmtInf signed), really signed: xmlsec1
# accepts it when told PmtInf/@Id is an ID.
python3 - "$tmp/rsa.tmpl" "$tmp/frag.tmpl" <<'EOF'
import sys
s = open(sys.argv[1], encoding="utf-8").read()
s = s.replace("<PmtInf>", '<PmtInf Id="pmt">', 1)
s = s.replace('<ds:Reference URI="">', '<ds:Reference URI="#pmt">', 1)
open(sys.argv[2], "w", encoding="utf-8").write(s)
EOF
xmlsec1 --sign --privkey-pem "$pki/sub1.key,$pki/sub1.pem" \
    --id-attr:Id "urn:iso:std:iso:20022:tech:xsd:pain.001.001.10:PmtInf" \
    --output "$out/bad-ref-fragment.xml" "$tmp/frag.tmpl"

# A reference to a file: edited after signing (the verifier must refuse it
# before anything is fetched, so the digest never matters).
edit "$out/good-rsa.xml" "$out/bad-ref-file.xml" \
    's.replace("<ds:Reference URI=\"\">", "<ds:Reference URI=\"file:///etc/passwd\">", 1)'

# The wrapping attack of STYLE.md: a ds:Object with a second PmtInf inside
# the signature. xmlsec1 says OK, because the enveloped transform removes
# the whole ds:Signature before digesting.
python3 - "$out/good-rsa.xml" "$out/bad-object-wrap.xml" <<'EOF'
import sys
s = open(sys.argv[1], encoding="utf-8").read()
pmt = s[s.index("<PmtInf>"):s.index("</PmtInf>") + len("</PmtInf>")]
pmt = pmt.replace("<PmtInf>", '<PmtInf xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.10">', 1)
pmt = pmt.replace("<InstdAmt Ccy=\"CNY\">", "<InstdAmt Ccy=\"CNY\">9", 1)
s = s.replace("</ds:KeyInfo>\n", "</ds:KeyInfo>\n<ds:Object>" + pmt + "</ds:Object>\n", 1)
open(sys.argv[2], "w", encoding="utf-8").write(s)
EOF

# Other shapes: an old algorithm, a key that no certificate vouches for,
# an extra XPath transform. All really signed.
edit "$tmp/rsa.tmpl" "$tmp/sha1.tmpl" \
    's.replace("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", "http://www.w3.org/2000/09/xmldsig#rsa-sha1")'
sign sub1 "$tmp/sha1.tmpl" "$out/bad-rsa-sha1.xml"
edit "$tmp/rsa.tmpl" "$tmp/kv.tmpl" 's.replace("<ds:X509Data/>", "<ds:KeyValue/>")'
xmlsec1 --sign --privkey-pem "$pki/sub1-rogue.key" \
    --output "$out/bad-keyvalue.xml" "$tmp/kv.tmpl"
edit "$tmp/rsa.tmpl" "$tmp/xpath.tmpl" \
    's.replace("<ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>", "<ds:Transform Algorithm=\"http://www.w3.org/TR/1999/REC-xpath-19991116\"><ds:XPath>not(ancestor-or-self::*[local-name()=\"CdtTrfTxInf\"])</ds:XPath></ds:Transform>\n<ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>", 1)'
sign sub1 "$tmp/xpath.tmpl" "$out/bad-xpath.xml"

# Certificates not trusted: another CA, and expired.
sign sub1-rogue "$tmp/rsa.tmpl" "$out/bad-rogue.xml"
sign sub1-expired "$tmp/rsa.tmpl" "$out/bad-expired.xml"

# A stolen certificate: signed with the rogue key, but carrying SUB1's
# real certificate. The certificate chains; the signature cannot match it.
python3 - "$out/bad-rogue.xml" "$out/good-rsa.xml" "$out/bad-stolen-cert.xml" <<'EOF'
import sys
bad = open(sys.argv[1], encoding="utf-8").read()
good = open(sys.argv[2], encoding="utf-8").read()
def cert(s):
    return s[s.index("<ds:X509Certificate>"):s.index("</ds:X509Certificate>")]
open(sys.argv[3], "w", encoding="utf-8").write(bad.replace(cert(bad), cert(good)))
EOF

# Sanity: what xmlsec1 alone says about each (for the record, not a test).
for f in "$out"/good-*.xml "$out"/bad-*.xml; do
	if xmlsec1 --verify --trusted-pem "$out/sub-ca.pem" \
	    --id-attr:Id "urn:iso:std:iso:20022:tech:xsd:pain.001.001.10:PmtInf" \
	    "$f" >/dev/null 2>&1; then
		echo "xmlsec1 accepts $(basename "$f")"
	else
		echo "xmlsec1 refuses $(basename "$f")"
	fi
done
