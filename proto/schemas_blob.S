/*
 * schemas_blob.S: the XML schemas, compiled into the binary as bytes.
 * Each schema is exported as a start symbol and a length; see xmlsafe.c.
 * Paths are relative to the top of the tree, where make runs.
 */
#define SCHEMA(sym, file) \
	.section .rodata; \
	.global sym; \
	.global sym##_len; \
	.balign 8; \
sym: \
	.incbin file; \
sym##_end: \
	.byte 0; \
	.balign 8; \
sym##_len: \
	.quad sym##_end - sym

SCHEMA(xsd_pain001, "proto/iso20022/pain.001.001.10.xsd")
SCHEMA(xsd_pain002, "proto/iso20022/pain.002.001.11.xsd")
SCHEMA(xsd_camt053, "proto/iso20022/camt.053.001.08.xsd")
SCHEMA(xsd_camt054, "proto/iso20022/camt.054.001.08.xsd")
SCHEMA(xsd_roster, "proto/xsd/roster.xsd")
SCHEMA(xsd_line, "proto/xsd/line.xsd")
SCHEMA(xsd_core, "proto/xsd/core.xsd")
SCHEMA(xsd_alert, "proto/xsd/alert.xsd")
SCHEMA(xsd_voucher, "proto/xsd/voucher.xsd")

	.section .note.GNU-stack,"",@progbits
