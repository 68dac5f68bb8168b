// totp.mjs: an operator's next second-factor code for the browser tests, as
// tests/integration/lib.sh's totp_code computes it (the daemon accepts a
// code once): tests/tools/totp over the URI --add-operator printed, each
// time step once (the step files in WP_TOTP_DIR).
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export function totpCode(name) {
	const tool = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'tools', 'totp');
	const dir = process.env.WP_TOTP_DIR;
	return execFileSync(tool, [path.join(dir, `totp-${name}`), path.join(dir, `totp-step-${name}`)])
		.toString().trim();
}
