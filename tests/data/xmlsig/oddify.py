#!/usr/bin/env python3
"""oddify.py [--refs] IN OUT: a sheet template with its transactions written in every
legal way a streaming reader could get wrong, so that good-odd-ec.xml, signed
by xmlsec1 over libxml2's canonical form, is accepted only if the daemon's
reading of transactions (proto/xmlarena.c, proto/sheetstream.c) builds what
libxml2's tree would: comments and processing instructions in a transaction
and between two (with no white space around them), CDATA beside text,
character references in text and in an attribute, a prefixed pain.001
element bound inside the transaction and one bound on PmtInf, a redundant
default namespace, unused declarations. Still valid against pain.001.001.10
and the bank profile, which allows no attribute but Ccy in a transaction
(test_sheetstream.c's edits of good-rsa.xml, which need no signature, have
the others). Run by regen.sh.

xmlsec1 writes the signed document back with character references
replaced by the characters; --refs, on the signed file, puts references
back where they do not change what is signed (the same characters)."""
import sys

PAIN = 'urn:iso:std:iso:20022:tech:xsd:pain.001.001.10'
refs = sys.argv[1] == '--refs'
src, dst = sys.argv[1 + refs:3 + refs]
s = open(src, encoding='utf-8').read()

def once(old, new, after=''):
    global s
    at = s.index(after) if after else 0
    if old not in s[at:]:
        sys.exit('oddify.py: not found: ' + old)
    s = s[:at] + s[at:].replace(old, new, 1)

if refs:
    once('<InstdAmt Ccy="CNY">', '<InstdAmt Ccy="&#67;N&#x59;">')
    once(']]>\u5efa<!-- mid -->', ']]>&#x5EFA;<!-- mid -->')
    open(dst, 'w', encoding='utf-8').write(s)
    sys.exit(0)

once('<PmtInf>', '<PmtInf xmlns:q="%s">' % PAIN)
# the first transaction
once('<CdtTrfTxInf>\n<PmtId>',
     '<CdtTrfTxInf xmlns:u="urn:unused" xmlns:p="%s"><!-- first worker -->'
     '<?audit checked?>\n<p:PmtId>' % PAIN)
once('</PmtId>', '</p:PmtId>')
once('<Nm>\u674e\u5efa\u660e</Nm>',
     '<Nm><![CDATA[\u674e]]>&#x5EFA;<!-- mid -->\u660e</Nm>')
once('<Purp><Cd>SALA</Cd></Purp>', '<q:Purp><q:Cd>SALA</q:Cd></q:Purp>')
once('<Ustrd>WAGE/2026-10</Ustrd>', '<Ustrd><![CDATA[WAGE/]]>2026-10</Ustrd>')
once('<wp:Line xmlns:wp="urn:wagepay:line:1">',
     '<wp:Line xmlns:wp="urn:wagepay:line:1" xmlns:x="urn:x">')
# between the two: no white space, a comment
once('</CdtTrfTxInf>\n<CdtTrfTxInf>', '</CdtTrfTxInf><!-- between --><CdtTrfTxInf>')
# the second transaction
once('<Amt>', '<Amt xmlns="%s">' % PAIN, '<!-- between -->')
once('<Cdtr><Nm>', '<Cdtr xmlns:wp2="urn:wagepay:line:1"><Nm>',
     '<!-- between -->')
once('</CdtTrfTxInf>\n</PmtInf>', '</CdtTrfTxInf><?after last?>\n</PmtInf>')
open(dst, 'w', encoding='utf-8').write(s)
