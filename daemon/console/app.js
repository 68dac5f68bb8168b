/*
 * app.js: the operations console's page. Plain JavaScript, no build step,
 * no library. Draws each view from the JSON API of daemon/console.c and
 * sends the operator's actions back to it.
 *
 * The server decides: roles, four eyes and cross-site refusal are enforced
 * by the daemon and the database. This page only greys out what the
 * signed-in role may not do, and shows the server's refusal when it comes.
 * Every piece of data is put into the page as text (textContent), never as
 * HTML, so a company or worker name cannot become markup.
 */
'use strict';

/* --- labels: Chinese and English side by side where the term is domain ---- */

const L = {
	sheetState: {
		paid: ['已支付', 'Paid', 'ok'], held: ['待资金', 'Held for funds', 'warn'],
		rejected: ['已拒绝', 'Rejected', 'bad'], received: ['处理中', 'Received', 'grey'],
		cancelled: ['已撤回', 'Withdrawn', 'grey'],
	},
	lineStatus: {
		paid: ['已支付', 'Paid', 'ok'], refused: ['已拒绝', 'Refused', 'bad'],
		held: ['暂缓', 'Held', 'warn'], returned: ['已退回', 'Returned', 'warn'],
		cancelled: ['已撤回', 'Withdrawn', 'grey'],
	},
	approvalKind: {
		OPEN_ACCOUNT: ['开立专用账户', 'Open dedicated account'],
		CLOSE_ACCOUNT: ['专用账户销户', 'Close dedicated account'],
		MANUAL_MOVEMENT: ['退还拨付', 'Deposit return'],
		COMPLETE_PROJECT: ['项目完工', 'Project complete'],
		GUARANTEE: ['工资保证金/保函登记', 'Wage guarantee'],
		GUARANTEE_DRAW: ['动用工资保证金', 'Guarantee draw'],
		GUARANTEE_RELEASE: ['退还工资保证金', 'Guarantee release'],
	},
	approvalState: {
		pending: ['待复核', 'Pending', 'warn'], approved: ['已批准', 'Approved', 'ok'],
		rejected: ['已驳回', 'Rejected', 'grey'], failed: ['执行失败', 'Failed', 'bad'],
	},
	alertKind: {
		BALANCE_SHORT: ['余额不足', 'Balance short'],
		DEPOSIT_SHORT: ['人工费拨付不足', 'Deposit short'],
		WAGES_OVERDUE: ['欠薪预警', 'Wages overdue'],
		MISUSE_ATTEMPT: ['挪用企图', 'Misuse attempt'],
		SEIZURE_REFUSED: ['拒绝冻结划扣', 'Seizure refused'],
		LEGAL_ORDER_APPLIED: ['司法冻结划扣已执行', 'Legal order applied'],
		CARD_CONCENTRATION: ['一卡多人', 'Card concentration'],
		ACCOUNTS_OPENED: ['开户月报', 'Accounts opened'],
		PAYMENT_FAILED: ['代发失败', 'Payment failed'],
		SETTLEMENT_OVERDUE: ['到账超时', 'Settlement overdue'],
		CARD_CHANGED: ['工资卡变更', 'Card changed'],
		MANUAL_DEBIT: ['专户人工支出', 'Manual debit'],
		ACCOUNT_CLOSED: ['专户销户', 'Account closed'],
		RECONCILIATION_BREAK: ['对账不符', 'Reconciliation break'],
		GUARANTEE_SHORT: ['保证金未补足', 'Guarantee short'],
		GUARANTEE_EXPIRING: ['保函即将到期', 'Guarantee letter expiring'],
		GUARANTEE_RELEASED: ['保证金退还', 'Guarantee released'],
		GUARANTEES: ['保证金台账', 'Guarantee ledger'],
	},
	delivery: {
		delivered: ['已送达', 'Delivered', 'ok'], pending: ['待送达', 'Pending', 'warn'],
		failing: ['重试中', 'Retrying', 'bad'], no_recipient: ['无接收单位', 'No recipient', 'bad'],
	},
	industry: {
		housing: ['住建', 'Housing'], transport: ['交通', 'Transport'],
		water: ['水利', 'Water'], agriculture: ['农业', 'Agriculture'],
	},
	role: {
		viewer: ['只读', 'Viewer'], maker: ['经办', 'Maker'],
		checker: ['复核', 'Checker'], admin: ['管理员', 'Admin'],
	},
	projectState: {
		active: ['在建', 'Active', 'ok'], complete: ['已完工', 'Complete', 'grey'],
		closed: ['已销户', 'Closed', 'grey'], open: ['正常', 'Open', 'ok'],
	},
	outcome: {
		PAID: ['已付款待到账', 'Paid, not credited yet', 'warn'], CREDITED: ['已到账', 'Credited', 'ok'],
		REJECTED: ['核心拒绝', 'Rejected by the core', 'bad'], RETURNED: ['收款行退回', 'Returned', 'bad'],
	},
	legalKind: { FREEZE: '冻结', SEIZE: '扣划', DEDUCT: '扣划', UNFREEZE: '解除冻结' },
	action: {
		'session.signin': '登录 sign-in', 'session.signout': '退出 sign-out',
		'session.refused': '登录失败 sign-in refused', 'session.locked': '登录锁定 sign-in locked',
		'approval.proposed': '提交申请 proposed', 'approval.approved': '批准 approved',
		'approval.rejected': '驳回 rejected', 'approval.failed': '执行失败 failed',
		'account.opened': '开户 account opened', 'account.closed': '销户 account closed',
		'money.manual': '手工划转 manual movement', 'sheet.paid': '工资表支付 sheet paid',
		'sheet.cancelled': '工资表撤回 sheet withdrawn',
		'deposit.booked': '人工费入账 deposit booked', 'roster.upload': '花名册上传 roster upload',
		'operator.added': '新增操作员 operator added', 'alert.retry': '预警重发 alert retry',
		'wage.returned': '工资退回 wage returned', 'debit.refused': '拒绝扣款 debit refused',
		'legal_order.applied': '司法扣划 legal order applied',
		'legal_order.refused': '拒绝司法扣划 legal order refused',
		'project.completed': '确认完工 project completed', 'wage.rejected': '核心拒绝代发 payment rejected',
		'statement.agreed': '对账相符 statement agreed', 'statement.break': '对账不符 statement break',
		'operator.factor_enrolled': '绑定动态口令 second factor enrolled',
		'operator.factor_reset': '重置动态口令 second factor reset',
		'platform.replay': '监管平台重推 platform replay', 'guarantee.letter': '保函登记 guarantee letter',
		'guarantee.drawn': '动用保证金 guarantee drawn', 'guarantee.claimed': '保函索赔 guarantee claimed',
		'guarantee.released': '退还保证金 guarantee released',
	},
};

const READONLY_NOTE = '只读角色不能变更任何内容 / A viewer cannot change anything';

/* --- DOM helpers ------------------------------------------------------------- */

/* h('tag.class', {attr: value, onclick: fn}, child, ...): children are nodes
 * or strings (strings become text nodes, never markup). */
function h(spec, attrs, ...kids) {
	const [tag, ...classes] = spec.split('.');
	const el = document.createElement(tag || 'div');
	if (classes.length) el.className = classes.join(' ');
	if (attrs && (typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs))) {
		kids.unshift(attrs);
		attrs = null;
	}
	for (const [k, v] of Object.entries(attrs || {})) {
		if (v === undefined || v === null || v === false) continue;
		if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
		else if (k === 'text') el.textContent = v;
		else if (v === true) el.setAttribute(k, '');
		else el.setAttribute(k, String(v));
	}
	for (const kid of kids.flat(Infinity)) {
		if (kid === undefined || kid === null || kid === false) continue;
		el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
	}
	return el;
}

/* A label pair "中文 English" for a code in one of the tables above. */
function bi(table, code) {
	const t = table[code];
	return t ? `${t[0]} ${t[1]}` : String(code ?? '');
}

function chip(table, code) {
	const t = table[code];
	return h('span.chip' + (t && t[2] ? '.' + t[2] : ''), bi(table, code));
}

/* A column heading: Chinese above, English below. */
function th(zh, en, cls) {
	return h('th' + (cls ? '.' + cls : ''), zh, en ? h('small', en) : null);
}

function table(heads, rows, empty) {
	if (!rows.length) return h('p.empty', empty || '无 / None');
	return h('div.scroll', h('table', h('thead', h('tr', heads)), h('tbody', rows)));
}

/* "1234567.80" -> "1,234,567.80" on the string: no floating point for money. */
function yuan(s) {
	if (s === null || s === undefined || s === '') return '—';
	const m = /^(-?)(\d+)(\.\d+)?$/.exec(String(s));
	if (!m) return String(s);
	return m[1] + m[2].replace(/\B(?=(\d{3})+(?!\d))/g, ',') + (m[3] || '');
}

/* An instant as China Standard Time with its zone, whatever the browser's
 * own: "2026-12-07 14:05:03 +08:00" (issue 24: times carried no zone). */
function when(iso) {
	if (!iso) return '—';
	const d = new Date(String(iso).replace(/(\.\d{3})\d+/, '$1'));
	if (isNaN(d)) return String(iso);
	const c = new Date(d.getTime() + 8 * 3600 * 1000);
	const p = (n) => String(n).padStart(2, '0');
	return `${c.getUTCFullYear()}-${p(c.getUTCMonth() + 1)}-${p(c.getUTCDate())} `
		+ `${p(c.getUTCHours())}:${p(c.getUTCMinutes())}:${p(c.getUTCSeconds())} +08:00`;
}

/* "1234.5" -> "¥1,234.50": yuan for people, 2 decimals, on the string. */
function rmb(s) {
	if (s === null || s === undefined || s === '') return '—';
	const m = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(String(s));
	if (!m) return String(s);
	return m[1] + '¥' + yuan(m[2] + '.' + (m[3] || '').padEnd(2, '0'));
}

/* Whole fen as a decimal string ("123450" -> "1234.50"), on the string. */
function fenYuan(f) {
	const m = /^(-?)(\d+)$/.exec(String(f));
	if (!m) return String(f);
	const d = m[2].padStart(3, '0');
	return m[1] + d.slice(0, -2).replace(/^0+(?=\d)/, '') + '.' + d.slice(-2);
}

/* English text of a record with its "N fen" as "¥N.NN" (the fallback when
 * no Chinese sentence is known for it). */
function fenText(t) {
	return String(t || '').replace(/(-?\d+) fen\b/g, (_, f) => rmb(fenYuan(f)));
}

/* --- alerts and audit records for people (issue 24) ---------------------------
 * The records are the English the regulators receive and the audit chain
 * hashes, amounts in fen and some accounts by internal id: they cannot
 * change. The page says each in Chinese, amounts as ¥1,234.50 and the
 * dedicated account by its number (the JSON's "account"), and keeps the
 * English kind or action code and the original text visible for support. */

const LINE_REASON = {
	WP01: '不在实名制花名册', WP02: '不属于该分包单位', WP03: '该月不在岗', BE01: '姓名与花名册不符',
	AC01: '工资卡与花名册不符', AM05: '该月工资已发放', WP05: '身份证号校验位错误',
};

function acctOf(x) {
	const what = x.action && x.action.startsWith('guarantee.') ? '保证金账户' : '专用账户';
	return x.account ? `${what} ${x.account}` : what;
}

/* An alert in Chinese, from its kind, its figures (yuan) and what its
 * detail says; null when none is known (the English is then shown). */
function alertZh(a) {
	const d = a.detail || '', acct = acctOf(a);
	let m;
	switch (a.kind) {
	case 'BALANCE_SHORT':
		return `工资表 ${a.msg_id || ''} 整表暂缓支付：${acct} 可用余额 ${rmb(a.balance)}，需 ${rmb(a.required)}，缺口 ${rmb(a.shortfall)}`
			+ (/ahead of older held sheets/.test(d) ? '（排在更早的待资金工资表之后）' : '');
	case 'DEPOSIT_SHORT':
		return `建设单位截至 ${a.month || ''} 人工费拨付不足：应拨 ${rmb(a.required)}，缺口 ${rmb(a.shortfall)}；${acct} 余额 ${rmb(a.balance)}`;
	case 'WAGES_OVERDUE':
		if ((m = /^(\d+) of (\d+) workers on site in (\S+) unpaid after the pay day (\S+?)(?:; (\d+) sheet\(s\) for the month held for funds)?: (.*)$/.exec(d)))
			return `${m[3]} 在岗 ${m[2]} 人中 ${m[1]} 人过工资支付日 ${m[4]} 仍未发放工资`
				+ (m[5] ? `，当月 ${m[5]} 张工资表待资金` : '') + `；${acct} 余额 ${rmb(a.balance)}；人员：${m[6]}`;
		return null;
	case 'MISUSE_ATTEMPT':
		if ((m = /^sheet line refused \((\w+)\)/.exec(d)))
			return `疑似挪用：工资表 ${a.msg_id || ''} 明细 ${a.end_to_end_id || ''} 被拒绝（${m[1]} ${LINE_REASON[m[1]] || ''}）`;
		if ((m = /to account ending (\S+) \((.*)\) for "(.*)" via (\S+); core reference (\S+)$/.exec(d)))
			return `拒绝非工资扣款 ${rmb(a.required)}：收款账户尾号 ${m[1]}（${m[2]}），用途“${m[3]}”，渠道 ${m[4]}，核心流水 ${m[5]}；${acct}`;
		return null;
	case 'SEIZURE_REFUSED':
	case 'LEGAL_ORDER_APPLIED':
		if ((m = /^(\w+) order (\S+) of (.*?) \(reason (\w+)\)/.exec(d)))
			return `${m[3]} ${L.legalKind[m[1]] || m[1]}文书 ${m[2]}（${m[4] === 'WAGES' ? '为支付本项目工资' : '非工资事由'}）金额 ${rmb(a.required)}：`
				+ (a.kind === 'SEIZURE_REFUSED' ? '拒绝执行' : (a.shortfall && a.shortfall !== '0.00' ? `部分执行，未执行 ${rmb(a.shortfall)}` : '已执行'))
				+ `；${acct} 余额 ${rmb(a.balance)}`;
		return null;
	case 'CARD_CONCENTRATION':
		m = /card ending (\S+)/.exec(d);
		return `花名册试图把已登记给其他工人的工资卡再登记给他人（一人一卡）${m ? `，卡号尾号 ${m[1]}` : ''}`;
	case 'CARD_CHANGED':
		if ((m = /^worker (\S+): wage card changed from card ending (\S+) \(bank (\S+), version (\d+)\) to card ending (\S+) \(bank (\S+?)\)/.exec(d)))
			return `工人 ${m[1]} 的工资卡由尾号 ${m[2]}（开户行 ${m[3]}，第 ${m[4]} 版）变更为尾号 ${m[5]}（开户行 ${m[6]}）`;
		return null;
	case 'ACCOUNTS_OPENED':
		if ((m = /^(\d+) dedicated wage accounts? opened in (\S+) in region (\S+)/.exec(d)))
			return `${m[2]} 辖区 ${m[3]} 新开立农民工工资专用账户 ${m[1]} 个`;
		return null;
	case 'PAYMENT_FAILED':
		m = /\(([A-Z0-9]{2,4})[),]/.exec(d);
		return `代发失败：${a.month || ''} 工资 ${rmb(a.required)}（明细 ${a.end_to_end_id || ''}）`
			+ (/sent back|returned/.test(d) ? '被收款行退回' : '被核心系统拒绝') + (m ? `（${m[1]}）` : '')
			+ `，工人未收到；资金已退回${/guarantee/.test(d) ? '保证金账户' : acct}并留存，须补发 (BACKPAY)`;
	case 'SETTLEMENT_OVERDUE':
		return `代发指令 ${a.msg_id || ''} 超时未收到核心到账结果（首笔明细 ${a.end_to_end_id || ''}）；${acct}`;
	case 'MANUAL_DEBIT':
		if ((m = /^manual debit of (\S+) yuan by approval (\d+) \(maker (.*?), checker (.*?)\): (.*)$/.exec(d)))
			return `${acct} 人工支出 ${rmb(m[1])}，审批 #${m[2]}（经办 ${m[3]}，复核 ${m[4]}）：`
				+ (/^return of deposit (\S+)/.test(m[5]) ? `原路退还拨付 ${/^return of deposit (\S+)/.exec(m[5])[1]}`
					: /payout of the balance/.test(m[5]) ? '销户余额转付账户持有人' : m[5])
				+ `；支出后余额 ${rmb(a.balance)}`;
		return null;
	case 'ACCOUNT_CLOSED':
		m = /by approval (\d+) \(maker (.*?), checker (.*?)\)/.exec(d);
		return `${acct} 已销户` + (m ? `（审批 #${m[1]}，经办 ${m[2]}，复核 ${m[3]}）` : '');
	case 'RECONCILIATION_BREAK':
		return `对账不符：核心日终余额 ${rmb(a.balance)}，本系统账务余额（含在途）${rmb(a.required)}，差额 ${rmb(a.shortfall)}；${acct}`;
	case 'GUARANTEE_SHORT':
		return `工资保证金实有 ${rmb(a.balance)}，应缴 ${rmb(a.required)}，缺口 ${rmb(a.shortfall)}，未在期限内补足`;
	case 'GUARANTEE_EXPIRING':
		if ((m = /^guarantee letter (\S+) of (.*) \((\S+) yuan left\) expires on (\S+) \((\d+) days\)/.exec(d)))
			return `保函 ${m[1]}（${m[2]}，可用 ${rmb(m[3])}）将于 ${m[4]} 到期（剩 ${m[5]} 天），项目仍在建：须续开或缴存保证金`;
		return null;
	case 'GUARANTEE_RELEASED':
		return `工资保证金已退还（应缴 ${rmb(a.required)}）`;
	case 'GUARANTEES':
		return `${a.month || ''} 工资保证金台账`;
	default:
		return null;
	}
}

/* An audit record in Chinese from its action and detail; null when no
 * sentence is known for it (the English is shown with ¥ for fen). */
function auditZh(r) {
	const d = r.detail || '', acct = acctOf(r), obj = String(r.object || '');
	const sheet = obj.startsWith('sheet:') ? obj.slice(6) : '';
	const cert = /; certificate (.*)$/.exec(d);
	const via = cert ? `（核心证书 ${cert[1]}）` : '';
	let m;
	switch (r.action) {
	case 'sheet.paid':
		if ((m = /^account \S+ debited (\d+) fen(?:, (\d+) fen of it from earmarks)?/.exec(d)))
			return `工资表 ${sheet}：${acct} 代发工资 ${rmb(fenYuan(m[1]))}` + (m[2] ? `，其中 ${rmb(fenYuan(m[2]))} 来自退回留存` : '');
		return null;
	case 'sheet.cancelled':
		if ((m = /(\d+) fen never paid/.exec(d)))
			return `工资表 ${sheet}：总承包撤回待资金工资表，${rmb(fenYuan(m[1]))} 未支付`;
		return null;
	case 'deposit.booked':
		if ((m = /^entry (\S+) credited (\d+) fen/.exec(d)))
			return `${acct} 入账 ${rmb(fenYuan(m[2]))}，流水号 ${m[1]}${via}`;
		return null;
	case 'wage.returned':
		if ((m = /^line (\S+) returned \((.*?)\), entry (\S+): (\d+) fen back to account \S+, earmarked for (\S+?)(?:;|$)/.exec(d)))
			return `工资表 ${sheet} 明细 ${m[1]} 被收款行退回（${m[2]}），流水号 ${m[3]}：${rmb(fenYuan(m[4]))} 退回${acct}，留存用于补发 ${m[5]}${via}`;
		return null;
	case 'wage.rejected':
		if ((m = /^line (\S+) of order (\S+) rejected by the core \((.*?)\)(?:: (\d+) fen back to account \S+, earmarked for (\S+))?/.exec(d)))
			return `工资表 ${sheet} 明细 ${m[1]}（代发指令 ${m[2]}）被核心系统拒绝（${m[3]}）`
				+ (m[4] ? `：${rmb(fenYuan(m[4]))} 退回${acct}，留存用于补发 ${m[5]}` : '');
		return null;
	case 'debit.refused':
		if ((m = /^request (\S+) of (\d+) fen refused \((\w+)\)/.exec(d)))
			return `拒绝非工资扣款：请求 ${m[1]}，${rmb(fenYuan(m[2]))}（${m[3]}），${acct}${via}`;
		return null;
	case 'legal_order.applied':
	case 'legal_order.refused':
		if ((m = /^(\w+) (\S+) \((\w+)\) of (\d+) fen: (.*?)(?:; certificate .*)?$/.exec(d)))
			return `${L.legalKind[m[1]] || m[1]}文书 ${m[2]}（${m[3] === 'WAGES' ? '为支付本项目工资' : '非工资事由'}）${rmb(fenYuan(m[4]))}：`
				+ (r.action === 'legal_order.refused' ? '拒绝执行' : '已执行') + `（${fenText(m[5])}），${acct}${via}`;
		return null;
	case 'money.manual':
		if ((m = /^(\S+) yuan of deposit (\S+) returned to its payer (.*) by approval (\d+): (.*)$/.exec(d)))
			return `${acct} 原路退还拨付 ${m[2]} ${rmb(m[1])} 给付款人 ${m[3]}（审批 #${m[4]}），理由：${m[5]}`;
		if ((m = /^(\S+) yuan paid out to the account holder (.*) at closing, by approval (\d+)/.exec(d)))
			return `${acct} 销户余额 ${rmb(m[1])} 转付账户持有人 ${m[2]}（审批 #${m[3]}）`;
		return null;
	case 'account.opened':
		if ((m = /^dedicated account (\S+)/.exec(d))) return `开立农民工工资专用账户 ${m[1]}（项目 ${obj.replace(/^project:/, '')}）`;
		return null;
	case 'account.closed':
		if ((m = /^dedicated account (\S+) closed/.exec(d))) return `专用账户 ${m[1]} 销户（项目 ${obj.replace(/^project:/, '')}）`;
		return null;
	case 'project.completed':
		if ((m = /^complete on (\S+); public notice of (\d+) days/.exec(d)))
			return `项目 ${obj.replace(/^project:/, '')} 确认完工，完工日期 ${m[1]}，公示 ${m[2]} 天后专用账户方可销户`;
		return null;
	case 'approval.proposed':
		if ((m = /^(\w+) ?(.*)$/.exec(d)))
			return `提交审批 #${obj.replace(/^approval:/, '')}：${bi(L.approvalKind, m[1]) || m[1]}${m[2] ? ' ' + m[2] : ''}，待另一复核人审批`;
		return null;
	case 'approval.approved': return `批准审批 #${obj.replace(/^approval:/, '')}`;
	case 'approval.rejected': return `驳回审批 #${obj.replace(/^approval:/, '')}`;
	case 'approval.failed': return `审批 #${obj.replace(/^approval:/, '')} 执行失败`;
	case 'session.signin': return '操作员登录';
	case 'session.signout': return '操作员退出';
	case 'session.refused': return '登录失败：密码或动态口令错误';
	case 'session.locked': return '登录失败次数过多，该用户名暂时锁定';
	case 'alert.retry':
		if ((m = /^(\d+) delivery/.exec(d))) return `预警 ${obj.replace(/^alert:/, '')} 立即重发 ${m[1]} 个投递`;
		return null;
	case 'roster.upload':
		if ((m = /^(\d+) accepted, (\d+) refused/.exec(d)))
			return `项目 ${obj.replace(/^project:/, '')} 花名册上传：接收 ${m[1]} 人，拒绝 ${m[2]} 人`;
		return null;
	case 'operator.added':
		if ((m = /^role (\w+)(, second factor enrolled)?/.exec(d)))
			return `新增操作员 ${obj.replace(/^operator:/, '')}，角色 ${bi(L.role, m[1])}` + (m[2] ? '，已绑定动态口令' : '');
		return null;
	case 'operator.factor_enrolled': return `操作员 ${obj.replace(/^operator:/, '')} 登录时绑定动态口令`;
	case 'operator.factor_reset': return `重置操作员 ${obj.replace(/^operator:/, '')} 的动态口令，其会话已结束`;
	case 'platform.replay':
		if ((m = /^records from seq (\d+) sent again \(acknowledged up to (\d+)\)/.exec(d)))
			return `监管平台 ${obj.replace(/^platform:/, '')} 自序号 ${m[1]} 起重新推送（原确认至 ${m[2]}）`;
		return null;
	case 'statement.agreed':
	case 'statement.break':
		if ((m = /^(AGREED|BREAK): account (\S+) on (\S+): the core's closing (\S+), the ledger's (\S+) \((\S+) of orders in flight\); (\d+) entries/.exec(d)))
			return `专用账户 ${m[2]} ${m[3]} 日终对账${m[1] === 'AGREED' ? '相符' : '不符'}：核心余额 ${rmb(m[4])}，账务余额 ${rmb(m[5])}（在途 ${rmb(m[6])}），${m[7]} 笔${via}`;
		return null;
	case 'guarantee.drawn':
		if ((m = /^draw (\d+) \(HRSS decision (.*)\): (\d+) line\(s\), (\d+) fen paid/.exec(d)))
			return `动用工资保证金（人社决定书 ${m[2]}）：${m[3]} 人，${rmb(fenYuan(m[4]))} 支付给工人，${acct}`;
		return null;
	default:
		return null;
	}
}

/* The cell of an alert's or record's text: the Chinese sentence, the English
 * code, and the original English (as sent or hashed) folded for support. */
function zhCell(zh, code, english) {
	return [h('div.zh', zh || fenText(english)),
		h('div.note', h('span.mono.code', code)),
		english ? h('details.orig', h('summary', '英文原文 English original'), h('div.note', english)) : null];
}

/* A message for the next view (shown after a navigation clears the banner). */
let flash = null;
function flashNext(msg, good) { flash = [msg, good]; }

function banner(msg, good) {
	const b = document.getElementById('banner');
	if (!msg) { b.hidden = true; b.textContent = ''; return; }
	b.className = 'banner' + (good ? ' good' : '');
	b.textContent = msg;
	b.hidden = false;
	window.scrollTo(0, 0);
}

/* --- the API ---------------------------------------------------------------- */

let me = null;		/* {name, role} of the signed-in operator */

class ApiError extends Error {
	constructor(status, msg) { super(msg); this.status = status; }
}

/* The view being drawn. A view is async (it waits for the API); if the
 * operator moved on meanwhile, its answer is dropped (api() throws Stale)
 * rather than drawn over the newer view. */
let current = {};
class Stale extends Error {}

/* Calls the JSON API; resolves with the answer, rejects with ApiError.
 * A 401 on anything but sign-in shows the sign-in form. */
async function api(method, path, body) {
	const view = current;
	const opt = { method, headers: {}, credentials: 'same-origin' };
	if (body !== undefined) {
		opt.headers['Content-Type'] = 'application/json';
		opt.body = JSON.stringify(body);
	}
	let res;
	try {
		res = await fetch(path, opt);
	} catch (e) {
		throw new ApiError(0, '无法连接服务器 / cannot reach the server');
	}
	let data = null;
	try { data = await res.json(); } catch (e) { /* 503 is text */ }
	if (view !== current && method === 'GET') throw new Stale();
	if (res.ok) return data;
	const msg = (data && data.error) || `HTTP ${res.status}`;
	if (res.status === 401 && me !== null) {
		me = null;
		showSignin('会话已过期，请重新登录 / your session ended; sign in again');
	}
	const err = new ApiError(res.status, msg);
	err.otpauth = data && data.otpauth;	/* a second factor to enrol (issue 22) */
	throw err;
}

/* The server's refusal in words an operator can act on. */
function explain(e) {
	switch (e.status) {
	case 403: return '被拒绝 / Refused: ' + e.message;
	case 409: return '不能执行 / Cannot be done: ' + e.message;
	case 429: return '尝试过多 / Too many attempts: ' + e.message;
	case 503: return '数据库暂不可用，请稍后重试 / The database is unavailable; try again shortly';
	default: return e.message;
	}
}

const can = {
	make: () => me && (me.role === 'maker' || me.role === 'admin'),
	check: () => me && (me.role === 'checker' || me.role === 'admin'),
	operate: () => me && me.role !== 'viewer',
};

/* --- frame ---------------------------------------------------------------- */

function setFrame(signedIn) {
	document.getElementById('nav').hidden = !signedIn;
	document.getElementById('who').hidden = !signedIn;
	if (!signedIn) {
		/* nobody is signed in: the header names nobody */
		document.getElementById('who-name').textContent = '';
		document.getElementById('who-role').textContent = '';
		return;
	}
	document.getElementById('who-name').textContent = me.name;
	document.getElementById('who-role').textContent = bi(L.role, me.role);
	for (const a of document.querySelectorAll('#nav a.action')) {
		a.classList.toggle('disabled', !can.make());
		a.title = can.make() ? '' : '仅经办人可发起 / only a maker proposes';
		if (!can.make()) a.setAttribute('aria-disabled', 'true');
		else a.removeAttribute('aria-disabled');
	}
}

function mount(...nodes) {
	const main = document.getElementById('main');
	main.replaceChildren(...nodes.flat().filter((n) => n !== null && n !== undefined && n !== false));
}

function showSignin(msg) {
	setFrame(false);
	const name = h('input', { name: 'name', autocomplete: 'username', required: true, maxlength: 64 });
	const pass = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
	const code = h('input', { name: 'code', inputmode: 'numeric', autocomplete: 'one-time-code',
		pattern: '[0-9]{6}', maxlength: 6, placeholder: '123456' });
	const err = h('p.refusal', { role: 'alert' }, msg || '');
	const enrol = h('p.enrol');
	const form = h('form', {
		onsubmit: async (ev) => {
			ev.preventDefault();
			err.textContent = '';
			try {
				me = await api('POST', '/api/session', { name: name.value, password: pass.value, code: code.value });
				pass.value = '';
				code.value = '';
				if (!location.hash) history.replaceState(null, '', '#/overview');
				route();
			} catch (e) {
				code.value = '';
				if (e.otpauth) {
					/* no second factor yet (reset by four eyes): this one, once */
					err.textContent = '请将此动态口令密钥加入验证器应用，然后用其口令重新登录 / add this second factor to an authenticator app, then sign in with its code';
					enrol.textContent = e.otpauth;
				} else {
					err.textContent = e.status === 401 ? '用户名、密码或动态口令错误 / ' + e.message : explain(e);
				}
			}
		},
	},
	h('label', '操作员 / Operator', name),
	h('label', '密码 / Password', pass),
	h('label', '动态口令 / Code', code),
	h('button', { type: 'submit' }, '登录 / Sign in'),
	err, enrol);
	mount(h('section.signin',
		h('h1', '登录 ', h('small', 'Sign in')),
		form,
		h('p.hint', '本系统仅供银行授权人员使用，所有操作均记入审计日志。 / For authorised bank staff; every action is recorded in the audit trail.')));
	banner(null);
	name.focus();
}

/* --- views ------------------------------------------------------------------ */

function card(label, value, sub, tone) {
	return h('div.card' + (tone ? '.' + tone : ''),
		h('div.label', label), h('div.value', value), sub ? h('div.sub', sub) : null);
}

function sheetRows(list, withProject) {
	return list.map((s) => h('tr',
		h('td', h('a', { href: `#/sheets/${s.id}` }, s.msg_id)),
		withProject ? h('td', h('a', { href: `#/projects/${encodeURIComponent(s.project)}` }, s.project)) : null,
		h('td', s.month),
		h('td', s.subcontractor.name || s.subcontractor.uscc, h('div.note.mono', s.subcontractor.uscc)),
		h('td', chip(L.sheetState, s.state)),
		h('td.num', `${s.accepted}/${s.lines}`),
		h('td.num', yuan(s.total)),
		h('td', when(s.received_at)),
		h('td', when(s.paid_at))));
}

function sheetHeads(withProject) {
	return [th('工资表', 'MsgId'), withProject ? th('项目', 'Project') : null, th('月份', 'Month'),
		th('分包单位', 'Subcontractor'), th('状态', 'State'), th('受理行', 'Lines', 'num'),
		th('金额 (元)', 'Amount (CNY)', 'num'), th('接收时间', 'Received'), th('支付时间', 'Paid')];
}

/* The provincial platforms' feed (029): backlog per platform, and a
 * maker's proposal to send one everything again from a seq. */
function platformPanel(list) {
	const replay = (name) => {
		const from = h('input', { name: 'from_seq', type: 'number', min: 1, placeholder: 'seq', style: 'width:6em' });
		if (!can.make()) from.disabled = true;
		return h('form.actions', {
			onsubmit: async (ev) => {
				ev.preventDefault();
				try {
					const r = await api('POST', `/api/platforms/${encodeURIComponent(name)}/replay`, { from_seq: from.value });
					flashNext(`重推申请已提交，待复核 / replay proposed as approval #${r.approval}; a checker must approve`, true);
					route();
				} catch (e) { banner(explain(e)); }
			},
		}, from, h('button.secondary', { type: 'submit', disabled: !can.make() }, '重推 replay'));
	};
	return h('section.panel', { id: 'platforms' },
		h('h2', '监管平台推送 ', h('small', 'Provincial platform feed')),
		table([th('平台', 'Platform'), th('地区', 'Region'), th('已确认', 'Acknowledged', 'num'),
			th('待确认', 'Backlog', 'num'), th('未读事件', 'Unread', 'num'), th('最早待确认 (秒)', 'Oldest (s)', 'num'),
			th('最近', 'Last'), th('', '')],
		list.map((x) => h('tr',
			h('td', x.name), h('td.mono', x.region), h('td.num', `${x.acked_seq} / ${x.next_seq - 1}`),
			h('td.num', String(x.unacked)), h('td.num', String(x.unread)), h('td.num', String(x.oldest_seconds)),
			h('td', x.last_error ? h('span.chip.bad', x.last_error) : (x.last_acked_at ? when(x.last_acked_at) : '—')),
			h('td', replay(x.name)))),
		'尚无平台推送 / no platform fed yet'));
}

async function viewOverview() {
	const [o, pf] = await Promise.all([api('GET', '/api/overview'),
		api('GET', '/api/platforms').catch(() => ({ platforms: [] }))]);
	const held = o.held_sheets, behind = o.projects_behind, al = o.alerts_undelivered;
	const po = o.payment_orders || { waiting: 0, in_flight: 0, overdue: 0, lines_unsettled: 0, order_list: [] };
	const byRecipient = Object.entries(al.by_recipient || {});
	mount(
		h('h1', '总览 ', h('small', 'Overview')),
		h('div.cards',
			card('专用账户 / Dedicated accounts', String(o.accounts.open),
				`开立 open · 已销户 closed ${o.accounts.closed}`),
			card('专户余额合计 / Total balance', yuan(o.accounts.balance),
				`元 CNY · 其中退回留存 earmarked ${yuan(o.accounts.earmarked)}`),
			card('待资金工资表 / Held sheets', String(held.length), '余额不足暂缓支付 waiting for funds',
				held.length ? 'warn' : 'ok'),
			card('未送达预警 / Alerts undelivered', String(al.count),
				al.oldest ? `最早 oldest ${when(al.oldest)}` : '全部送达 all delivered', al.count ? 'bad' : 'ok'),
			card('人工费拨付滞后 / Projects behind plan', String(behind.length),
				'截至上月末 to last month end', behind.length ? 'warn' : 'ok'),
			card('待复核 / Approvals waiting', String(o.approvals_pending),
				h('a', { href: '#/approvals' }, '去复核 review'), o.approvals_pending ? 'warn' : null),
			card('代发指令 / Payment orders', `${po.waiting} · ${po.in_flight}`,
				`待发送 waiting · 处理中 in flight · 逾期 overdue ${po.overdue}`,
				po.overdue ? 'bad' : po.waiting ? 'warn' : 'ok')),
		h('section.panel', { id: 'payorders' },
			h('h2', '代发指令未结 ', h('small', `Payment orders to the core not settled (${po.lines_unsettled} lines; overdue after ${po.settlement_hours || 24} h)`)),
			table([th('指令', 'Order MsgId'), th('工资表', 'Sheet'), th('项目', 'Project'), th('状态', 'State'),
				th('未结行', 'Lines open', 'num'), th('金额 (元)', 'Amount', 'num'), th('生成', 'Written'),
				th('核心受理', 'Taken'), th('尝试', 'Attempts', 'num')],
			po.order_list.map((x) => h('tr',
				h('td.mono', x.msg_id), h('td', h('a', { href: `#/sheets/${x.sheet_id}` }, x.sheet)),
				h('td', x.project),
				h('td', x.state === 'pending' ? '待发送 waiting' : '处理中 in flight',
					x.overdue ? [' ', h('span.chip.bad', '逾期 overdue')] : null),
				h('td.num', `${x.unsettled} / ${x.lines}`), h('td.num', yuan(x.total)),
				h('td', when(x.created_at)), h('td', x.taken_at ? when(x.taken_at) : '—'),
				h('td.num', String(x.attempts)))),
			'代发指令均已结清 / every payment order is settled')),
		platformPanel(pf.platforms || []),
		h('section.panel', { id: 'held' },
			h('h2', '待资金工资表 ', h('small', 'Held sheets (BALANCE_SHORT)')),
			table(sheetHeads(true), sheetRows(held, true), '无暂缓工资表 / no sheet is held')),
		h('div.grid2',
			h('section.panel', { id: 'behind' },
				h('h2', '人工费拨付滞后项目 ', h('small', 'Projects behind plan')),
				table([th('项目', 'Project'), th('应拨 (元)', 'Planned', 'num'), th('已拨 (元)', 'Deposited', 'num'),
					th('缺口 (元)', 'Shortfall', 'num')],
				behind.map((p) => h('tr',
					h('td', h('a', { href: `#/projects/${encodeURIComponent(p.code)}` }, p.code), h('div.note', p.name)),
					h('td.num', yuan(p.planned)), h('td.num', yuan(p.deposited)),
					h('td.num.refusal', yuan(p.shortfall)))),
				'均按计划拨付 / every project is on plan')),
			h('section.panel', { id: 'backlog' },
				h('h2', '预警待送达 ', h('small', 'Alert backlog per recipient'),
					h('span.right', h('a', { href: '#/alerts' }, '全部预警 all alerts'))),
				byRecipient.length
					? table([th('接收单位', 'Recipient'), th('待送达', 'Waiting', 'num')],
						byRecipient.map(([r, n]) => h('tr', h('td', r || '（无接收单位 no recipient configured）'), h('td.num', String(n)))))
					: h('p.empty', al.count ? `${al.count} 条预警尚未送达 / alerts not yet delivered` : '无积压 / no backlog'))),
		h('section.panel', { id: 'accounts' },
			h('h2', '专用账户及余额 ', h('small', 'Dedicated accounts and balances')),
			table([th('项目', 'Project'), th('专用账户', 'Dedicated account'), th('状态', 'State'),
				th('余额 (元)', 'Balance', 'num'), th('退回留存 (元)', 'Earmarked', 'num')],
			o.account_list.map((a) => h('tr',
				h('td', h('a', { href: `#/projects/${encodeURIComponent(a.project)}` }, a.project), h('div.note', a.name)),
				h('td.mono', a.account), h('td', chip(L.projectState, a.state)),
				h('td.num', yuan(a.balance)), h('td.num', yuan(a.earmarked)))),
			'尚无专用账户 / no dedicated account yet')));
}

async function viewProjects(params) {
	const q = params.get('q') || '';
	const list = await api('GET', '/api/projects' + (q ? '?q=' + encodeURIComponent(q) : ''));
	const box = h('input', { type: 'search', value: q, placeholder: '项目编号或名称 / code or name', 'aria-label': 'search' });
	mount(
		h('h1', '项目 ', h('small', 'Projects')),
		h('section.panel',
			h('form.actions', { onsubmit: (ev) => { ev.preventDefault(); location.hash = '#/projects?q=' + encodeURIComponent(box.value); } },
				box, h('button.secondary', { type: 'submit' }, '查询 / Search')),
			h('p'),
			table([th('项目', 'Project'), th('地区', 'Region'), th('行业主管', 'Industry'), th('专用账户', 'Dedicated account'),
				th('余额 (元)', 'Balance', 'num'), th('花名册', 'Roster', 'num'), th('待资金', 'Held', 'num'),
				th('应拨/已拨 (元)', 'Planned / deposited', 'num'), th('状态', 'State')],
			list.map((p) => h('tr' + (p.behind ? '.short' : ''),
				h('td', h('a', { href: `#/projects/${encodeURIComponent(p.code)}` }, p.code), h('div.note', p.name)),
				h('td.mono', p.region), h('td', bi(L.industry, p.industry)),
				h('td.mono', p.account), h('td.num', yuan(p.balance)),
				h('td.num', String(p.roster_size)), h('td.num', String(p.sheets_held)),
				h('td.num', `${yuan(p.planned)} / ${yuan(p.deposited)}`),
				h('td', chip(L.projectState, p.state), p.behind ? [' ', h('span.chip.warn', '拨付滞后 behind')] : null))),
			q ? '没有匹配的项目 / no project matches' : '尚无项目 / no project yet')));
}

function approvalSummary(a) {
	const p = a.payload || {};
	switch (a.kind) {
	case 'OPEN_ACCOUNT':
		return [h('strong', p.code), ' ', p.name, h('div.note',
			`专用账户 account ${p.account} · 人工费总额 labour cost ${yuan(p.labour_cost_total)} 元 · ${p.contract_months} 个月 months from ${p.start_month} · ${bi(L.industry, p.industry)} ${p.region}`)];
	case 'CLOSE_ACCOUNT':
		return [h('strong', p.code), h('div.note', '理由 reason: ' + (p.reason || ''))];
	case 'MANUAL_MOVEMENT':
		return [h('span.mono', p.from), ' → ', h('span.mono', p.to), ' ', h('strong', yuan(p.amount) + ' 元'),
			h('div.note', (p.deposit ? `退还拨付 return of deposit ${p.deposit} to ${p.payer_name || 'its payer'} · ` : '')
				+ '理由 reason: ' + (p.reason || ''))];
	case 'PLATFORM_REPLAY':
		return [h('strong', p.platform), ' ', `自序号 ${p.from_seq} 起重新推送 / send again from seq ${p.from_seq}`];
	case 'COMPLETE_PROJECT':
		return [h('strong', p.code), ' ', `完工日期 complete on ${p.completed_on}`,
			h('div.note', `公示 ${p.notice_days} 天后可销户 / the account may close ${p.notice_days} days after · 理由 reason: ${p.reason || ''}`)];
	case 'GUARANTEE':
		return [h('strong', p.code), ' ', p.kind === 'LETTER'
			? `保函 letter ${p.number} · ${p.issuer} · ${yuan(p.amount)} 元 · ${p.valid_from} – ${p.valid_to}`
			: `保证金账户 account ${p.account} · 应缴 required ${yuan(p.required)} 元`,
			h('div.note', `补足期限 top-up within ${p.topup_days} 天 days`
				+ (p.rate ? ` · 合同额 contract ${yuan(p.contract_amount)} 元 × ${p.rate}%` : ''))];
	case 'GUARANTEE_DRAW':
		return [h('strong', p.code), ' ', `动用决定 HRSS decision ${p.decision_no}`,
			h('div.note', (p.lines || []).map((l) => `${l.month} ${yuan(l.amount)} 元`).join(' · ')
				+ ` (${(p.lines || []).length} 人 workers)`)];
	case 'GUARANTEE_RELEASE':
		return [h('strong', p.code), ' ', `退还通知 HRSS release notice ${p.notice_no}`];
	default:
		return JSON.stringify(p);
	}
}

/* Approve / reject buttons for a pending approval; disabled for whoever may
 * not decide it (the server refuses anyway). */
function decideButtons(a) {
	if (a.state !== 'pending') return h('span.note', a.checker ? `${a.checker} · ${when(a.decided_at)}` : '');
	let why = null;
	if (!can.check()) why = '仅复核人可审批 / only a checker decides';
	else if (a.maker === me.name) why = '您是提议人，须由另一人复核 / you proposed this: another checker decides (four eyes)';
	const go = (decision) => async () => {
		try {
			const r = await api('POST', `/api/approvals/${a.id}`, { decision });
			flashNext(`审批 #${a.id}: ${bi(L.approvalState, r.state)} — ${r.outcome || ''}`, r.state !== 'failed');
			route();
		} catch (e) { banner(explain(e)); }
	};
	return h('div',
		h('div.actions',
			h('button', { type: 'button', disabled: !!why, title: why, 'data-approve': a.id, onclick: go('approve') }, '批准 Approve'),
			h('button.secondary', { type: 'button', disabled: !!why, title: why, 'data-reject': a.id, onclick: go('reject') }, '驳回 Reject')),
		why ? h('div.note', why) : null);
}

function approvalRows(list) {
	return list.map((a) => h('tr', { 'data-approval': a.id },
		h('td.num', '#' + a.id),
		h('td', bi(L.approvalKind, a.kind)),
		h('td.wrap', approvalSummary(a)),
		h('td', a.maker, h('div.note', when(a.created_at))),
		h('td', chip(L.approvalState, a.state), a.outcome ? h('div.note', a.outcome) : null),
		h('td', decideButtons(a))));
}

const approvalHeads = () => [th('编号', 'No.', 'num'), th('事项', 'Kind'), th('内容', 'Proposal'),
	th('提议人', 'Maker'), th('状态', 'State'), th('复核', 'Checker')];

function monthRows(months, planToDate) {
	const due = planToDate ? planToDate.months_due : 0;
	return months.map((m, i) => {
		const short = i < due && cmpYuan(m.deposited, m.planned) < 0;
		return h('tr' + (short ? '.short' : ''),
			h('td', m.month), h('td.num', yuan(m.planned)), h('td.num', yuan(m.deposited)),
			h('td.num', m.topped_up && m.topped_up !== '0.00' ? yuan(m.topped_up) : '—'),
			h('td.num', yuan(m.paid)),
			h('td', i < due ? (short ? h('span.chip.warn', '拨付不足 short') : h('span.chip.ok', '足额 met')) : h('span.chip.grey', '未到期 not due')));
	});
}

/* Compares two non-negative decimal yuan strings exactly. */
function cmpYuan(a, b) {
	const f = (s) => { const [i, d = ''] = String(s).split('.'); return [i.replace(/^0+(?=\d)/, ''), (d + '00').slice(0, 2)]; };
	const [ai, ad] = f(a), [bi2, bd] = f(b);
	if (ai.length !== bi2.length) return ai.length < bi2.length ? -1 : 1;
	if (ai !== bi2) return ai < bi2 ? -1 : 1;
	return ad === bd ? 0 : (ad < bd ? -1 : 1);
}

async function viewProject(code) {
	const p = await api('GET', '/api/projects/' + encodeURIComponent(code));
	const reason = h('input', { name: 'reason', maxlength: 200, placeholder: '例：工程已完工，工资已结清 / e.g. project complete, no wages owed' });
	const closable = p.account.state === 'open';
	const why = !can.make() ? (me.role === 'viewer' ? READONLY_NOTE : '仅经办人可发起 / only a maker proposes')
		: (p.close_refusal || null);
	const closeForm = h('form.actions', {
		id: 'close-form',
		onsubmit: async (ev) => {
			ev.preventDefault();
			try {
				const r = await api('POST', `/api/projects/${encodeURIComponent(code)}/close`, { reason: reason.value });
				flashNext(`销户申请已提交，待复核 / closing proposed as approval #${r.approval}; a checker must approve`, true);
				route();
			} catch (e) { banner(explain(e)); }
		},
	}, reason, h('button.danger', { type: 'submit', disabled: !!why || !closable }, '申请销户 / Propose closing'));
	if (why || !closable) reason.disabled = true;
	const completedOn = h('input', { id: 'completed_on', name: 'completed_on', type: 'date' });
	const completeForm = h('form.actions', {
		id: 'complete-form',
		onsubmit: async (ev) => {
			ev.preventDefault();
			try {
				const r = await api('POST', `/api/projects/${encodeURIComponent(code)}/complete`,
					{ completed_on: completedOn.value });
				flashNext(`完工申请已提交，待复核 / completion proposed as approval #${r.approval}; a checker must approve`, true);
				route();
			} catch (e) { banner(explain(e)); }
		},
	}, completedOn, h('button', { type: 'submit', disabled: !can.make() || p.state !== 'active' },
		'申请确认完工 / Propose completion'));
	if (!can.make() || p.state !== 'active') completedOn.disabled = true;
	mount(
		h('div.crumbs', h('a', { href: '#/projects' }, '项目 Projects'), ' / ', p.code),
		h('h1', p.name, h('small', p.code), ' ', chip(L.projectState, p.state)),
		h('div.cards',
			card('专用账户 / Dedicated account', h('span.mono', p.account.number), bi(L.projectState, p.account.state),
				p.account.state === 'open' ? 'ok' : null),
			card('余额 / Balance', yuan(p.balance), `元 CNY · 退回留存 earmarked ${yuan(p.account.earmarked)}`),
			card('人工费应拨/已拨 / Planned vs deposited', `${yuan(p.plan_to_date.deposited)}`,
				`建设单位拨付 by the owner · 应拨 planned ${yuan(p.plan_to_date.planned)} · ${p.plan_to_date.months_due} 个月到期 months due`
				+ (p.plan_to_date.topped_up && p.plan_to_date.topped_up !== '0.00'
					? ` · 他方垫付 topped up by others ${yuan(p.plan_to_date.topped_up)} (不计入 not counted)` : ''),
				p.plan_to_date.behind ? 'warn' : 'ok'),
			card('花名册 / Roster', String(p.roster_size), '实名制人员 workers on the real-name roster'),
			card('工资表 / Sheets', String(p.sheets.paid + p.sheets.held + p.sheets.rejected),
				`已支付 paid ${p.sheets.paid} · 待资金 held ${p.sheets.held} · 已拒绝 rejected ${p.sheets.rejected}`,
				p.sheets.held ? 'warn' : null)),
		h('div.grid2',
			h('section.panel',
				h('h2', '项目信息 ', h('small', 'Project')),
				h('dl.facts',
					h('dt', '建设单位 Owner'), h('dd', p.owner.name, h('div.note.mono', p.owner.uscc)),
					h('dt', '施工总承包 General contractor'), h('dd', p.contractor.name, h('div.note.mono', p.contractor.uscc)),
					h('dt', '地区 Region'), h('dd.mono', p.region),
					h('dt', '行业主管 Industry'), h('dd', bi(L.industry, p.industry)),
					h('dt', '人工费总额 Labour cost'), h('dd', yuan(p.labour_cost_total) + ' 元'),
					h('dt', '工期 Contract'), h('dd', `${p.contract_months} 个月 months from ${p.start_month}`),
					h('dt', '工资支付日 Pay day'), h('dd', `每月 ${p.pay_day} 日 (day ${p.pay_day} of the next month)`),
					h('dt', '开户时间 Opened'), h('dd', when(p.account.opened_at)))),
			h('section.panel', { id: 'close' },
				h('h2', '销户 ', h('small', 'Close the dedicated account (four eyes)')),
				p.unpaid_months.length
					? h('p.note', '有工人未发工资的月份 / months with workers unpaid: ',
						p.unpaid_months.map((u) => `${u.month} (${u.workers})`).join(', '))
					: null,
				p.completed_on
					? h('p.note', `已完工 complete on ${p.completed_on} · 公示 ${p.notice_days} 天 days of public notice · 可销户自 may close from ${p.closable_from}`)
					: h('div', h('p.note', '销户前须确认完工并公示 / before closing, the completion is confirmed (four eyes) and publicly noticed:'),
						completeForm),
				p.close_refusal ? h('p.refusal', '当前不可销户 / cannot close now: ' + p.close_refusal) : null,
				closeForm,
				h('p.note', '销户时余额转付账户持有人（施工总承包单位）/ at closing the balance is paid out to the account holder; a deposit paid in error goes back to its payer: ',
					can.make() ? h('a', { href: '#/movement' }, '退还拨付 return a deposit') : '—'))),
		h('section.panel',
			h('h2', '按月计划与拨付 ', h('small', 'Months: planned labour cost, deposits, wages paid')),
			table([th('月份', 'Month'), th('计划人工费 (元)', 'Planned', 'num'),
				th('建设单位拨付 (元)', 'Deposited by the owner', 'num'), th('他方垫付 (元)', 'Topped up by others (not counted)', 'num'),
				th('已发工资 (元)', 'Wages paid', 'num'), th('', 'Status')],
			monthRows(p.months || [], p.plan_to_date))),
		h('section.panel', { id: 'deposits' },
			h('h2', '入账 ', h('small', 'Deposits: the owner\'s count against the plan, others\' top-ups are shown apart')),
			table([th('入账日', 'Booked'), th('流水号', 'Entry'), th('付款人', 'Payer'), th('金额 (元)', 'Amount', 'num'), th('', 'Counted')],
				(p.deposit_list || []).map((d) => h('tr',
					h('td', d.booking_date), h('td.mono', d.entry_ref),
					h('td', d.payer_name || '—', h('div.note.mono', d.payer_uscc || '')),
					h('td.num', yuan(d.amount)),
					h('td', d.by_owner ? h('span.chip.ok', '建设单位 owner') : h('span.chip.warn', '他方垫付 top-up, not counted')))),
				'尚无入账 / no deposit yet')),
		guaranteePanel(code, p.guarantee),
		h('section.panel', { id: 'worker-cards' },
			h('h2', '工资卡变更记录 ', h('small', 'A worker\'s card history')),
			workerLookup()),
		h('section.panel', { id: 'sheets' },
			h('h2', '工资表 ', h('small', 'Wage sheets')),
			table(sheetHeads(false), sheetRows(p.sheet_list, false), '尚无工资表 / no sheet yet')),
		h('section.panel',
			h('h2', '相关审批 ', h('small', 'Approvals of this project')),
			table(approvalHeads(), approvalRows(p.approvals), '无 / none')));
}

/* The project's wage guarantee (工资保证金 / 保函, issue #21): what it holds
 * against what is required, its account, letters and draws, and a maker's
 * proposals: register an account or a letter, draw on HRSS's decision (one
 * line "ID,amount,YYYY-MM" per worker), release on HRSS's notice. */
function guaranteePanel(code, g) {
	const base = `/api/projects/${encodeURIComponent(code)}/guarantee`;
	const inp = (name, ph, type) => h('input', { name, placeholder: ph, type: type || 'text', disabled: !can.make() });
	const form = (id, path, what, fields, body) => h('form.actions', {
		id,
		onsubmit: async (ev) => {
			ev.preventDefault();
			try {
				const r = await api('POST', base + path, body());
				flashNext(`${what} #${r.approval}; a checker must approve`, true);
				route();
			} catch (e) { banner(explain(e)); }
		},
	}, fields, h('button', { type: 'submit', disabled: !can.make() }, what));
	const f = {
		acc: inp('account', '保证金账号 account'), req: inp('required', '应缴 required (元)'),
		iss: inp('issuer', '出具银行 issuer'), num: inp('number', '保函编号 number'),
		amt: inp('amount', '金额 amount (元)'), vf: inp('valid_from', '', 'date'), vt: inp('valid_to', '', 'date'),
		dno: inp('decision_no', '人社决定书文号 HRSS decision no.'),
		lines: h('textarea', { name: 'lines', rows: 3, disabled: !can.make(),
			placeholder: '每行一人 one per line: 身份证号 ID,金额 amount,YYYY-MM' }),
		nno: inp('notice_no', '退还通知书文号 HRSS release notice no.'),
	};
	const lines = () => f.lines.value.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => {
		const [id_number, amount, month] = l.split(/[,，\s]+/);
		return { id_number, amount, month };
	});
	const active = !g || g.state === 'active';
	return h('section.panel', { id: 'guarantee' },
		h('h2', '工资保证金 ', h('small', 'Wage guarantee (four eyes)')),
		g ? h('dl.facts',
			h('dt', '形式 Kind'), h('dd', g.kind, ' · ', g.state),
			h('dt', '应缴 Required'), h('dd', yuan(g.required) + ' 元'),
			h('dt', '实有 Held'), h('dd', yuan(g.held) + ' 元',
				g.short_since ? h('div.refusal', `不足自 short since ${g.short_since} · 须于 ${g.restore_by} 前补足 restore by`) : null),
			g.account ? [h('dt', '保证金账户 Account'), h('dd.mono', `${g.account.number} · ${yuan(g.account.balance)} 元 · ${g.account.state}`)] : null,
			g.release_notice ? [h('dt', '已退还 Released'), h('dd', `${g.release_notice} · ${when(g.released_at)}`)] : null)
			: h('p.empty', '尚未登记 / no guarantee registered'),
		g && g.letters.length ? table([th('出具银行', 'Issuer'), th('编号', 'Number'), th('金额 (元)', 'Amount', 'num'),
			th('可用 (元)', 'Left', 'num'), th('有效期', 'Valid')], g.letters.map((l) => h('tr',
			h('td', l.issuer), h('td.mono', l.number), h('td.num', yuan(l.amount)), h('td.num', yuan(l.left)),
			h('td', `${l.valid_from} – ${l.valid_to}`)))) : null,
		g && g.draws.length ? table([th('决定书', 'Decision'), th('来源', 'From'), th('状态', 'State'),
			th('人数', 'Lines', 'num'), th('金额 (元)', 'Total', 'num'), th('时间', 'When')], g.draws.map((d) => h('tr',
			h('td', d.decision_no), h('td', d.source), h('td', d.state), h('td.num', String((d.lines || []).length)),
			h('td.num', yuan(d.total)), h('td', when(d.created_at))))) : null,
		g && g.account ? table([th('入账日', 'Booked'), th('流水号', 'Entry'), th('付款人', 'Payer'), th('金额 (元)', 'Amount', 'num')],
			g.account.deposits.map((d) => h('tr', h('td', d.booking_date), h('td.mono', d.entry_ref),
				h('td', d.payer_name || '—'), h('td.num', yuan(d.amount)))), '保证金账户尚无入账 / no deposit yet') : null,
		active ? [
			form('guarantee-account', '', '登记保证金账户 Register account', [f.acc, f.req],
				() => ({ kind: 'ACCOUNT', account: f.acc.value, required: f.req.value })),
			form('guarantee-letter', '', '登记保函 Register letter', [f.iss, f.num, f.amt, f.vf, f.vt],
				() => ({ kind: 'LETTER', issuer: f.iss.value, number: f.num.value, amount: f.amt.value,
					valid_from: f.vf.value, valid_to: f.vt.value })),
			g ? form('guarantee-draw', '/draws', '动用 Draw', [f.dno, f.lines],
				() => ({ decision_no: f.dno.value, lines: lines() })) : null,
			g ? form('guarantee-release', '/release', '退还 Release', [f.nno],
				() => ({ notice_no: f.nno.value })) : null] : null);
}

/* A form that opens a worker's card history by their full ID number (typed
 * by the operator; the pages show ID numbers masked). */
function workerLookup() {
	const box = h('input', { name: 'id_number', maxlength: 18, placeholder: '身份证号 / ID number (18)' });
	return h('form.actions', {
		onsubmit: (ev) => { ev.preventDefault(); location.hash = '#/workers/' + encodeURIComponent(box.value.trim().toUpperCase()); },
	}, box, h('button.secondary', { type: 'submit' }, '查看 / Show'));
}

async function viewWorkerCards(idNumber) {
	const w = await api('GET', '/api/workers/' + encodeURIComponent(idNumber) + '/cards');
	mount(
		h('div.crumbs', h('a', { href: '#/projects' }, '项目 Projects'), ' / ', h('span.mono', w.id_number)),
		h('h1', '工资卡变更记录 ', h('small', 'Card history'), ' ', h('span.mono', w.id_number)),
		h('section.panel',
			h('h2', '花名册版本 ', h('small', 'Every version of the worker\'s roster entry (cards masked)')),
			table([th('项目', 'Project'), th('版本', 'Version', 'num'), th('姓名', 'Name'), th('工资卡', 'Wage card'),
				th('报送', 'Sent by'), th('', 'State')],
			w.versions.map((v) => h('tr' + (v.card_changed ? '.short' : ''),
				h('td', h('a', { href: `#/projects/${encodeURIComponent(v.project)}` }, v.project), h('div.note', v.project_name)),
				h('td.num', String(v.version)), h('td', v.name),
				h('td.mono', v.card, h('div.note', v.card_bank)),
				h('td', h('span.mono', v.sent_by), h('div.note', when(v.sent_at)), v.sent_subject ? h('div.note', v.sent_subject) : null),
				h('td', v.card_changed ? h('span.chip.warn', '换卡 card changed') : null,
					v.current ? h('span.chip.ok', '当前 current') : null))),
			'无 / none')));
}

async function viewSheet(id) {
	const s = await api('GET', '/api/sheets/' + encodeURIComponent(id));
	mount(
		h('div.crumbs', h('a', { href: '#/projects' }, '项目 Projects'), ' / ',
			h('a', { href: `#/projects/${encodeURIComponent(s.project)}` }, s.project), ' / ', s.msg_id),
		h('h1', '工资表 ', h('small', 'Wage sheet'), ' ', h('span.mono', s.msg_id), ' ', chip(L.sheetState, s.state)),
		h('div.cards',
			card('月份 / Month', s.month, s.project_name),
			card('分包单位 / Subcontractor', s.subcontractor.name || '—', s.subcontractor.uscc),
			card('受理 / Accepted', `${s.accepted} / ${s.lines}`, '行 lines accepted / submitted'),
			card('支付金额 / Amount', yuan(s.total), `元 · 申报 control sum ${yuan(s.ctrl_sum)}`,
				s.state === 'held' ? 'warn' : s.state === 'paid' ? 'ok' : null),
			card('时间 / Times', when(s.received_at), s.paid_at ? `支付 paid ${when(s.paid_at)}` : '未支付 not paid')),
		h('div.actions.no-print', { id: 'sheet-actions' },
			h('a.chip', { id: 'lines-csv', download: '',
				href: `/api/sheets/${encodeURIComponent(s.msg_id)}/lines.csv?contractor=${encodeURIComponent(s.contractor)}` },
			'导出明细 CSV / Export lines (CSV)'),
			h('a.chip', { id: 'print-voucher', href: `#/sheets/${encodeURIComponent(id)}/voucher` }, '打印凭证 / Print voucher')),
		h('p'),
		s.state === 'held'
			? h('div.banner', '余额不足，整表暂缓支付，入账后自动支付 / The account is short: the whole sheet is held and pays itself when money arrives')
			: null,
		h('section.panel',
			h('h2', '明细 ', h('small', `Lines (ID and card numbers masked) · ${s.line_list.length} shown`)),
			table([th('序号', '#', 'num'), th('端到端编号', 'EndToEndId'), th('姓名', 'Name'), th('身份证号', 'ID number'),
				th('工资卡', 'Wage card'), th('类型', 'Kind'), th('月份', 'Month'), th('实发 (元)', 'Net', 'num'),
				th('应发 (元)', 'Gross', 'num'), th('出勤', 'Days', 'num'), th('确认', 'Confirmed'), th('状态', 'Status')],
			s.line_list.map((l) => h('tr',
				h('td.num', String(l.seq)), h('td.mono', l.end_to_end_id), h('td', l.name),
				h('td.mono', l.id_number), h('td.mono', l.card, h('div.note', l.card_bank)),
				h('td', l.kind === 'WAGE' ? '工资 WAGE' : '补发 BACKPAY'), h('td', l.month),
				h('td.num', yuan(l.amount)), h('td.num', yuan(l.gross)), h('td.num', String(l.days_worked)),
				h('td', l.confirm_method, h('div.note', when(l.confirmed_at))),
				h('td', chip(L.lineStatus, l.status), l.outcome ? h('div.note', bi(L.outcome, l.outcome), l.outcome_reason ? ` (${l.outcome_reason})` : '') : null,
					l.reason_code ? h('div.note.refusal', `${l.reason_code}: ${l.reason_text}`) : null))),
			'无明细 / no lines')));
}

/* --- a worker's payments (issue 24): "was this worker paid for October?" ---- */

/* Why an ID number typed by an operator cannot be one (GB 11643: 17 digits
 * and a check digit, 0-9 or X), or null. */
function idNumberProblem(s) {
	if (!/^\d{17}[\dX]$/.test(s))
		return '身份证号应为 18 位：17 位数字加 1 位校验码（数字或 X）/ An ID number is 18 characters: 17 digits and a check digit (0-9 or X)';
	const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
	let sum = 0;
	for (let i = 0; i < 17; i++) sum += Number(s[i]) * w[i];
	if ('10X98765432'[sum % 11] !== s[17])
		return '身份证号校验码不符，请核对号码 / The check digit does not match: the number is mistyped';
	return null;
}

/* The answer for one month: paid (credited, or paid and not settled yet),
 * not received (every payment of it came back or was refused), or none. */
function monthVerdict(list, month) {
	const of = list.filter((p) => p.month === month);
	if (!of.length)
		return h('div.verdict.bad', { 'data-verdict': 'none' }, `${month}：无工资发放记录 / no wage payment found for ${month}`);
	const got = of.filter((p) => p.outcome === 'PAID' || p.outcome === 'CREDITED');
	if (!got.length)
		return h('div.verdict.bad', { 'data-verdict': 'failed' },
			`${month}：已发放但未到账（${of.map((p) => bi(L.outcome, p.outcome)).join('，')}）/ paid, but it did not reach the card`);
	return h('div.verdict.ok', { 'data-verdict': 'paid' },
		`${month}：已发放 / paid — `, got.map((p) => `${p.project} ${rmb(p.amount)} ${bi(L.outcome, p.outcome)}`).join('；'));
}

function paymentRows(list) {
	return list.map((p) => h('tr', { 'data-month': p.month },
		h('td', p.month, h('div.note', p.kind === 'WAGE' ? '工资 WAGE' : '补发 BACKPAY')),
		h('td', h('a', { href: `#/projects/${encodeURIComponent(p.project)}` }, p.project), h('div.note', p.project_name)),
		h('td.mono', p.sheet, h('div.note', p.end_to_end_id)),
		h('td.num', rmb(p.amount)),
		h('td', chip(L.outcome, p.outcome), ' ', h('span.mono.code', p.outcome), p.reason ? h('div.note', `原因 reason ${p.reason}`) : null),
		h('td', p.name, h('div.note.mono', p.card)),
		h('td.nowrap', when(p.paid_at))));
}

/* The ID number stays in the page: it is never put in the address (and so
 * in the browser's history); the answer shows it masked. */
async function viewWorkerPayments() {
	const id = h('input', { id: 'worker-id', name: 'id_number', maxlength: 18, autocomplete: 'off',
		placeholder: '18 位身份证号 / ID number', 'aria-label': 'ID number' });
	const month = h('input', { id: 'worker-month', name: 'month', type: 'month', 'aria-label': 'month' });
	const out = h('div', { id: 'worker-result' });
	const search = async () => {
		const v = id.value.trim().toUpperCase();
		const why = idNumberProblem(v);
		out.dataset.state = 'busy';
		if (why) {
			out.replaceChildren(h('p.refusal', { id: 'worker-error', role: 'alert' }, why));
			out.dataset.state = 'refused';
			return;
		}
		try {
			const w = await api('GET', '/api/workers/' + encodeURIComponent(v) + '/payments');
			out.replaceChildren(
				h('h2', '工人 ', h('span.mono', w.id_number), ' ', h('small', `${w.payments.length} 笔发放 payments, newest month first`)),
				month.value ? monthVerdict(w.payments, month.value) : null,
				table([th('月份', 'Month'), th('项目', 'Project'), th('工资表 / 明细', 'Sheet / EndToEndId'),
					th('金额', 'Amount (CNY)', 'num'), th('结果', 'Outcome'), th('姓名 / 工资卡', 'Name / card'), th('支付时间', 'Paid at')],
				paymentRows(w.payments), '该工人在任何项目都没有工资发放记录 / no wage was ever paid to this worker'));
			out.dataset.state = 'shown';
		} catch (e) {
			if (e instanceof Stale) return;
			out.replaceChildren(h('p.refusal', { id: 'worker-error', role: 'alert' }, explain(e)));
			out.dataset.state = 'refused';
		}
	};
	mount(
		h('h1', '工人工资查询 ', h('small', 'A worker\'s payments on every project')),
		h('section.panel',
			h('p.note', '输入工人身份证号（可选月份），查询其在所有项目的工资发放及到账结果。号码只用于本次查询，页面上显示脱敏号码。 / ',
				'Enter the worker\'s ID number (and a month, optionally) to see every wage paid to them on any project and whether it reached their card.'),
			h('form.actions', { id: 'worker-search', onsubmit: (ev) => { ev.preventDefault(); search(); } },
				id, month, h('button', { type: 'submit' }, '查询 / Search'))),
		h('section.panel', out));
	id.focus();
}

/* --- a sheet's voucher, to print (issue 24) ------------------------------------ */

/* Every line of a sheet (the API gives 1000 at a time). */
async function sheetWhole(id) {
	const s = await api('GET', '/api/sheets/' + encodeURIComponent(id));
	while (s.line_list.length < s.lines) {
		const more = await api('GET', `/api/sheets/${encodeURIComponent(id)}?offset=${s.line_list.length}`);
		if (!more.line_list.length) break;
		s.line_list.push(...more.line_list);
	}
	return s;
}

/* What GET /v1/sheets/{MsgId}/voucher gives the contractor, for an operator
 * to print for a worker or the contractor: the paid lines (masked), the
 * count and total of those that stayed paid, and whether the bank issues
 * the voucher signed. Lines whose money came back are shown, not counted. */
async function viewVoucher(id) {
	const s = await sheetWhole(id);
	const v = s.voucher || { issuable: false, count: 0, total: '0.00', back: 0 };
	const lines = s.line_list.filter((l) => !l.reason_code);
	mount(
		h('div.crumbs.no-print', h('a', { href: `#/sheets/${encodeURIComponent(id)}` }, '← 返回工资表 back to the sheet'), ' ',
			h('button', { type: 'button', id: 'print', onclick: () => window.print() }, '打印 / Print')),
		h('section.voucher', { id: 'voucher' },
			h('h1', '农民工工资代发凭证 ', h('small', 'Wage payment voucher')),
			h('dl.facts',
				h('dt', '工资表 MsgId'), h('dd.mono', s.msg_id),
				h('dt', '项目 Project'), h('dd', `${s.project} ${s.project_name || ''}`),
				h('dt', '专用账户 Dedicated account'), h('dd.mono', s.account),
				h('dt', '分包单位 Subcontractor'), h('dd', s.subcontractor.name || '—', ' ', h('span.mono', s.subcontractor.uscc)),
				h('dt', '工资月份 Month'), h('dd', s.month),
				h('dt', '支付时间 Paid at'), h('dd', s.paid_at ? when(s.paid_at) : '未支付 not paid'),
				h('dt', '笔数 Count'), h('dd', { id: 'voucher-count' }, String(v.count)),
				h('dt', '合计 Total'), h('dd', { id: 'voucher-total' }, rmb(v.total),
					v.back ? h('span.note', ` （另有 ${v.back} 笔资金退回，不计入 / ${v.back} line(s) came back, not counted）`) : null),
				h('dt', '银行签章 Bank signature'), h('dd', { id: 'voucher-signature' }, v.issuable
					? h('span.chip.ok', '已出具，由银行数字签名 / issued, signed by the bank')
					: h('span.chip.bad', '不出具：工资表未支付或全部退回 / not issued: the sheet is not paid, or every line came back'),
					h('div.note', '签名原件为银行签名的 XML 凭证（总承包经 GET /v1/sheets/{MsgId}/voucher 获取，任何信任本行证书者可验证）/ '
						+ 'the signed original is the XML voucher (GET /v1/sheets/{MsgId}/voucher), verifiable by anyone who trusts the bank'))),
			table([th('序号', '#', 'num'), th('端到端编号', 'EndToEndId'), th('姓名', 'Name'), th('身份证号', 'ID number'),
				th('工资卡', 'Wage card'), th('金额', 'Amount (CNY)', 'num'), th('到账', 'Settlement')],
			lines.map((l) => h('tr' + (l.status === 'returned' ? '.short' : ''),
				h('td.num', String(l.seq)), h('td.mono', l.end_to_end_id), h('td', l.name),
				h('td.mono', l.id_number), h('td.mono', l.card), h('td.num', rmb(l.amount)),
				h('td', l.outcome ? bi(L.outcome, l.outcome) : bi(L.lineStatus, l.status),
					l.status === 'returned' ? h('div.note', '不计入合计 not counted') : null))),
			'无已支付明细 / no paid line'),
			h('p.note', `打印时间 printed ${when(new Date().toISOString())} · 身份证号、卡号已脱敏 / ID and card numbers masked`)));
}

function deliveryCell(a) {
	if (!a.deliveries.length)
		return h('span.chip.bad', a.delivered ? '—' : '尚未投递 not yet sent');
	return a.deliveries.map((d) => h('div',
		h('strong', d.recipient || '（无接收单位）'), ' ', chip(L.delivery, d.state),
		h('div.note', `尝试 attempts ${d.attempts ?? 0}`,
			d.delivered_at ? ` · 送达 ${when(d.delivered_at)}` : d.next_attempt_at ? ` · 下次 next ${when(d.next_attempt_at)}` : '',
			d.last_error ? ` · ${d.last_error}` : '')));
}

async function viewAlerts(params) {
	const all = params.get('state') === 'all';
	const list = await api('GET', '/api/alerts' + (all ? '?state=all' : ''));
	const why = can.operate() ? null : READONLY_NOTE;
	mount(
		h('h1', '预警 ', h('small', 'Alerts to regulators')),
		h('div.actions',
			h('a', { href: '#/alerts', class: all ? '' : 'chip' }, '未送达 Undelivered'),
			h('a', { href: '#/alerts?state=all', class: all ? 'chip' : '' }, '全部 All')),
		h('p'),
		h('section.panel',
			table([th('时间', 'Raised'), th('类型', 'Kind'), th('项目', 'Project'), th('说明', 'Detail'),
				th('金额', 'Figures (CNY)', 'num'), th('送达情况', 'Delivery per recipient'), th('', '')],
			list.map((a) => h('tr', { 'data-alert': a.id },
				h('td', when(a.raised_at)),
				h('td', h('span.chip.bad', bi(L.alertKind, a.kind))),
				h('td', a.project ? h('a', { href: `#/projects/${encodeURIComponent(a.project)}` }, a.project) : '—',
					a.project_name ? h('div.note', a.project_name) : null),
				h('td.wrap.alert-text', zhCell(alertZh(a), a.kind, a.detail),
					h('div.note.mono', [a.account, a.month, a.msg_id, a.end_to_end_id].filter(Boolean).join(' · '))),
				h('td.num', a.shortfall ? `缺口 ${rmb(a.shortfall)}` : '', a.required ? h('div.note', `需 ${rmb(a.required)}`) : null,
					a.balance ? h('div.note', `余额 ${rmb(a.balance)}`) : null),
				h('td', deliveryCell(a)),
				h('td', a.delivered ? null : h('button.secondary', {
					type: 'button', disabled: !!why, title: why, 'data-retry': a.id,
					onclick: async () => {
						try {
							const r = await api('POST', `/api/alerts/${a.id}/retry`, {});
							flashNext(`已安排立即重发 / ${r.retried} delivery(ies) will be retried now`, true);
							route();
						} catch (e) { banner(explain(e)); }
					},
				}, '立即重发 Retry')))),
			all ? '尚无预警 / no alerts' : '全部已送达 / every alert has been delivered')));
}

async function viewApprovals(params) {
	const all = params.get('state') === 'all';
	const list = await api('GET', '/api/approvals' + (all ? '?state=all' : ''));
	mount(
		h('h1', '审批 ', h('small', 'Approvals (four eyes: a maker proposes, another checker decides)')),
		h('div.actions',
			h('a', { href: '#/approvals', class: all ? '' : 'chip' }, '待复核 Waiting'),
			h('a', { href: '#/approvals?state=all', class: all ? 'chip' : '' }, '全部 All')),
		h('p'),
		h('section.panel', table(approvalHeads(), approvalRows(list),
			all ? '尚无审批 / no approvals yet' : '没有待复核事项 / nothing waits for a checker')));
}

async function viewAudit(params) {
	const before = params.get('before');
	const [list, v] = await Promise.all([
		api('GET', '/api/audit' + (before ? '?before=' + encodeURIComponent(before) : '')),
		api('GET', '/api/audit/verify')]);
	const last = list.length ? list[list.length - 1].id : null;
	mount(
		h('h1', '审计日志 ', h('small', 'Audit trail (hash chained: one chain per dedicated account, one for the rest)')),
		h('section.panel', { id: 'verify' },
			h('div.verify',
				v.ok ? h('span.chip.ok.big', '链完整 Chain intact') : h('span.chip.bad.big', '链已断裂 Chain broken'),
				h('span', `共 ${v.records} 条记录 records, ${v.chains} 条链 chains`),
				v.ok ? null : h('span', { id: 'broken-chain' }, `断裂的链 broken chain: ${v.broken_chain}`),
				v.ok ? null : h('strong.refusal', { id: 'first-broken' }, `首个断点 first broken record: #${v.first_broken}`),
				h('button.secondary', { type: 'button', onclick: () => route() }, '重新校验 Verify again'))),
		h('section.panel',
			table([th('编号', 'No.', 'num'), th('链', 'Chain'), th('时间', 'At'), th('操作人', 'Actor'), th('动作', 'Action'),
				th('对象', 'Object'), th('说明', 'Detail'), th('哈希', 'Hash')],
			list.map((r) => h('tr' + (!v.ok && r.id === v.first_broken ? '.broken' : ''), { 'data-audit': r.id },
				h('td.num', String(r.id)), h('td.mono.brk', r.chain), h('td', when(r.at)), h('td.brk', r.actor),
				h('td', L.action[r.action] || r.action), h('td.mono.brk', r.object),
				h('td.wrap.audit-text', zhCell(auditZh(r), r.action, r.detail)),
				h('td.mono', { title: r.hash }, r.hash.slice(0, 12) + '…'))),
			'无记录 / no records'),
			h('p.actions',
				before ? h('a', { href: '#/audit' }, '最新 Newest') : null,
				last && list.length === 100 ? h('a', { href: '#/audit?before=' + last }, '更早 Older →') : null)));
}

/* A form row: label (Chinese, English) and its control. */
function row(zh, en, control) {
	return [h('label', { for: control.id }, zh, h('small', en)), control];
}

function input(id, attrs) {
	return h('input', Object.assign({ id, name: id, required: true }, attrs || {}));
}

function readonlyNote() {
	return can.make() ? null : h('p.refusal', me.role === 'viewer' ? READONLY_NOTE : '仅经办人可发起 / only a maker proposes');
}

async function viewNewProject() {
	const f = {
		code: input('code', { maxlength: 64, pattern: '[A-Za-z0-9][A-Za-z0-9._-]*', placeholder: 'XM-2026-0001' }),
		name: input('name', { maxlength: 200 }),
		region: input('region', { pattern: '[0-9]{6}', maxlength: 6, placeholder: '410183' }),
		industry: h('select', { id: 'industry', name: 'industry' },
			Object.keys(L.industry).map((k) => h('option', { value: k }, bi(L.industry, k)))),
		owner_uscc: input('owner_uscc', { maxlength: 18, placeholder: '18 位统一社会信用代码' }),
		owner_name: input('owner_name', { maxlength: 200 }),
		contractor_uscc: input('contractor_uscc', { maxlength: 18 }),
		contractor_name: input('contractor_name', { maxlength: 200 }),
		account: input('account', { maxlength: 34, pattern: '[0-9A-Za-z-]+' }),
		total: input('labour_cost_total', { inputmode: 'decimal', pattern: '[0-9]+(\\.[0-9]{1,2})?', placeholder: '12000000.00' }),
		months: input('contract_months', { type: 'number', min: 1, max: 240, value: 12 }),
		start: input('start_month', { type: 'month' }),
		payday: input('pay_day', { type: 'number', min: 1, max: 28, value: 15 }),
	};
	const fields = h('fieldset', { disabled: !can.make() },
		row('项目编号', 'Project code', f.code), row('项目名称', 'Project name', f.name),
		row('行政区划代码', 'Region (6 digits)', f.region), row('行业主管部门', 'Industry authority', f.industry),
		row('建设单位信用代码', 'Owner USCC', f.owner_uscc), row('建设单位名称', 'Owner name', f.owner_name),
		row('施工总承包信用代码', 'General contractor USCC', f.contractor_uscc),
		row('施工总承包名称', 'General contractor name', f.contractor_name),
		row('专用账户账号', 'Dedicated account number', f.account),
		row('人工费总额 (元)', 'Total labour cost (CNY)', f.total),
		row('工期 (月)', 'Contract months', f.months), row('开工月份', 'Start month', f.start),
		row('工资支付日', 'Pay day (1–28)', f.payday),
		h('span'), h('div.actions', h('button', { type: 'submit', id: 'propose' }, '提交开户申请 / Propose opening')));
	mount(
		h('h1', '开立专用账户申请 ', h('small', 'Propose a project and its dedicated account')),
		readonlyNote(),
		h('section.panel',
			h('p.note', '经办人提交后，须由另一名复核人批准方可开户。 / Takes effect only when a different checker approves.'),
			h('form.stack', {
				id: 'new-project',
				onsubmit: async (ev) => {
					ev.preventDefault();
					try {
						const r = await api('POST', '/api/projects', {
							code: f.code.value, name: f.name.value, region: f.region.value,
							industry: f.industry.value,
							owner: { uscc: f.owner_uscc.value, name: f.owner_name.value },
							contractor: { uscc: f.contractor_uscc.value, name: f.contractor_name.value },
							account: f.account.value, labour_cost_total: f.total.value,
							contract_months: parseInt(f.months.value, 10), start_month: f.start.value,
							pay_day: parseInt(f.payday.value, 10),
						});
						flashNext(`开户申请已提交：审批 #${r.approval}，待复核 / proposed as approval #${r.approval}; a checker must approve`, true);
						location.hash = '#/approvals';
					} catch (e) { banner(explain(e)); }
				},
			}, fields)));
}

async function viewMovement(params) {
	const deposit = input('deposit', { maxlength: 35, value: params.get('deposit') || '', placeholder: 'NtryRef' });
	const amount = input('amount', { inputmode: 'decimal', pattern: '[0-9]+(\\.[0-9]{1,2})?', placeholder: '整笔 whole deposit' });
	const reason = input('reason', { maxlength: 200 });
	mount(
		h('h1', '退还拨付申请 ', h('small', 'Propose the return of a deposit')),
		readonlyNote(),
		h('section.panel',
			h('p.note', '专用账户专款专用：人工支出只能是将某笔拨付原路退还付款方（至多该笔金额，仅一次），或销户时余额转付账户持有人；',
				'不得划入其他专用账户，也不得人工入账。须经双人复核并报告监管部门；待付工资表、本月计划人工费和退回留存所需资金不能转出。 / ',
				'The account pays its project\'s wages only: a manual debit is only the return of one deposit to its payer (at most its amount, once) or the payout of the balance at closing; ',
				'never to another dedicated account, and no money is put on it by hand. It takes a maker and a different checker and is reported to the regulators; what the account owes its workers (held sheets, this month\'s planned labour cost, earmarked returns) cannot leave.'),
			h('form.stack', {
				id: 'movement',
				onsubmit: async (ev) => {
					ev.preventDefault();
					try {
						const body = { deposit: deposit.value, reason: reason.value };
						if (amount.value) body.amount = amount.value;
						const r = await api('POST', '/api/movements', body);
						flashNext(`划转申请已提交：审批 #${r.approval}，待复核 / proposed as approval #${r.approval}`, true);
						location.hash = '#/approvals';
					} catch (e) { banner(explain(e)); }
				},
			}, h('fieldset', { disabled: !can.make() },
				row('拨付流水号', 'Deposit (NtryRef)', deposit),
				row('金额 (元)', 'Amount (CNY)', amount), row('理由', 'Reason', reason),
				h('span'), h('div.actions', h('button', { type: 'submit' }, '提交退还申请 / Propose return'))))));
}

/* --- routing ------------------------------------------------------------------ */

const views = [
	[/^\/overview$/, () => viewOverview(), 'overview'],
	[/^\/projects$/, (m, q) => viewProjects(q), 'projects'],
	[/^\/projects\/([^/]+)$/, (m) => viewProject(decodeURIComponent(m[1])), 'projects'],
	[/^\/sheets\/(\d+)$/, (m) => viewSheet(m[1]), 'projects'],
	[/^\/sheets\/(\d+)\/voucher$/, (m) => viewVoucher(m[1]), 'projects'],
	[/^\/worker-payments$/, () => viewWorkerPayments(), 'worker-payments'],
	[/^\/workers\/([0-9Xx]{18})$/, (m) => viewWorkerCards(decodeURIComponent(m[1]).toUpperCase()), 'projects'],
	[/^\/alerts$/, (m, q) => viewAlerts(q), 'alerts'],
	[/^\/approvals$/, (m, q) => viewApprovals(q), 'approvals'],
	[/^\/audit$/, (m, q) => viewAudit(q), 'audit'],
	[/^\/new-project$/, () => viewNewProject(), 'new-project'],
	[/^\/movement$/, (m, q) => viewMovement(q), 'movement'],
];

async function route() {
	if (!me) {
		try {
			me = await api('GET', '/api/session');
		} catch (e) {
			showSignin(e.status === 401 ? '' : explain(e));
			return;
		}
	}
	setFrame(true);
	const hash = location.hash.replace(/^#/, '') || '/overview';
	const [path, qs] = hash.split('?');
	const params = new URLSearchParams(qs || '');
	current = {};
	banner(null);
	if (flash) { banner(...flash); flash = null; }
	for (const [re, fn, tab] of views) {
		const m = re.exec(path);
		if (!m) continue;
		for (const a of document.querySelectorAll('#nav a'))
			a.classList.toggle('on', a.dataset.view === tab);
		const main = document.getElementById('main');
		const me0 = current;
		delete main.dataset.ready;
		try {
			await fn(m, params);
			/* for tests and assistive tools: this view is drawn */
			if (me0 === current) main.dataset.ready = path;
		} catch (e) {
			if (e instanceof Stale || e.status === 401) return;
			mount(h('h1', '出错了 ', h('small', 'Something went wrong')),
				h('p.refusal', e.status === 404 ? '未找到 / not found' : explain(e)));
		}
		return;
	}
	location.hash = '#/overview';
}

document.getElementById('signout').addEventListener('click', async () => {
	try { await api('DELETE', '/api/session'); } catch (e) { /* signed out either way */ }
	me = null;
	history.replaceState(null, '', location.pathname);
	showSignin('已退出 / signed out');
});
window.addEventListener('hashchange', route);
route();
