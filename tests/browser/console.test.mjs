// console.test.mjs: the operations console in headless Chromium, against
// the world tests/browser/run builds (real daemon, real PostgreSQL).
//
// A maker proposes a project through the page, a checker approves it and
// sees the account open; the held sheet and the undelivered alert are on the
// pages; a viewer finds every change refused (greyed out on the page, and
// 403 from the API when forced); four eyes holds on the page too. Every page
// is photographed into tests/browser/out/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { chromium } from 'playwright-core';
import { totpCode } from './totp.mjs';

const URL = process.env.WP_URL;
const OUT = process.env.WP_OUT;
const PROJECT = 'XM-2026-BR01';
const ACCOUNT = '6228480000000000777';

let browser;

before(async () => {
	browser = await chromium.launch({ executablePath: process.env.CHROMIUM, headless: true });
});
after(async () => { await browser?.close(); });

// A fresh browser context (its own cookie jar) signed in as name.
async function signIn(name, password) {
	const ctx = await browser.newContext({
		ignoreHTTPSErrors: true, viewport: { width: 1360, height: 900 }, locale: 'zh-CN',
	});
	const page = await ctx.newPage();
	page.on('pageerror', (e) => { throw new Error(`page error: ${e.message}`); });
	await page.goto(URL + '/');
	await page.waitForSelector('form input[name=name]');
	await page.fill('input[name=name]', name);
	await page.fill('input[name=password]', password);
	await page.fill('input[name=code]', totpCode(name));
	await page.click('button[type=submit]');
	await page.waitForSelector('#who:not([hidden])');
	assert.equal(await page.textContent('#who-name'), name);
	return page;
}

// Opens a view and waits until it is drawn (app.js marks main with
// data-ready=PATH), then for the ready selector within it.
async function go(page, hash, ready) {
	await page.goto(URL + '/' + hash);
	await drawn(page, hash, ready);
}

async function drawn(page, hash, ready) {
	const p = hash.replace(/^#/, '').split('?')[0];
	await page.waitForSelector(`main[data-ready="${p}"]`);
	await page.waitForSelector(ready);
}

async function shot(page, name) {
	await page.screenshot({ path: path.join(OUT, name + '.png'), fullPage: true });
}

// Calls the API from inside the page, as the page's own script would (same
// origin, the session cookie, an Origin header): what a viewer could do by
// hand from the browser's console.
async function forced(page, method, url, body) {
	return page.evaluate(async ([m, u, b]) => {
		const r = await fetch(u, { method: m, headers: { 'Content-Type': 'application/json' },
			body: b === undefined ? undefined : JSON.stringify(b) });
		return r.status;
	}, [method, url, body]);
}

test('the sign-in page', async () => {
	const ctx = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1360, height: 800 } });
	const page = await ctx.newPage();
	await page.goto(URL + '/');
	await page.waitForSelector('section.signin');
	// before anyone signs in: no navigation, no operator, no sign-out
	// (issue 24: display:flex of .tabs and .who overrode hidden)
	assert.equal(await page.isVisible('#nav'), false, 'navigation shown before sign-in');
	assert.equal(await page.isVisible('#who'), false, 'operator box shown before sign-in');
	assert.equal(await page.isVisible('#signout'), false, 'sign-out shown before sign-in');
	await page.fill('input[name=name]', 'maker1');
	await page.fill('input[name=password]', 'not-the-password');
	await page.click('button[type=submit]');
	await page.waitForSelector('p.refusal:has-text("wrong name, password or code")');
	await shot(page, '01-signin');
	assert.equal(await page.isVisible('#nav'), false, 'navigation shown after a refused sign-in');
	await ctx.close();
});

test('signed in, the frame shows; signed out, it names nobody', async () => {
	const page = await signIn('viewer1', 'viewer-password-1');
	await drawn(page, '#/overview', '.cards');
	assert.equal(await page.isVisible('#nav'), true);
	assert.equal(await page.isVisible('#signout'), true);
	await page.click('#signout');
	await page.waitForSelector('section.signin');
	await page.waitForSelector('p.refusal:has-text("signed out")');
	assert.equal(await page.isVisible('#nav'), false, 'navigation shown after sign-out');
	assert.equal(await page.isVisible('#who'), false, 'operator box shown after sign-out');
	assert.equal(await page.textContent('#who-name'), '', 'the header still names the operator');
	await shot(page, '01b-signed-out');
	await page.context().close();
});

let approvalId;

test('a maker proposes a project and cannot approve it', async () => {
	const page = await signIn('maker1', 'maker-password-1');
	await drawn(page, '#/overview', '.cards');
	await shot(page, '02-overview-maker');
	await go(page, '#/new-project', 'form#new-project');
	await page.fill('#code', PROJECT);
	await page.fill('#name', '郑州浏览器测试安置房项目');
	await page.fill('#region', process.env.WP_REGION);
	await page.selectOption('#industry', 'housing');
	await page.fill('#owner_uscc', process.env.WP_OWNER_USCC);
	await page.fill('#owner_name', '郑州市城市建设投资有限公司');
	await page.fill('#contractor_uscc', process.env.WP_GC_USCC);
	await page.fill('#contractor_name', '河南建工集团有限公司');
	await page.fill('#account', ACCOUNT);
	await page.fill('#labour_cost_total', '3600000.00');
	await page.fill('#contract_months', '18');
	await page.fill('#start_month', '2026-06');
	await page.fill('#pay_day', '10');
	await shot(page, '03-new-project');
	await page.click('#propose');
	await page.waitForSelector('#banner.good:not([hidden])');
	const text = await page.textContent('#banner');
	approvalId = /#(\d+)/.exec(text)[1];
	await page.waitForSelector(`tr[data-approval="${approvalId}"]`);
	// the maker's own proposal: the page does not offer the decision
	assert.ok(await page.isDisabled(`button[data-approve="${approvalId}"]`));
	// and the server refuses it when forced (role: a maker does not decide)
	assert.equal(await forced(page, 'POST', `/api/approvals/${approvalId}`, { decision: 'approve' }), 403);
	await shot(page, '04-approvals-maker');
	await page.context().close();
});

test('a checker approves and sees the account open', async () => {
	const page = await signIn('checker1', 'checker-password-1');
	await go(page, '#/approvals', `tr[data-approval="${approvalId}"]`);
	assert.ok(!(await page.isDisabled(`button[data-approve="${approvalId}"]`)));
	await shot(page, '05-approvals-checker');
	await page.click(`button[data-approve="${approvalId}"]`);
	await page.waitForSelector('#banner.good:not([hidden])');
	assert.match(await page.textContent('#banner'), /已批准 Approved/);
	await go(page, `#/projects/${PROJECT}`, 'h1');
	const cards = await page.textContent('.cards');
	assert.match(cards, new RegExp(ACCOUNT));
	assert.match(cards, /正常 Open/);
	assert.match(await page.textContent('h1'), /郑州浏览器测试安置房项目/);
	await shot(page, '06-project-opened');
	await go(page, '#/projects', 'table');
	assert.match(await page.textContent('main'), new RegExp(PROJECT));
	await shot(page, '07-projects');
	await page.context().close();
});

test('the held sheet and the undelivered alert are shown', async () => {
	const page = await signIn('checker1', 'checker-password-1');
	await drawn(page, '#/overview', '#held table');
	const held = await page.textContent('#held');
	assert.match(held, new RegExp(process.env.WP_HELD));
	assert.match(held, /待资金 Held for funds/);
	await shot(page, '08-overview-held');
	await page.click(`#held a:has-text("${process.env.WP_HELD}")`);
	await page.waitForSelector('main[data-ready^="/sheets/"] table');
	const ids = await page.$$eval('main tbody tr td:nth-child(4)', (tds) => tds.map((t) => t.textContent));
	assert.ok(ids.length === 2);
	for (const id of ids) assert.match(id, /^\d{4}\*{10}[\dX]{4}$/, 'ID numbers are masked');
	const cards = await page.$$eval('main tbody tr td:nth-child(5)', (tds) => tds.map((t) => t.firstChild.textContent));
	for (const c of cards) assert.match(c, /^\d{4}\*+\d{4}$/, 'card numbers are masked');
	assert.match(await page.textContent('main'), /整表暂缓支付/);
	await shot(page, '09-sheet-held');
	await go(page, `#/projects/${process.env.WP_PROJECT}`, '#sheets table');
	await shot(page, '10-project-demo');
	await go(page, '#/alerts', 'main');
	await page.waitForSelector('tr[data-alert]');
	const alerts = await page.textContent('main table');
	assert.match(alerts, /余额不足 Balance short/);
	assert.match(alerts, new RegExp(process.env.WP_HELD));
	assert.doesNotMatch(alerts, /已送达 Delivered/);
	await shot(page, '11-alerts');
	const id = await page.getAttribute('tr[data-alert] button[data-retry]', 'data-retry');
	await page.click(`button[data-retry="${id}"]`);
	await page.waitForSelector('#banner.good:not([hidden])');
	await go(page, '#/audit', '#verify');
	assert.match(await page.textContent('#verify'), /链完整 Chain intact/);
	assert.match(await page.textContent('main table'), /预警重发 alert retry/);
	assert.match(await page.textContent('main table'), new RegExp(`account:${process.env.WP_ACCOUNT}`),
		'each record shows its chain');
	await shot(page, '12-audit');
	await page.context().close();
});

test('a viewer finds every change refused', async () => {
	// something for the viewer to try to decide
	const maker = await signIn('maker1', 'maker-password-1');
	await go(maker, '#/movement', 'form#movement');
	await shot(maker, '13-movement');
	// (a manual credit can no longer be proposed: a project's completion is)
	await go(maker, `#/projects/${PROJECT}`, '#complete-form');
	await maker.fill('#completed_on', '2026-06-30');
	await maker.click('#complete-form button[type=submit]');
	await maker.waitForSelector('#banner:not([hidden])');
	assert.match(await maker.getAttribute('#banner', 'class'), /good/, await maker.textContent('#banner'));
	const pending = /#(\d+)/.exec(await maker.textContent('#banner'))[1];
	await maker.context().close();

	const page = await signIn('viewer1', 'viewer-password-1');
	const before = await page.evaluate(async () => (await (await fetch('/api/approvals?state=all')).json()).length);
	// the page offers nothing that changes state
	for (const a of await page.$$('#nav a.action'))
		assert.equal(await a.getAttribute('aria-disabled'), 'true');
	await go(page, '#/approvals', `tr[data-approval="${pending}"]`);
	assert.ok(await page.isDisabled(`button[data-approve="${pending}"]`));
	assert.ok(await page.isDisabled(`button[data-reject="${pending}"]`));
	await shot(page, '14-approvals-viewer');
	await go(page, '#/alerts', 'tr[data-alert]');
	for (const b of await page.$$('button[data-retry]')) assert.ok(await b.isDisabled());
	await go(page, `#/projects/${PROJECT}`, '#close-form');
	assert.ok(await page.isDisabled('#close-form button'));
	await go(page, '#/new-project', 'form#new-project');
	assert.ok(await page.isDisabled('#propose'));
	assert.match(await page.textContent('main'), /A viewer cannot change anything/);
	await shot(page, '15-new-project-viewer');
	await go(page, '#/movement', 'form#movement');
	assert.ok(await page.isDisabled('form#movement button[type=submit]'));

	// and the server refuses each change when the page is bypassed
	const alertId = await page.evaluate(async () => (await (await fetch('/api/alerts?state=all')).json())[0].id);
	const calls = [
		['POST', '/api/projects', { code: 'VIEWER-1', name: 'x' }],
		['POST', `/api/approvals/${pending}`, { decision: 'approve' }],
		['POST', `/api/approvals/${pending}`, { decision: 'reject' }],
		['POST', `/api/projects/${PROJECT}/close`, { reason: 'x' }],
		['POST', '/api/movements', { from: 'CLEARING-IN', to: process.env.WP_ACCOUNT, amount: '1.00', reason: 'x' }],
		['POST', '/api/movements', { deposit: 'DEP-1', amount: '1.00' }],
		['POST', `/api/projects/${PROJECT}/complete`, { completed_on: '2026-01-31' }],
		['POST', `/api/alerts/${alertId}/retry`, {}],
	];
	for (const [m, u, b] of calls)
		assert.equal(await forced(page, m, u, b), 403, `${m} ${u} must be refused to a viewer`);
	const afterN = await page.evaluate(async () => (await (await fetch('/api/approvals?state=all')).json()).length);
	assert.equal(afterN, before, 'nothing was proposed');
	const still = await page.evaluate(async (id) => (await (await fetch('/api/approvals?state=all')).json())
		.find((a) => a.id === Number(id)).state, pending);
	assert.equal(still, 'pending', 'nothing was decided');

	// the page shows the server's refusal when a refused action is attempted
	await go(page, '#/approvals', `tr[data-approval="${pending}"]`);
	await page.$eval(`button[data-approve="${pending}"]`, (b) => { b.disabled = false; });
	await page.click(`button[data-approve="${pending}"]`);
	await page.waitForSelector('#banner:not(.good):not([hidden])');
	assert.match(await page.textContent('#banner'), /Refused: your role may not do this/);
	await shot(page, '16-viewer-refused');
	await page.context().close();
});

test('four eyes holds on the page, even for an admin', async () => {
	const page = await signIn('admin1', 'admin-password-1');
	// an admin proposing and approving the same thing: four eyes on the page too
	await go(page, `#/projects/${process.env.WP_PROJECT}`, '#complete-form');
	await page.fill('#completed_on', '2026-01-31');
	await page.click('#complete-form button[type=submit]');
	await page.waitForSelector('#banner:not([hidden])');
	assert.match(await page.getAttribute('#banner', 'class'), /good/, await page.textContent('#banner'));
	const own = /#(\d+)/.exec(await page.textContent('#banner'))[1];
	await page.waitForSelector(`tr[data-approval="${own}"]`);
	assert.ok(await page.isDisabled(`button[data-approve="${own}"]`));
	assert.match(await page.textContent(`tr[data-approval="${own}"]`), /four eyes/);
	assert.equal(await forced(page, 'POST', `/api/approvals/${own}`, { decision: 'approve' }), 403);
	await go(page, '#/audit', '#verify');
	await shot(page, '17-audit-admin');
	await page.context().close();
});

test('text from outside is shown as text, never run', async () => {
	const page = await signIn('maker1', 'maker-password-1');
	const evil = '<img src=x onerror="window.pwned=1">恶意工程<script>window.pwned=2</script>';
	const status = await page.evaluate(async ([name, region, owner, gc]) => (await fetch('/api/projects', {
		method: 'POST', headers: { 'Content-Type': 'application/json' },
		body: JSON.stringify({ code: 'XSS-1', name, region, industry: 'water',
			owner: { uscc: owner, name: '<b>owner</b>' }, contractor: { uscc: gc, name: 'gc' },
			account: 'ACC-XSS-1', labour_cost_total: '1.00', contract_months: 1,
			start_month: '2026-01', pay_day: 1 }) })).status,
	[evil, process.env.WP_REGION, process.env.WP_OWNER_USCC, process.env.WP_GC_USCC]);
	assert.equal(status, 200);
	await go(page, '#/approvals', 'tr[data-approval]');
	assert.match(await page.textContent('main table'), /<img src=x onerror=/);
	assert.equal(await page.$('main table img'), null, 'no element was made from the name');
	assert.equal(await page.evaluate(() => window.pwned), undefined, 'no script ran');
	await page.context().close();
});

test('a tampered audit record is named on the page', async () => {
	const psql = (sql) => execFileSync('psql', ['-h', process.env.WP_PGHOST, '-U', 'wagepay',
		'-d', 'wagepay', '-qAt', '-v', 'ON_ERROR_STOP=1', '-c', sql], { encoding: 'utf8' }).trim();
	const victim = psql("SELECT min(id) FROM audit WHERE action = 'approval.approved'");
	psql('ALTER TABLE audit DISABLE TRIGGER audit_immutable; '
		+ `UPDATE audit SET detail = detail || ' (edited)' WHERE id = ${victim}; `
		+ 'ALTER TABLE audit ENABLE TRIGGER audit_immutable');
	const page = await signIn('viewer1', 'viewer-password-1');
	await go(page, '#/audit', '#verify');
	assert.match(await page.textContent('#verify'), /链已断裂 Chain broken/);
	assert.match(await page.textContent('#first-broken'), new RegExp(`#${victim}$`));
	assert.match(await page.textContent('#broken-chain'), /global$/, 'the broken chain is named');
	assert.ok(await page.$(`tr.broken[data-audit="${victim}"]`), 'the broken record is marked in the list');
	await shot(page, '18-audit-broken');
	await page.context().close();
});
