// daily.test.mjs: the console's daily work (issue 24, part 4) in headless
// Chromium, against the world tests/browser/run builds: alerts and audit
// records said in Chinese (amounts as ¥1,234.50, the dedicated account by
// its number, the English code still shown); every time with its zone
// (+08:00) even in a browser in New York; the frame hidden before sign-in
// and after sign-out, naming nobody; a worker's payments found by ID
// number; a sheet's lines as CSV; the printable voucher. Each page is
// photographed into tests/browser/out/ (daily-*.png).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { totpCode } from './totp.mjs';

const URL = process.env.WP_URL;
const OUT = process.env.WP_OUT;
const ACCOUNT = process.env.WP_ACCOUNT;
const PAID = process.env.WP_PAID;
const WORKER = process.env.WP_WORKER_ID;
const masked = (s) => s.slice(0, 4) + '*'.repeat(s.length - 8) + s.slice(-4);

// A time on the page without its zone: hh:mm, not followed by ":ss +08:00"
// (the zone's own "08:00" after '+' is not one).
const ZONELESS = /(?<![+\d:])\d{2}:\d{2}(?::\d{2})?(?![:\d])(?! \+08:00)/;

let browser, page;

before(async () => {
	browser = await chromium.launch({ executablePath: process.env.CHROMIUM, headless: true });
	// a browser far from China: the page must still say China time
	const ctx = await browser.newContext({
		ignoreHTTPSErrors: true, viewport: { width: 1360, height: 900 }, locale: 'zh-CN',
		timezoneId: 'America/New_York', acceptDownloads: true,
	});
	page = await ctx.newPage();
	page.on('pageerror', (e) => { throw new Error(`page error: ${e.message}`); });
});
after(async () => { await browser?.close(); });

async function go(hash, ready) {
	await page.goto(URL + '/' + hash);
	const p = hash.replace(/^#/, '').split('?')[0];
	await page.waitForSelector(`main[data-ready="${p}"]`);
	await page.waitForSelector(ready);
}

async function shot(name) {
	await page.screenshot({ path: path.join(OUT, `daily-${name}.png`), fullPage: true });
}

// What is shown of the frame: hidden attribute and computed display both.
async function frameShown() {
	return page.evaluate(() => ['nav', 'who', 'signout'].map((id) => {
		const e = document.getElementById(id);
		return getComputedStyle(e).display !== 'none' && e.offsetParent !== null;
	}));
}

async function api(url) {
	return page.evaluate(async (u) => (await fetch(u)).json(), url);
}

test('before sign-in the frame is hidden; signed in it shows', async () => {
	await page.goto(URL + '/');
	await page.waitForSelector('section.signin');
	assert.deepEqual(await frameShown(), [false, false, false], 'nav, operator box, sign-out before sign-in');
	assert.equal(await page.textContent('#who-name'), '');
	await shot('01-signin');
	await page.fill('input[name=name]', 'viewer1');
	await page.fill('input[name=password]', 'viewer-password-1');
	await page.fill('input[name=code]', totpCode('viewer1'));
	await page.click('button[type=submit]');
	await page.waitForSelector('#who:not([hidden])');
	assert.deepEqual(await frameShown(), [true, true, true]);
	assert.equal(await page.textContent('#who-name'), 'viewer1');
});

test('alerts are said in Chinese, in yuan, with the account number and the kind', async () => {
	await go('#/alerts', 'tr[data-alert]');
	const row = page.locator('tr[data-alert]', { hasText: 'BALANCE_SHORT' }).first();
	const text = await row.innerText();
	assert.match(text, new RegExp(`工资表 ${process.env.WP_HELD} 整表暂缓支付：专用账户 ${ACCOUNT} 可用余额 ¥[\\d,]+\\.\\d\\d，需 ¥12,000\\.00，缺口 ¥[\\d,]+\\.\\d\\d`));
	assert.match(text, /BALANCE_SHORT/, 'the English kind stays visible for support');
	assert.match(text, /缺口 ¥[\d,]+\.\d\d/, 'the figures in yuan');
	assert.doesNotMatch(text, /\bfen\b/, 'no amount in fen');
	assert.doesNotMatch(text, /wage sheet held: the dedicated account cannot pay it/, 'the English is folded away');
	// and the original, opened, is the English the regulators received
	await row.locator('details.orig summary').click();
	assert.match(await row.innerText(), /wage sheet held: the dedicated account cannot pay it/);
	await shot('02-alerts-chinese');
});

test('audit records are said in Chinese, in yuan, with the account number and the action', async () => {
	// find the page of the trail holding the sheet's payment and the deposit
	const rec = await page.evaluate(async () => {
		let before = '', all = [];
		for (let i = 0; i < 20; i++) {
			const list = await (await fetch('/api/audit' + before)).json();
			all = all.concat(list);
			if (list.length < 100) break;
			before = '?before=' + list[list.length - 1].id;
		}
		return ['sheet.paid', 'deposit.booked'].map((a) => all.find((r) => r.action === a));
	});
	const [paid, booked] = rec;
	await go(`#/audit?before=${Math.max(paid.id, booked.id) + 1}`, `tr[data-audit="${paid.id}"]`);
	const p = await page.locator(`tr[data-audit="${paid.id}"]`).innerText();
	assert.match(p, new RegExp(`工资表 SHEET-2026-10-[AB]：专用账户 ${ACCOUNT} 代发工资 ¥[\\d,]+\\.\\d\\d`));
	assert.match(p, /sheet\.paid/, 'the action code stays visible');
	assert.doesNotMatch(p, /\bfen\b/);
	assert.doesNotMatch(p, /account \d+ debited/, 'no internal account id');
	const b = await page.locator(`tr[data-audit="${booked.id}"]`).innerText();
	assert.match(b, new RegExp(`专用账户 ${ACCOUNT} 入账 ¥10,000\\.00，流水号 DEP-1`));
	assert.match(b, /deposit\.booked/);
	const visible = await page.innerText('main table');
	assert.doesNotMatch(visible, /\d fen\b/, 'no record shows fen');
	await shot('03-audit-chinese');
});

test('every time is shown with its zone, China time, even in New York', async () => {
	const sheets = (await api(`/api/projects/${process.env.WP_PROJECT}`)).sheet_list;
	const s = sheets.find((x) => x.msg_id === PAID);
	const paidAt = new Date(s.paid_at.replace(/(\.\d{3})\d+/, '$1'));
	const cst = new Date(paidAt.getTime() + 8 * 3600e3).toISOString();
	const want = `${cst.slice(0, 10)} ${cst.slice(11, 19)} +08:00`;
	await go(`#/sheets/${s.id}`, 'main table');
	assert.match(await page.innerText('main .cards'), new RegExp(want.replace('+', '\\+')), 'paid_at in China time with +08:00');
	for (const [hash, ready] of [['#/overview', '.cards'], [`#/sheets/${s.id}`, 'main table'], ['#/alerts?state=all', 'tr[data-alert]'],
		['#/approvals?state=all', 'tr[data-approval]'], ['#/audit', 'tr[data-audit]'], [`#/projects/${process.env.WP_PROJECT}`, '#sheets table']]) {
		await go(hash, ready);
		const text = await page.innerText('main');
		assert.match(text, /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+08:00/, `${hash}: times with their zone`);
		assert.doesNotMatch(text, ZONELESS, `${hash}: a time without its zone: ${ZONELESS.exec(text)?.[0]}`);
	}
	await go('#/overview', '.cards');
	await shot('04-times-with-zone');
});

test('a worker\'s payments, found by ID number: was this worker paid for October?', async () => {
	await go('#/worker-payments', 'form#worker-search');
	assert.ok(await page.isVisible('#nav a[data-view="worker-payments"].on'), 'the tab is in the navigation');
	// a number that is no ID number, and one with a wrong check digit
	await page.fill('#worker-id', '12345');
	await page.click('#worker-search button[type=submit]');
	await page.waitForSelector('#worker-result[data-state="refused"]');
	assert.match(await page.textContent('#worker-error'), /18 characters/);
	const wrong = WORKER.slice(0, 17) + (WORKER[17] === '0' ? '1' : '0');
	await page.fill('#worker-id', wrong);
	await page.click('#worker-search button[type=submit]');
	await page.waitForSelector('#worker-error:has-text("check digit")');
	await shot('05-worker-bad-id');
	// the real one, asking about October
	await page.fill('#worker-id', WORKER);
	await page.fill('#worker-month', '2026-10');
	await page.click('#worker-search button[type=submit]');
	await page.waitForSelector('#worker-result[data-state="shown"]');
	assert.match(await page.textContent('[data-verdict]'), /2026-10：已发放 \/ paid/);
	assert.equal(await page.getAttribute('[data-verdict]', 'data-verdict'), 'paid');
	const row = await page.innerText('#worker-result tr[data-month="2026-10"]');
	assert.match(row, new RegExp(process.env.WP_PROJECT));
	assert.match(row, new RegExp(PAID));
	assert.match(row, /¥3,000\.00/);
	assert.match(row, /已付款待到账 Paid, not credited yet/);
	assert.match(row, /\bPAID\b/);
	assert.match(row, /\+08:00/);
	const result = await page.innerText('#worker-result');
	assert.ok(result.includes(masked(WORKER)), 'the ID number is shown masked');
	assert.ok(!result.includes(WORKER), 'never in clear');
	assert.ok(!page.url().includes(WORKER), 'nor in the address');
	await shot('06-worker-october');
	// a month with nothing paid
	await page.fill('#worker-month', '2026-09');
	await page.click('#worker-search button[type=submit]');
	await page.waitForSelector('[data-verdict="none"]');
	assert.match(await page.textContent('[data-verdict]'), /无工资发放记录/);
});

test('a sheet\'s lines as CSV, from the sheet view', async () => {
	const s = (await api(`/api/projects/${process.env.WP_PROJECT}`)).sheet_list.find((x) => x.msg_id === PAID);
	await go(`#/sheets/${s.id}`, '#lines-csv');
	await shot('07-sheet-actions');
	const href = await page.getAttribute('#lines-csv', 'href');
	assert.match(href, new RegExp(`^/api/sheets/${PAID}/lines\\.csv\\?contractor=`));
	const got = await page.evaluate(async (u) => {
		const r = await fetch(u);
		const bytes = new Uint8Array(await r.arrayBuffer());
		return { status: r.status, type: r.headers.get('content-type'), bom: Array.from(bytes.slice(0, 3)),
			text: new TextDecoder().decode(bytes.slice(3)) };
	}, href);
	assert.equal(got.status, 200);
	assert.equal(got.type, 'text/csv; charset=utf-8');
	assert.deepEqual(got.bom, [0xef, 0xbb, 0xbf], 'a UTF-8 BOM, for Excel');
	const rows = got.text.trim().split('\r\n');
	assert.match(rows[0], /^端到端编号 EndToEndId,姓名 Name,/);
	assert.equal(rows.length, 4, 'the header and one row per line');
	assert.match(rows[1], new RegExp(`^"E1",".*","${masked(WORKER).replace(/\*/g, '\\*')}","\\d{4}\\*+\\d{4}","3000.00","已支付 paid","已付款待到账 PAID"$`));
	assert.ok(!got.text.includes(WORKER), 'no clear ID number');
	// the link downloads it as a file
	const [download] = await Promise.all([page.waitForEvent('download'), page.click('#lines-csv')]);
	assert.equal(download.suggestedFilename(), `${PAID}-lines.csv`);
});

test('the printable voucher, from the sheet view', async () => {
	const s = (await api(`/api/projects/${process.env.WP_PROJECT}`)).sheet_list.find((x) => x.msg_id === PAID);
	await go(`#/sheets/${s.id}`, '#print-voucher');
	await page.click('#print-voucher');
	await page.waitForSelector(`main[data-ready="/sheets/${s.id}/voucher"] #voucher`);
	const v = await page.innerText('#voucher');
	assert.match(v, /农民工工资代发凭证/);
	assert.match(v, new RegExp(PAID));
	assert.match(v, new RegExp(process.env.WP_PROJECT));
	assert.match(v, /2026-10/);
	assert.match(v, /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+08:00/, 'paid at, with its zone');
	assert.equal(await page.textContent('#voucher-count'), '3');
	assert.match(await page.textContent('#voucher-total'), /^¥7,300\.00/);
	assert.match(await page.textContent('#voucher-signature'), /已出具，由银行数字签名/);
	assert.ok(v.includes(masked(WORKER)) && !v.includes(WORKER), 'ID numbers masked');
	await shot('08-voucher');
	// on paper: no navigation, no operator, no buttons
	await page.emulateMedia({ media: 'print' });
	for (const sel of ['#nav', '#who', '.topbar', '#print', '.foot'])
		assert.equal(await page.isVisible(sel), false, `${sel} is not printed`);
	assert.equal(await page.isVisible('#voucher'), true);
	await shot('09-voucher-print');
	await page.emulateMedia({ media: 'screen' });
	// the held sheet has no voucher to print
	const held = (await api(`/api/projects/${process.env.WP_PROJECT}`)).sheet_list.find((x) => x.msg_id === process.env.WP_HELD);
	await go(`#/sheets/${held.id}/voucher`, '#voucher');
	assert.match(await page.textContent('#voucher-signature'), /不出具/);
});

test('signed out, the header names nobody and the frame is hidden', async () => {
	await go('#/overview', '.cards');
	await page.click('#signout');
	await page.waitForSelector('section.signin');
	await page.waitForSelector('p.refusal:has-text("signed out")');
	assert.deepEqual(await frameShown(), [false, false, false], 'nav, operator box, sign-out after sign-out');
	assert.equal(await page.textContent('#who-name'), '', 'the header still names the operator');
	assert.equal(await page.textContent('#who-role'), '');
	assert.doesNotMatch(await page.innerText('body'), /viewer1/);
	await shot('10-signed-out');
});
