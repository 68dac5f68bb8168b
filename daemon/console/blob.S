/*
 * blob.S: the console's web page, compiled into the binary as bytes so that
 * a deployed daemon serves exactly the page it was built with and needs no
 * files beside it. Each file is exported as a start symbol and a length;
 * see daemon/page.c. Paths are relative to the top of the tree, where make
 * runs.
 */
/* The length is measured to the end of the file's bytes, before the NUL
 * and the alignment padding, so that no padding byte is ever served. */
#define PAGE_FILE(sym, file) \
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

PAGE_FILE(page_index_html, "daemon/console/index.html")
PAGE_FILE(page_app_js, "daemon/console/app.js")
PAGE_FILE(page_style_css, "daemon/console/style.css")

	.section .note.GNU-stack,"",@progbits
