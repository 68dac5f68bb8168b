// guarantee.test.mjs: the project page's wage guarantee panel (issue #21) in
// headless Chromium, against the world tests/browser/run builds.
//
// A maker registers a guarantee account through the panel's form; a checker
// approves it on the approvals page; the panel then shows the account, what
// is required and what is held; a viewer's forms are greyed out.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { totpCode } from './totp.mjs';

const URL = process.env.WP_URL;
const OUT = process.env.WP_OUT;
const PROJECT = process.env.WP_PROJECT;

let browser;

before(async () => {
	browser = await chromium.launch({ executablePath: process.env.CHROMIUM, headless: true });
});
after(async () => { await browser?.close(); });

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
	return page;
}

async function go(page, hash, ready) {
	await page.goto(URL + '/' + hash);
	await page.waitForSelector(`main[data-ready="${hash.replace(/^#/, '')}"]`);
	await page.waitForSelector(ready);
}

test('a guarantee account registered through the page, four eyes', async () => {
	const maker = await signIn('maker1', 'maker-password-1');
	await go(maker, `#/projects/${PROJECT}`, '#guarantee');
	assert.match(await maker.textContent('#guarantee'), /尚未登记/);
	await maker.fill('#guarantee-account input[name=account]', 'GA-BR-0001');
	await maker.fill('#guarantee-account input[name=required]', '5000.00');
	await maker.click('#guarantee-account button[type=submit]');
	await maker.waitForSelector('#banner:not([hidden])');
	assert.match(await maker.getAttribute('#banner', 'class'), /good/, await maker.textContent('#banner'));
	const id = /#(\d+)/.exec(await maker.textContent('#banner'))[1];
	await maker.context().close();

	const checker = await signIn('checker1', 'checker-password-1');
	await go(checker, '#/approvals', `tr[data-approval="${id}"]`);
	assert.match(await checker.textContent(`tr[data-approval="${id}"]`), /工资保证金/);
	await checker.click(`button[data-approve="${id}"]`);
	await checker.waitForSelector('#banner.good:not([hidden])');
	await go(checker, `#/projects/${PROJECT}`, '#guarantee dl');
	const panel = await checker.textContent('#guarantee');
	assert.match(panel, /GA-BR-0001/);
	assert.match(panel, /应缴 Required5,000\.00/);
	assert.match(panel, /不足自 short since/, 'nothing deposited yet: short');
	await checker.screenshot({ path: path.join(OUT, '20-guarantee.png'), fullPage: true });
	await checker.context().close();

	const viewer = await signIn('viewer1', 'viewer-password-1');
	await go(viewer, `#/projects/${PROJECT}`, '#guarantee dl');
	assert.ok(await viewer.isDisabled('#guarantee-draw button[type=submit]'), 'a viewer draws nothing');
	await viewer.context().close();
});
