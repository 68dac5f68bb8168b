#!/usr/bin/env python3
"""generate.py: writes the golden sheets of tests/data/sheet/ (good-*.xml and
one bad-RULE.xml per refusal rule of proto/sheet.c), so that a change to the
profile can be made once and every file stays consistent. Deterministic:
running it on an unchanged tree changes nothing. Each bad file is
good-3lines.xml with one defect, named in its opening comment; test_sheet.c
holds the expected code and message of each. The ID numbers, cards and
credit codes are made up, with correct check characters (see test_ids.c for
how they are computed). Python standard library only.

    python3 tests/data/sheet/generate.py
"""
import os, re
OUT = os.path.dirname(os.path.abspath(__file__))
NS = 'urn:iso:std:iso:20022:tech:xsd:pain.001.001.10'

def tx(e2e, amt, name, idn, card, bank, ustrd, gross, days, at, method, ref, extra_before_cdtr='', purp='SALA'):
    return f'''      <CdtTrfTxInf>
        <PmtId>
          <EndToEndId>{e2e}</EndToEndId>
        </PmtId>
        <Amt>
          <InstdAmt Ccy="CNY">{amt}</InstdAmt>
        </Amt>
        <CdtrAgt>
          <FinInstnId>
            <ClrSysMmbId>
              <MmbId>{bank}</MmbId>
            </ClrSysMmbId>
          </FinInstnId>
        </CdtrAgt>
        <Cdtr>
          <Nm>{name}</Nm>
          <Id>
            <PrvtId>
              <Othr>
                <Id>{idn}</Id>
                <SchmeNm>
                  <Cd>NIDN</Cd>
                </SchmeNm>
              </Othr>
            </PrvtId>
          </Id>
        </Cdtr>
        <CdtrAcct>
          <Id>
            <Othr>
              <Id>{card}</Id>
            </Othr>
          </Id>
        </CdtrAcct>
        <Purp>
          <Cd>{purp}</Cd>
        </Purp>
        <RmtInf>
          <Ustrd>{ustrd}</Ustrd>
        </RmtInf>
        <SplmtryData>
          <Envlp>
            <wp:Line xmlns:wp="urn:wagepay:line:1">
              <wp:GrossPay>{gross}</wp:GrossPay>
              <wp:DaysWorked>{days}</wp:DaysWorked>
              <wp:Confirmation>
                <wp:At>{at}</wp:At>
                <wp:Method>{method}</wp:Method>
                <wp:Ref>{ref}</wp:Ref>
              </wp:Confirmation>
            </wp:Line>
          </Envlp>
        </SplmtryData>
      </CdtTrfTxInf>
'''

def sheet(comment, msgid, lines, nb, ctrlsum, pmt_nb=None, pmt_sum=None):
    pmt_counts = ''
    if pmt_nb is not None:
        pmt_counts += f'      <NbOfTxs>{pmt_nb}</NbOfTxs>\n'
    if pmt_sum is not None:
        pmt_counts += f'      <CtrlSum>{pmt_sum}</CtrlSum>\n'
    return f'''<?xml version="1.0" encoding="UTF-8"?>
<!--
{comment}
-->
<Document xmlns="{NS}">
  <CstmrCdtTrfInitn>
    <GrpHdr>
      <MsgId>{msgid}</MsgId>
      <CreDtTm>2026-11-05T09:30:00+08:00</CreDtTm>
      <NbOfTxs>{nb}</NbOfTxs>
      <CtrlSum>{ctrlsum}</CtrlSum>
      <InitgPty>
        <Nm>河南中原建工集团有限公司</Nm>
        <Id>
          <OrgId>
            <Othr>
              <Id>91410100MA45Y0000Q</Id>
              <SchmeNm>
                <Cd>USCC</Cd>
              </SchmeNm>
            </Othr>
          </OrgId>
        </Id>
      </InitgPty>
    </GrpHdr>
    <PmtInf>
      <PmtInfId>PI-202610-01</PmtInfId>
      <PmtMtd>TRF</PmtMtd>
      <BtchBookg>true</BtchBookg>
{pmt_counts}      <PmtTpInf>
        <CtgyPurp>
          <Cd>SALA</Cd>
        </CtgyPurp>
      </PmtTpInf>
      <ReqdExctnDt>
        <Dt>2026-11-10</Dt>
      </ReqdExctnDt>
      <Dbtr>
        <Nm>河南中原建工集团有限公司</Nm>
      </Dbtr>
      <DbtrAcct>
        <Id>
          <Othr>
            <Id>410501000000123456</Id>
          </Othr>
        </Id>
        <Ccy>CNY</Ccy>
      </DbtrAcct>
      <DbtrAgt>
        <FinInstnId>
          <ClrSysMmbId>
            <MmbId>105491000011</MmbId>
          </ClrSysMmbId>
        </FinInstnId>
      </DbtrAgt>
      <UltmtDbtr>
        <Nm>郑州立信劳务有限公司</Nm>
        <Id>
          <OrgId>
            <Othr>
              <Id>91410105MA9K000022</Id>
              <SchmeNm>
                <Cd>USCC</Cd>
              </SchmeNm>
            </Othr>
          </OrgId>
        </Id>
      </UltmtDbtr>
{''.join(lines)}    </PmtInf>
  </CstmrCdtTrfInitn>
</Document>
'''

W = [
 dict(e2e='E2E-202610-0001', amt='5200.00', name='张三', idn='410102198511205616', card='6217001234567890122', bank='105491000011', ustrd='WAGE/2026-10', gross='5800.00', days='22', at='2026-10-31T18:05:00+08:00', method='SIGN', ref='CF-202610-0001'),
 dict(e2e='E2E-202610-0002', amt='4860.50', name='李四', idn='411022199208150021', card='62220212345678903', bank='102491000025', ustrd='WAGE/2026-10', gross='5400.00', days='21', at='2026-10-31T18:07:30+08:00', method='FACE', ref='FACE-88231'),
 dict(e2e='E2E-202610-0003', amt='3999.99', name='王五', idn='440304200002290006', card='622588123456784', bank='103491000039', ustrd='WAGE/2026-10', gross='4400', days='18', at='2026-11-01T08:00:00Z', method='APP', ref='APP-7f3a9c'),
]
GOOD_SUM = '14060.49'

def write(name, text):
    with open(os.path.join(OUT, name), 'w') as f:
        f.write(text)

def lines(ws):
    return [tx(**w) for w in ws]

good = sheet('good-3lines.xml: a sheet of three WAGE/2026-10 lines, every field of the\n  bank profile in use; valid against pain.001.001.10. Test data only:\n  the ID numbers, cards and credit codes are made up (check digits computed).',
             'SUB1-202610-001', lines(W), 3, GOOD_SUM, pmt_nb=3, pmt_sum=GOOD_SUM)
write('good-3lines.xml', good)

B = [dict(W[0], e2e='E2E-BP-0001', amt='1200.00', ustrd='BACKPAY/2026-08', gross='1200.00', days='6', ref='CF-BP-0001'),
     dict(W[1], e2e='E2E-BP-0002', amt='800.00', ustrd='BACKPAY/2026-09', gross='900.00', days='4', ref='CF-BP-0002')]
write('good-backpay.xml', sheet('good-backpay.xml: arrears only, BACKPAY/2026-08 and BACKPAY/2026-09; the\n  sheet\'s month is the latest, 2026-09. No PmtInf NbOfTxs/CtrlSum (optional).',
      'SUB1-BACKPAY-001', lines(B), 2, '2000.00'))

M = [W[0], dict(W[1], e2e='E2E-BP-0009', amt='300.00', ustrd='BACKPAY/2026-09', gross='300.00', days='0', ref='CF-BP-0009')]
write('good-mixed.xml', sheet('good-mixed.xml: one WAGE/2026-10 line and one BACKPAY/2026-09 line; the sheet\'s\n  month is the WAGE month, 2026-10.',
      'SUB1-202610-002', lines(M), 2, '5500.00'))

LE = [dict(W[0], idn='410102198511205617'), dict(W[1], card='62220212345678904'), W[2]]
write('good-line-errors.xml', sheet('good-line-errors.xml: the sheet is accepted, but line 1 has an ID number\n  whose check digit is wrong (WP05) and line 2 a card failing Luhn (AC01);\n  line 3 is fine.',
      'SUB1-202610-003', lines(LE), 3, GOOD_SUM))

# Lines smuggled outside PmtInf: a CdtTrfTxInf inside the group SplmtryData
# (where the signature lives) must never be read.
smuggled = good.replace('  </CstmrCdtTrfInitn>', '''    <SplmtryData>
      <Envlp>
        <Smuggled xmlns="urn:example:attacker">
''' + tx(**dict(W[0], e2e='E2E-EVIL-0001', amt='99999.00', gross='99999.00')) + '''        </Smuggled>
      </Envlp>
    </SplmtryData>
  </CstmrCdtTrfInitn>''', 1)
smuggled = smuggled.replace('good-3lines.xml: a sheet of three', 'good-smuggled.xml: good-3lines.xml plus a fourth CdtTrfTxInf hidden in the\n  group SplmtryData (where the signature goes), which must never be read.\n  Otherwise as good-3lines.xml: three')
write('good-smuggled.xml', smuggled)

# What a standard ISO 20022 generator writes and the profile accepts
# (issue 24): the credit code's scheme as SchmeNm/Prtry USCC (USCC is not in
# ISO's external code list), a Confirmation/At without a zone (read as
# +08:00), no Purp (the PmtInf's CtgyPurp SALA says it), an RmtInf/Strd
# beside the Ustrd, and a SplmtryData of the generator's own beside wp:Line.
gen = good.replace('''              <Id>91410105MA9K000022</Id>
              <SchmeNm>
                <Cd>USCC</Cd>''', '''              <Id>91410105MA9K000022</Id>
              <SchmeNm>
                <Prtry>USCC</Prtry>''')
gen = gen.replace('<wp:At>2026-10-31T18:05:00+08:00</wp:At>', '<wp:At>2026-10-31T18:05:00</wp:At>')
gen = gen.replace('<wp:At>2026-10-31T18:07:30+08:00</wp:At>', '<wp:At>2026-10-31T18:07:30.250</wp:At>')
gen = gen.replace('''        <Purp>
          <Cd>SALA</Cd>
        </Purp>
''', '', 1)
gen = gen.replace('''          <Ustrd>WAGE/2026-10</Ustrd>
        </RmtInf>''', '''          <Ustrd>WAGE/2026-10</Ustrd>
          <Strd>
            <AddtlRmtInf>payroll batch 2026-10</AddtlRmtInf>
          </Strd>
        </RmtInf>''', 1)
gen = gen.replace('''        </SplmtryData>
      </CdtTrfTxInf>''', '''        </SplmtryData>
        <SplmtryData>
          <PlcAndNm>generator</PlcAndNm>
          <Envlp>
            <Batch xmlns="urn:example:payroll">7</Batch>
          </Envlp>
        </SplmtryData>
      </CdtTrfTxInf>''', 1)
gen = gen.replace('good-3lines.xml: a sheet of three', 'good-generator.xml: good-3lines.xml as a standard generator writes it:\n  UltmtDbtr scheme as SchmeNm/Prtry USCC; lines 1 and 2 confirmed at a time\n  without a zone (read as +08:00); line 1 without Purp, with an RmtInf/Strd\n  and a second SplmtryData of the generator\'s own. Otherwise three')
write('good-generator.xml', gen)

# The purpose said per line instead of at the PmtInf (ISO puts PmtTpInf at
# either level), amounts with zeros after the second decimal, and a second
# Ustrd of free text beside the month (issue 24).
lp = good.replace('''      <PmtTpInf>
        <CtgyPurp>
          <Cd>SALA</Cd>
        </CtgyPurp>
      </PmtTpInf>
''', '', 1)
lp = lp.replace('''        <Purp>
          <Cd>SALA</Cd>
        </Purp>
''', '', 1)
lp = lp.replace('''          <EndToEndId>E2E-202610-0001</EndToEndId>
        </PmtId>''', '''          <EndToEndId>E2E-202610-0001</EndToEndId>
        </PmtId>
        <PmtTpInf>
          <CtgyPurp>
            <Cd>SALA</Cd>
          </CtgyPurp>
        </PmtTpInf>''', 1)
lp = lp.replace('<InstdAmt Ccy="CNY">4860.50</InstdAmt>', '<InstdAmt Ccy="CNY">4860.50000</InstdAmt>')
lp = lp.replace('<wp:GrossPay>5400.00</wp:GrossPay>', '<wp:GrossPay>5400.000</wp:GrossPay>')
lp = lp.replace('      <CtrlSum>14060.49</CtrlSum>\n      <InitgPty>', '      <CtrlSum>14060.490</CtrlSum>\n      <InitgPty>')
lp = lp.replace('''<Ustrd>WAGE/2026-10</Ustrd>
        </RmtInf>
        <SplmtryData>
          <Envlp>
            <wp:Line xmlns:wp="urn:wagepay:line:1">
              <wp:GrossPay>4400''', '''<Ustrd>工资 十月</Ustrd>
          <Ustrd>WAGE/2026-10</Ustrd>
        </RmtInf>
        <SplmtryData>
          <Envlp>
            <wp:Line xmlns:wp="urn:wagepay:line:1">
              <wp:GrossPay>4400''')
lp = lp.replace('good-3lines.xml: a sheet of three', 'good-line-purpose.xml: good-3lines.xml with no PmtInf/PmtTpInf: line 1 says\n  SALA in its own PmtTpInf/CtgyPurp, lines 2 and 3 in Purp; GrpHdr/CtrlSum\n  14060.490, line 2 InstdAmt 4860.50000 and GrossPay 5400.000 (zeros after\n  the second decimal); line 3 a free-text Ustrd before its month. Otherwise three')
write('good-line-purpose.xml', lp)

def bad(rule, why, text_from_good, *subs, count=1):
    t = text_from_good
    for a, b in subs:
        assert a in t, (rule, a)
        t = t.replace(a, b, count)
    t = re.sub(r'<!--\n.*?\n-->', '<!--\n  bad-%s.xml: %s\n-->' % (rule, why), t, count=1, flags=re.S)
    write('bad-%s.xml' % rule, t)

bad('root', 'the namespace of pain.001.001.09, not .10.', good, (NS, 'urn:iso:std:iso:20022:tech:xsd:pain.001.001.09'))
bad('no-msgid', 'GrpHdr/MsgId missing (fails the XSD too).', good, ('      <MsgId>SUB1-202610-001</MsgId>\n', ''))
bad('nboftxs', 'GrpHdr/NbOfTxs says 4, there are 3 lines.', good, ('      <NbOfTxs>3</NbOfTxs>\n      <CtrlSum>14060.49</CtrlSum>\n      <InitgPty>', '      <NbOfTxs>4</NbOfTxs>\n      <CtrlSum>14060.49</CtrlSum>\n      <InitgPty>'))
bad('ctrlsum', 'GrpHdr/CtrlSum 14060.50, the lines total 14060.49.', good, ('      <CtrlSum>14060.49</CtrlSum>\n      <InitgPty>', '      <CtrlSum>14060.50</CtrlSum>\n      <InitgPty>'))
bad('no-ctrlsum', 'GrpHdr/CtrlSum missing: optional in ISO, required by the profile.', good, ('      <CtrlSum>14060.49</CtrlSum>\n      <InitgPty>', '      <InitgPty>'))
bad('ctrlsum-decimals', 'GrpHdr/CtrlSum with a third decimal that is not zero (14060.491: a fraction of a fen).', good, ('      <CtrlSum>14060.49</CtrlSum>\n      <InitgPty>', '      <CtrlSum>14060.491</CtrlSum>\n      <InitgPty>'))
bad('pmtinf-nboftxs', 'PmtInf/NbOfTxs says 2, there are 3 lines.', good, ('      <NbOfTxs>3</NbOfTxs>\n      <CtrlSum>14060.49</CtrlSum>\n      <PmtTpInf>', '      <NbOfTxs>2</NbOfTxs>\n      <CtrlSum>14060.49</CtrlSum>\n      <PmtTpInf>'))
bad('pmtinf-ctrlsum', 'PmtInf/CtrlSum 14000.00, the lines total 14060.49.', good, ('      <CtrlSum>14060.49</CtrlSum>\n      <PmtTpInf>', '      <CtrlSum>14000.00</CtrlSum>\n      <PmtTpInf>'))
pm = good.index('    <PmtInf>'); pe = good.index('    </PmtInf>\n') + len('    </PmtInf>\n')
second = good[pm:pe].replace('PI-202610-01', 'PI-202610-02')
bad('two-pmtinf', 'two PmtInf blocks.', good, ('    </PmtInf>\n', '    </PmtInf>\n' + second))
bad('pmtmtd', 'PmtMtd CHK (cheque) instead of TRF.', good, ('<PmtMtd>TRF</PmtMtd>', '<PmtMtd>CHK</PmtMtd>'))
bad('ctgypurp', 'PmtTpInf/CtgyPurp/Cd SUPP (supplier payment) instead of SALA.', good, ('''        <CtgyPurp>
          <Cd>SALA</Cd>''', '''        <CtgyPurp>
          <Cd>SUPP</Cd>'''))
bad('no-pmttpinf', 'no PmtTpInf at all, and line 1 without Purp: nothing says SALA for it.', good, ('''      <PmtTpInf>
        <CtgyPurp>
          <Cd>SALA</Cd>
        </CtgyPurp>
      </PmtTpInf>
''', ''), ('''        <Purp>
          <Cd>SALA</Cd>
        </Purp>
''', ''))
bad('debtor-iban', 'the dedicated account given as an IBAN.', good, ('''      <DbtrAcct>
        <Id>
          <Othr>
            <Id>410501000000123456</Id>
          </Othr>
        </Id>''', '''      <DbtrAcct>
        <Id>
          <IBAN>DE89370400440532013000</IBAN>
        </Id>'''))
bad('debtor-ccy', 'DbtrAcct/Ccy USD.', good, ('        <Ccy>CNY</Ccy>', '        <Ccy>USD</Ccy>'))
bad('no-ultmtdbtr', 'no UltmtDbtr: the subcontractor is not named.', good, (good[good.index('      <UltmtDbtr>'):good.index('      </UltmtDbtr>\n') + len('      </UltmtDbtr>\n')], ''))
bad('ultmtdbtr-scheme', 'UltmtDbtr credit code under scheme TXID, not USCC.', good, ('''              <Id>91410105MA9K000022</Id>
              <SchmeNm>
                <Cd>USCC</Cd>''', '''              <Id>91410105MA9K000022</Id>
              <SchmeNm>
                <Cd>TXID</Cd>'''))
bad('uscc', 'UltmtDbtr credit code with a wrong check character (…023 for …022).', good, ('<Id>91410105MA9K000022</Id>', '<Id>91410105MA9K000023</Id>'))
bad('dup-e2e', 'line 3 repeats line 1\'s EndToEndId.', good, ('E2E-202610-0003', 'E2E-202610-0001'))
bad('currency', 'line 2 in USD.', good, ('<InstdAmt Ccy="CNY">4860.50</InstdAmt>', '<InstdAmt Ccy="USD">4860.50</InstdAmt>'))
bad('eqvtamt', 'line 2 as an equivalent amount (EqvtAmt) instead of InstdAmt.', good, ('''          <InstdAmt Ccy="CNY">4860.50</InstdAmt>''', '''          <EqvtAmt>
            <Amt Ccy="CNY">4860.50</Amt>
            <CcyOfTrf>CNY</CcyOfTrf>
          </EqvtAmt>'''))
bad('amount-decimals', 'line 2 amount with a third decimal that is not zero (4860.505: a fraction of a fen).', good, ('<InstdAmt Ccy="CNY">4860.50</InstdAmt>', '<InstdAmt Ccy="CNY">4860.505</InstdAmt>'))
bad('amount-zero', 'line 2 amount 0.00, totals adjusted.', good, ('<InstdAmt Ccy="CNY">4860.50</InstdAmt>', '<InstdAmt Ccy="CNY">0.00</InstdAmt>'), ('14060.49', '9199.99'), count=2)
bad('no-name', 'line 2 without Cdtr/Nm.', good, ('          <Nm>李四</Nm>\n', ''))
bad('no-nidn', 'line 2\'s ID number under scheme CCPT (passport), not NIDN.', good, ('''                <Id>411022199208150021</Id>
                <SchmeNm>
                  <Cd>NIDN</Cd>''', '''                <Id>411022199208150021</Id>
                <SchmeNm>
                  <Cd>CCPT</Cd>'''))
bad('creditor-iban', 'line 2\'s card given as an IBAN.', good, ('''            <Othr>
              <Id>62220212345678903</Id>
            </Othr>''', '''            <IBAN>DE89370400440532013000</IBAN>'''))
bad('creditor-ccy', 'line 2\'s card account in HKD.', good, ('''              <Id>62220212345678903</Id>
            </Othr>
          </Id>''', '''              <Id>62220212345678903</Id>
            </Othr>
          </Id>
          <Ccy>HKD</Ccy>'''))
bad('card-bank', 'line 2\'s card bank code has 11 digits.', good, ('<MmbId>102491000025</MmbId>', '<MmbId>10249100002</MmbId>'))
bad('purp', 'line 2\'s Purp/Cd is BONU, not SALA.', good, ('''        <Purp>
          <Cd>SALA</Cd>
        </Purp>
        <RmtInf>
          <Ustrd>WAGE/2026-10</Ustrd>
        </RmtInf>
        <SplmtryData>
          <Envlp>
            <wp:Line xmlns:wp="urn:wagepay:line:1">
              <wp:GrossPay>5400.00''', '''        <Purp>
          <Cd>BONU</Cd>
        </Purp>
        <RmtInf>
          <Ustrd>WAGE/2026-10</Ustrd>
        </RmtInf>
        <SplmtryData>
          <Envlp>
            <wp:Line xmlns:wp="urn:wagepay:line:1">
              <wp:GrossPay>5400.00'''))
bad('ustrd', 'line 2\'s RmtInf/Ustrd is WAGE/2026-13 (no such month).', good, ('''<Ustrd>WAGE/2026-10</Ustrd>
        </RmtInf>
        <SplmtryData>
          <Envlp>
            <wp:Line xmlns:wp="urn:wagepay:line:1">
              <wp:GrossPay>5400.00''', '''<Ustrd>WAGE/2026-13</Ustrd>
        </RmtInf>
        <SplmtryData>
          <Envlp>
            <wp:Line xmlns:wp="urn:wagepay:line:1">
              <wp:GrossPay>5400.00'''))
bad('month-mixed', 'line 3 is WAGE/2026-09 while lines 1 and 2 are WAGE/2026-10.', good, ('''<Ustrd>WAGE/2026-10</Ustrd>
        </RmtInf>
        <SplmtryData>
          <Envlp>
            <wp:Line xmlns:wp="urn:wagepay:line:1">
              <wp:GrossPay>4400''', '''<Ustrd>WAGE/2026-09</Ustrd>
        </RmtInf>
        <SplmtryData>
          <Envlp>
            <wp:Line xmlns:wp="urn:wagepay:line:1">
              <wp:GrossPay>4400'''))
bad('no-line', 'line 2 has no wp:Line (its SplmtryData is gone).', good, (tx(**W[1]), tx(**W[1])[:tx(**W[1]).index('        <SplmtryData>')] + '      </CdtTrfTxInf>\n'))
bad('line-structure', 'line 2\'s wp:Line lacks DaysWorked.', good, ('              <wp:DaysWorked>21</wp:DaysWorked>\n', ''))
bad('gross', 'line 2\'s GrossPay 4800.00 is less than its amount 4860.50.', good, ('<wp:GrossPay>5400.00</wp:GrossPay>', '<wp:GrossPay>4800.00</wp:GrossPay>'))
bad('days', 'line 2 says 32 days worked.', good, ('<wp:DaysWorked>21</wp:DaysWorked>', '<wp:DaysWorked>32</wp:DaysWorked>'))
bad('confirm-at', 'line 2\'s Confirmation/At with a blank for the T, as a spreadsheet shows it (not an xs:dateTime).', good, ('<wp:At>2026-10-31T18:07:30+08:00</wp:At>', '<wp:At>2026-10-31 18:07:30</wp:At>'))
bad('two-lines', 'line 2 carries a second SplmtryData with another wp:Line.', good, ('''          </Envlp>
        </SplmtryData>
      </CdtTrfTxInf>
      <CdtTrfTxInf>
        <PmtId>
          <EndToEndId>E2E-202610-0003</EndToEndId>''', '''          </Envlp>
        </SplmtryData>
        <SplmtryData>
          <Envlp>
            <wp:Line xmlns:wp="urn:wagepay:line:1">
              <wp:GrossPay>9000.00</wp:GrossPay>
              <wp:DaysWorked>21</wp:DaysWorked>
              <wp:Confirmation>
                <wp:At>2026-10-31T18:07:30+08:00</wp:At>
                <wp:Method>FACE</wp:Method>
                <wp:Ref>FACE-88232</wp:Ref>
              </wp:Confirmation>
            </wp:Line>
          </Envlp>
        </SplmtryData>
      </CdtTrfTxInf>
      <CdtTrfTxInf>
        <PmtId>
          <EndToEndId>E2E-202610-0003</EndToEndId>'''))
bad('ustrd-two', 'line 2 names two months in two Ustrd.', good, ('''<Ustrd>WAGE/2026-10</Ustrd>
        </RmtInf>
        <SplmtryData>
          <Envlp>
            <wp:Line xmlns:wp="urn:wagepay:line:1">
              <wp:GrossPay>5400''', '''<Ustrd>WAGE/2026-10</Ustrd>
          <Ustrd>BACKPAY/2026-09</Ustrd>
        </RmtInf>
        <SplmtryData>
          <Envlp>
            <wp:Line xmlns:wp="urn:wagepay:line:1">
              <wp:GrossPay>5400'''))
bad('confirm-method', 'line 2\'s Confirmation/Method is SMS.', good, ('<wp:Method>FACE</wp:Method>', '<wp:Method>SMS</wp:Method>'))
bad('confirm-ref', 'line 2\'s Confirmation/Ref has a blank inside.', good, ('<wp:Ref>FACE-88231</wp:Ref>', '<wp:Ref>FACE 88231</wp:Ref>'))
bad('line-ctgypurp', 'line 2 carries its own PmtTpInf/CtgyPurp/Cd SUPP.', good, ('''          <EndToEndId>E2E-202610-0002</EndToEndId>
        </PmtId>''', '''          <EndToEndId>E2E-202610-0002</EndToEndId>
        </PmtId>
        <PmtTpInf>
          <CtgyPurp>
            <Cd>SUPP</Cd>
          </CtgyPurp>
        </PmtTpInf>'''))
bad('line-ultmtdbtr', 'line 2 names another company as its UltmtDbtr.', good, ('''          <InstdAmt Ccy="CNY">4860.50</InstdAmt>
        </Amt>''', '''          <InstdAmt Ccy="CNY">4860.50</InstdAmt>
        </Amt>
        <UltmtDbtr>
          <Id>
            <OrgId>
              <Othr>
                <Id>91410100MA45Y0000Q</Id>
                <SchmeNm>
                  <Cd>USCC</Cd>
                </SchmeNm>
              </Othr>
            </OrgId>
          </Id>
        </UltmtDbtr>'''))
bad('msgid-control', 'GrpHdr/MsgId with a newline in it (&#10;), which would forge a log line.', good, ('<MsgId>SUB1-202610-001</MsgId>', '<MsgId>SUB1&#10;202610-001</MsgId>'))
bad('pmtinfid-control', 'PmtInf/PmtInfId with a tab in it (&#9;).', good, ('<PmtInfId>PI-202610-01</PmtInfId>', '<PmtInfId>PI&#9;202610-01</PmtInfId>'))
bad('e2e-control', 'line 2\'s EndToEndId with a carriage return in it (&#13;).', good, ('<EndToEndId>E2E-202610-0002</EndToEndId>', '<EndToEndId>E2E-202610&#13;-0002</EndToEndId>'))
